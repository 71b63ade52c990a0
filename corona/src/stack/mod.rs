//! Coroutine stacks: where they come from, how they are reused, what happens on overflow.
//!
//! * [`slab`]: the process-wide allocator. Stacks are carved out of 64 MiB mappings with a
//!   guard page below each (`MADV_GUARD_INSTALL`, so a million stacks need a few thousand
//!   mappings, not two million), or one mapping each where the kernel is too old.
//! * [`pool`]: a per-thread cache of idle stacks. Taking and giving one is a `Vec` pop or
//!   push, no syscall; it keeps what recent bursts needed and, once demand falls, returns
//!   the memory of the stacks beyond a configurable bound to the kernel (`MADV_DONTNEED`)
//!   over a few seconds, so RSS falls after a burst.
//! * [`overflow`]: a `SIGSEGV`/`SIGBUS` handler that turns a fault in a corona guard page
//!   into a message naming the stack size and how to raise it, instead of a bare crash.
//! * [`usage`]: a debug aid that tells how much of the current coroutine's stack is used.
//!
//! All the `unsafe` of these modules sits in `sys` (the memory syscalls), `overflow` and
//! the `corosensei::stack::Stack` impl below.

mod overflow;
pub(crate) mod pool;
mod registry;
mod slab;
mod sys;
mod usage;

pub use pool::{set_stack_pool_limit, stack_pool_limit, trim_stack_pool, DEFAULT_STACK_POOL_LIMIT};
pub use usage::{stack_usage, StackUsage};

use corosensei::stack::StackPointer;

/// Stack size when none is asked for: 256 KiB.
///
/// Enough for 128 levels of recursion with 1 KiB frames in a debug build (tested), and
/// for deep sync parsers. Only touched pages cost memory; the rest is address space.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack corona hands out, whatever was asked for.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// One coroutine stack: `size` usable bytes below `top`, and a guard page below those.
///
/// Dropping it releases it to the allocator (memory returned to the kernel); the pool
/// keeps stacks instead, so that reusing one costs no syscall.
#[derive(Debug)]
pub(crate) struct Stack {
    /// The highest address (exclusive): stacks grow down from here.
    top: usize,
    /// Usable bytes: a multiple of the page size.
    size: usize,
}

impl Stack {
    /// The usable size this stack was made for.
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        slab::release(vec![Stack {
            top: self.top,
            size: self.size,
        }]);
    }
}

/// Rounds a requested size to what corona hands out: at least [`MIN_STACK_SIZE`], a whole
/// number of pages.
///
/// Runs on every coroutine creation, so it rounds with a mask (the page size is a power of
/// two) instead of a division. A size too large to round up saturates to the largest whole
/// number of pages, which the allocator then refuses with its usual message.
#[inline]
pub(crate) fn normalize(size: usize) -> usize {
    let page_mask = sys::page_size() - 1;
    size.max(MIN_STACK_SIZE).saturating_add(page_mask) & !page_mask
}

// SAFETY: `top` is the end of a readable, writable range of `size >= MIN_STACK_SIZE` bytes
// (more than corosensei's minimum) owned by this `Stack`, and the page below it is a guard
// page (`slab` never hands out a slot whose guard could not be installed). Both addresses
// are page aligned, so aligned to `STACK_ALIGNMENT`, and non-zero.
unsafe impl corosensei::stack::Stack for Stack {
    #[inline]
    fn base(&self) -> StackPointer {
        StackPointer::new(self.top).expect("a stack top is never address 0")
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        StackPointer::new(self.top - self.size - sys::page_size())
            .expect("a stack is never mapped at address 0")
    }
}
