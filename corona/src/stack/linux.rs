//! The Linux fast path's stack: a slot of a slab (see `slab`), found again by address
//! through the `registry`.

use core::ops::Range;

use corosensei::stack::valgrind::ValgrindStackRegistration;
use corosensei::stack::StackPointer;

use super::{registry, slab, sys};

pub(super) use sys::page_size;

/// One coroutine stack: `size` usable bytes below `top`, and a guard page below those.
///
/// Dropping it releases it to the allocator (memory returned to the kernel); the pool
/// keeps stacks instead, so that reusing one costs no syscall.
#[derive(Debug)]
pub(crate) struct Stack {
    /// The highest address (exclusive): stacks grow down from here. Kept as corosensei's
    /// `StackPointer` (non-zero), so that handing it to every switch checks nothing.
    top: StackPointer,
    /// Usable bytes: a multiple of the page size.
    size: usize,
}

impl Stack {
    /// The stack of `size` usable bytes below `top`, which must be a slot's top (non-zero).
    #[inline]
    pub(super) fn new(top: usize, size: usize) -> Self {
        let top = StackPointer::new(top).expect("a stack top is never address 0");
        Stack { top, size }
    }

    /// The highest address (exclusive).
    #[inline]
    pub(super) fn top(&self) -> usize {
        self.top.get()
    }

    /// The usable size this stack was made for.
    #[inline]
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        slab::release_slot(self.top(), self.size);
    }
}

// SAFETY: `top` is the end of a readable, writable range of `size >= MIN_STACK_SIZE` bytes
// (more than corosensei's minimum) owned by this `Stack`, and the page below it is a guard
// page (`slab` never hands out a slot whose guard could not be installed). Both addresses
// are page aligned, so aligned to `STACK_ALIGNMENT`, and non-zero. corosensei's `sanitizer`
// feature reads the bounds from `base` and `limit`, which are exact.
unsafe impl corosensei::stack::Stack for Stack {
    #[inline]
    fn base(&self) -> StackPointer {
        self.top
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        StackPointer::new(self.top() - self.size - sys::page_size())
            .expect("a stack is never mapped at address 0")
    }
}

/// Tells valgrind that the `size` bytes below `top` are a stack, so that it accepts the
/// stack pointer moving there (a no-op, a few instructions, when not under valgrind).
///
/// Called once per slot when it is carved; dropping the registration withdraws it, which
/// the allocator does when it unmaps the stack.
pub(super) fn register_with_valgrind(top: usize, size: usize) -> ValgrindStackRegistration {
    ValgrindStackRegistration::new((top - size) as *mut u8, size)
}

/// The usable range of the corona stack that contains `addr`, if any.
pub(super) fn stack_containing(addr: usize) -> Option<Range<usize>> {
    let slot = registry::slot_of(addr)?;
    let range = slot.start + sys::page_size()..slot.start + slot.len;
    range.contains(&addr).then_some(range)
}

/// Bytes of `range` that are resident: the pages ever written since the stack was last
/// released.
pub(super) fn touched(range: Range<usize>) -> usize {
    super::resident::resident_bytes(range, sys::page_size()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    /// The `SIGSEGV` action in force now.
    fn segv_action() -> libc::sighandler_t {
        // SAFETY: `sigaction` is plain data; all-zero is valid.
        let mut action: libc::sigaction = unsafe { core::mem::zeroed() };
        // SAFETY: only reads the current action into a valid out-pointer.
        let ret = unsafe { libc::sigaction(libc::SIGSEGV, core::ptr::null(), &mut action) };
        assert_eq!(ret, 0);
        action.sa_sigaction
    }

    #[test]
    fn the_overflow_handler_is_installed_only_with_its_feature() {
        let before = segv_action();
        let c = crate::Coroutine::new(|| 2);
        assert_eq!(futures::executor::block_on(c), 2);
        let after = segv_action();
        #[cfg(feature = "overflow-report")]
        assert_eq!(after, super::super::overflow::handler_address());
        #[cfg(not(feature = "overflow-report"))]
        assert_eq!(after, before, "no handler without `overflow-report`");
        let _ = before;
    }
}
