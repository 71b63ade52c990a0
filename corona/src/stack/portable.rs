//! The portable stack allocator: one corosensei `DefaultStack` per stack.
//!
//! Used on every platform but Linux, and on Linux when built with
//! `RUSTFLAGS="--cfg corona_portable_stacks"` (which is how this path is tested). Each
//! stack is its own mapping with a guard page below it, made by corosensei, which also
//! registers it with valgrind. The per-thread pool above (`pool`) keeps idle stacks with
//! the same bound as on Linux; a stack it releases is unmapped.
//!
//! Overflow is left to the operating system: the guard page faults and the process dies
//! (`SIGSEGV` on Unix, an access violation on Windows) without corona's message.

use core::ops::Range;
use std::collections::BTreeMap;
use std::io;
use std::sync::{Mutex, PoisonError};

// The trait's methods, without its name (this module's stack type is called `Stack` too).
use corosensei::stack::Stack as _;
use corosensei::stack::{DefaultStack, StackPointer};

/// One coroutine stack: a `DefaultStack` of at least `size` usable bytes.
pub(crate) struct Stack {
    inner: DefaultStack,
    /// The size it was asked for (a multiple of the page size): what the pool matches on.
    size: usize,
}

impl core::fmt::Debug for Stack {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stack").field("size", &self.size).finish()
    }
}

impl Stack {
    /// The usable size this stack was made for.
    #[inline]
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        live().remove(&(self.inner.base().get() - self.size));
        // `inner` unmaps itself (and withdraws its valgrind registration).
    }
}

// SAFETY: forwards to `DefaultStack`, whose impl upholds the contract (a guard page below
// at least `size >= MIN_STACK_SIZE` usable bytes, aligned bounds).
unsafe impl corosensei::stack::Stack for Stack {
    #[inline]
    fn base(&self) -> StackPointer {
        self.inner.base()
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        self.inner.limit()
    }

    #[cfg(windows)]
    #[inline]
    fn teb_fields(&self) -> corosensei::stack::StackTebFields {
        self.inner.teb_fields()
    }

    #[cfg(windows)]
    #[inline]
    fn update_teb_fields(&mut self, stack_limit: usize, guaranteed_stack_bytes: usize) {
        self.inner
            .update_teb_fields(stack_limit, guaranteed_stack_bytes)
    }
}

/// The usable ranges of the live stacks, by start, for `stack_usage`.
fn live() -> std::sync::MutexGuard<'static, BTreeMap<usize, usize>> {
    static LIVE: Mutex<BTreeMap<usize, usize>> = Mutex::new(BTreeMap::new());
    // Nothing panics under the lock: the map is always consistent.
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Up to `count` fresh stacks of `size` usable bytes (a multiple of the page size): a refill
/// that does not fit settles for the stacks it got, as the slab allocator's settles for one.
///
/// # Panics
///
/// When the operating system refuses the memory for the first stack, or the size does not
/// fit the address space.
pub(crate) fn allocate_many(size: usize, count: usize) -> Vec<Stack> {
    let mut stacks = Vec::with_capacity(count);
    for _ in 0..count {
        match allocate(size) {
            Ok(stack) => stacks.push(stack),
            Err(_) if !stacks.is_empty() => break,
            Err(err) => allocation_failed(size, err),
        }
    }
    stacks
}

fn allocate(size: usize) -> io::Result<Stack> {
    // corosensei adds a guard page and rounds up with unchecked-overflow `expect`s: refuse
    // sizes that cannot fit first, with corona's own message.
    let fits = size
        .checked_add(4 * page_size())
        .is_some_and(|total| total <= isize::MAX as usize);
    if !fits {
        return Err(io::ErrorKind::OutOfMemory.into());
    }
    let inner = DefaultStack::new(size)?;
    let top = inner.base().get();
    live().insert(top - size, top);
    Ok(Stack { inner, size })
}

#[cold]
#[inline(never)]
fn allocation_failed(size: usize, err: io::Error) -> ! {
    panic!(
        "corona: could not allocate a coroutine stack of {size} bytes: {err}; the \
         process is out of memory, or the size is absurd: keep fewer coroutines alive or \
         give them smaller stacks with #[corona::coroutine(stack_size = ...)] or \
         Builder::stack_size"
    )
}

/// Gives idle stacks back: each is unmapped.
pub(crate) fn release(stacks: Vec<Stack>) {
    drop(stacks);
}

/// The size of a memory page.
pub(super) fn page_size() -> usize {
    #[cfg(unix)]
    {
        static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        *PAGE.get_or_init(|| {
            // SAFETY: `sysconf` only reads a configuration value.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            usize::try_from(page)
                .ok()
                .filter(|p| p.is_power_of_two())
                .unwrap_or(4096)
        })
    }
    #[cfg(not(unix))]
    {
        4096
    }
}

/// The usable range of the live corona stack that contains `addr`, if any.
pub(super) fn stack_containing(addr: usize) -> Option<Range<usize>> {
    let live = live();
    let (&start, &end) = live.range(..=addr).next_back()?;
    (addr < end).then_some(start..end)
}

/// Bytes of `range` that are resident (`mincore`, on Unix). Elsewhere, from the top of
/// the range down to the caller's frame, in whole pages: what is used now, a lower bound.
pub(super) fn touched(range: Range<usize>) -> usize {
    let page = page_size();
    #[cfg(unix)]
    if let Some(resident) = super::resident::resident_bytes(range.clone(), page) {
        return resident;
    }
    let here = core::hint::black_box(0u8);
    let used = range.end - core::ptr::addr_of!(here) as usize;
    used.div_ceil(page) * page
}
