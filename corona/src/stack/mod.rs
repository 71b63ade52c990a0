//! Coroutine stacks: where they come from, how they are reused, what happens on overflow.
//!
//! Two allocators sit behind one [`Stack`] type and one per-thread [`pool`]:
//!
//! * On Linux (the fast path, `cfg(target_os = "linux")`):
//!   * [`slab`]: the process-wide allocator. Stacks are carved out of 64 MiB mappings with
//!     a guard page below each (`MADV_GUARD_INSTALL`, so a million stacks need a few
//!     thousand mappings, not two million), or one mapping each where the kernel is too
//!     old, where `CORONA_STACK_GUARD=mprotect` asks for it, or under valgrind (detected;
//!     every stack is registered with valgrind when it is carved). Slabs stay mapped; a
//!     stack with a mapping of its own is unmapped when the pool releases it.
//!   * [`overflow`] (feature `overflow-report`, on by default): a `SIGSEGV`/`SIGBUS`
//!     handler that turns a fault in a corona guard page into a message naming the stack
//!     size and how to raise it, instead of a bare crash.
//! * Everywhere else, and on Linux when built with `--cfg corona_portable_stacks`:
//!   [`portable`], corosensei's `DefaultStack` (one mapping with a guard page per stack,
//!   registered with valgrind by corosensei). Overflow is the operating system's crash.
//! * [`pool`]: a per-thread cache of idle stacks, the same on every platform. Taking and
//!   giving one is a `Vec` pop or push, no syscall; it keeps what recent bursts needed and,
//!   once demand falls, hands the stacks beyond a configurable bound back to the allocator
//!   over a few seconds, so memory falls after a burst.
//! * [`usage`]: a debug aid that tells how much of the current coroutine's stack is used.
//!
//! All the `unsafe` of these modules sits in `sys` (the memory syscalls), `overflow`,
//! `portable` (`sysconf`, `mincore`) and the `corosensei::stack::Stack` impls of the two
//! `Stack` types.

// The Linux fast path. Keep this list in step with `portable` below.
#[cfg(all(target_os = "linux", not(corona_portable_stacks)))]
mod linux;
#[cfg(all(
    target_os = "linux",
    not(corona_portable_stacks),
    feature = "overflow-report"
))]
mod overflow;
#[cfg(all(target_os = "linux", not(corona_portable_stacks)))]
mod registry;
#[cfg(all(target_os = "linux", not(corona_portable_stacks)))]
mod slab;
#[cfg(all(target_os = "linux", not(corona_portable_stacks)))]
mod sys;
#[cfg(all(target_os = "linux", not(corona_portable_stacks)))]
use linux as backend;

/// Without the `overflow-report` feature no handler and no alternate signal stack are
/// installed: an overflow is the operating system's plain `SIGSEGV`.
#[cfg(all(
    target_os = "linux",
    not(corona_portable_stacks),
    not(feature = "overflow-report")
))]
mod overflow {
    pub(crate) fn prepare_thread() {}
}

// Every other platform, and Linux with `--cfg corona_portable_stacks`.
#[cfg(any(not(target_os = "linux"), corona_portable_stacks))]
mod portable;
// `pool` takes stacks from and gives them back to `slab`, whichever allocator that is.
#[cfg(any(not(target_os = "linux"), corona_portable_stacks))]
use portable as slab;
#[cfg(any(not(target_os = "linux"), corona_portable_stacks))]
use portable as backend;

pub(crate) mod pool;
#[cfg(unix)]
mod resident;
mod usage;

pub use pool::{set_stack_pool_limit, stack_pool_limit, trim_stack_pool, DEFAULT_STACK_POOL_LIMIT};
pub use usage::{stack_usage, StackUsage};

pub(crate) use backend::Stack;

/// Stack size when none is asked for: 256 KiB.
///
/// Enough for 128 levels of recursion with 1 KiB frames in a debug build (tested), and
/// for deep sync parsers. Only touched pages cost memory; the rest is address space.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack corona hands out, whatever was asked for: 32 KiB.
///
/// A panic's hook runs on the stack of the coroutine that panicked, and printing a
/// backtrace (`RUST_BACKTRACE=1`) takes about 21 KiB of it: a smaller stack would turn the
/// first panic of a shallow body into a stack overflow, which aborts the process.
pub const MIN_STACK_SIZE: usize = 32 * 1024;

/// Rounds a requested size to what corona hands out: at least [`MIN_STACK_SIZE`], a whole
/// number of pages.
///
/// Runs on every coroutine creation, so it rounds with a mask (the page size is a power of
/// two) instead of a division. A size too large to round up saturates to the largest whole
/// number of pages, which the allocator then refuses with its usual message ("could not
/// allocate a coroutine stack").
#[inline]
pub(crate) fn normalize(size: usize) -> usize {
    let page_mask = backend::page_size() - 1;
    size.max(MIN_STACK_SIZE).saturating_add(page_mask) & !page_mask
}
