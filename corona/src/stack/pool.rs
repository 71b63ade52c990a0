//! The per-thread pool of idle stacks.
//!
//! A stack never changes thread while a coroutine runs on it, and a finished coroutine's
//! stack is handed back on the thread that dropped it. Keeping the pool thread-local makes
//! taking and giving a stack a `Vec` pop or push with no lock and no syscall: ~20 ns
//! against ~1.4 µs for a stack whose memory went back to the kernel (its first page faults
//! in again, and it is released again later).
//!
//! The pool keeps up to [`stack_pool_limit`] idle stacks with their memory. When a burst
//! brings back more, it releases the extra ones, oldest first, in batches (a quarter of the
//! limit, at most 64 at a time, one `madvise` per run of neighbouring stacks): their
//! memory returns to the kernel and their address space to the process-wide allocator. So
//! a thread holds at most `limit + 63` idle stacks between batches.
//!
//! Invariant (`corona::scope` relies on it for soundness): a stack enters the pool only from
//! `RawCoroutine`'s destructor, so a stack is reused or released only after its coroutine was
//! dropped, never when it was leaked, also not at thread exit. A leaked coroutine's stack,
//! and what other stacks borrow from it, stays valid for ever.

use core::cell::RefCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{normalize, slab, Stack};

/// How many idle stacks a thread keeps ready, with their memory, by default: 1024.
///
/// Measured on a 2 vCPU VM (`cargo bench -p corona --bench stacks`): a coroutine on a
/// stack from the pool is spawned, suspended and completed in ~0.7 µs; on a stack whose
/// memory went back to the kernel it costs ~1.4 µs more (a page fault now, `MADV_DONTNEED`
/// later). A thread may therefore run bursts of up to 1024 concurrent coroutines with no
/// page fault and no syscall. The price is what idle stacks hold: the pages their last
/// coroutine touched, one 4 KiB page for a coroutine that waits on I/O, so ~4 MiB per
/// thread (more if the coroutines ran deep).
pub const DEFAULT_STACK_POOL_LIMIT: usize = 1024;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_STACK_POOL_LIMIT);

/// Sets how many idle stacks each thread keeps ready with their memory (default
/// [`DEFAULT_STACK_POOL_LIMIT`]). Stacks returned beyond it give their memory back to the
/// kernel, so after a burst of coroutines a thread's resident memory falls back to about
/// `limit` stacks' worth. `0` returns every stack's memory as soon as its coroutine ends
/// (lowest memory, a page fault on every new coroutine).
///
/// Applies to every thread from their next returned stack on.
///
/// # Examples
///
/// ```
/// // A memory-tight service: keep only 16 warm stacks per thread.
/// corona::set_stack_pool_limit(16);
/// assert_eq!(corona::stack_pool_limit(), 16);
/// # corona::set_stack_pool_limit(corona::DEFAULT_STACK_POOL_LIMIT);
/// ```
pub fn set_stack_pool_limit(stacks: usize) {
    LIMIT.store(stacks, Ordering::Relaxed);
}

/// How many idle stacks each thread keeps ready with their memory: see
/// [`set_stack_pool_limit`].
///
/// # Examples
///
/// ```
/// assert_eq!(corona::stack_pool_limit(), corona::DEFAULT_STACK_POOL_LIMIT);
/// ```
#[inline]
pub fn stack_pool_limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

struct Pool {
    /// Idle stacks, most recently returned last.
    idle: Vec<Stack>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        // The thread is exiting: its idle stacks go back to the process-wide allocator.
        slab::release(core::mem::take(&mut self.idle));
    }
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { idle: Vec::new() }) };
}

/// A stack of `size` bytes (at least), from the pool when one of that size is idle.
pub(crate) fn take(size: usize) -> Stack {
    let size = normalize(size);
    let reused = POOL
        .try_with(|pool| {
            let idle = &mut pool.borrow_mut().idle;
            // The common case: the most recently returned stack has the size. `pop` moves it
            // out as two words; `swap_remove` of the last element would copy it onto itself
            // with one 16-byte load, which stalls on the two 8-byte stores `give` just made
            // (no store forwarding), measured at ~3 ns per coroutine.
            if idle.last().is_some_and(|s| s.size() == size) {
                return idle.pop();
            }
            let at = idle.iter().rposition(|s| s.size() == size)?;
            Some(idle.swap_remove(at))
        })
        .ok()
        .flatten();
    reused.unwrap_or_else(|| refill(size))
}

/// Stacks fetched from the allocator at once when the pool has none of a size: one lock
/// and one syscall to pre-fault their first pages, instead of one page fault each.
const REFILL: usize = 32;

#[cold]
fn refill(size: usize) -> Stack {
    let mut stacks = slab::allocate_many(size, REFILL);
    let first = stacks.pop().expect("REFILL > 0");
    let _ = POOL.try_with(|pool| pool.borrow_mut().idle.append(&mut stacks));
    first
}

/// Gives a stack back. Beyond the limit, the oldest idle stacks are released.
#[inline]
pub(crate) fn give(stack: Stack) {
    // The common case (below the limit) is a push that reports `false`: no `Vec` is built
    // or returned. (When the thread is exiting, `try_with` fails and the stack was dropped:
    // released.)
    let over_limit = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.idle.push(stack);
        pool.idle.len() >= trim_threshold(stack_pool_limit())
    });
    if over_limit == Ok(true) {
        trim();
    }
}

/// How many idle stacks trigger a release: the limit plus a batch (a quarter of the limit,
/// 1 to 64 stacks), so that stacks are released a batch at a time.
#[inline]
fn trim_threshold(limit: usize) -> usize {
    limit.saturating_add((limit / 4).clamp(1, 64))
}

/// Releases the oldest idle stacks, down to the limit.
#[cold]
fn trim() {
    let limit = stack_pool_limit();
    let extra = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let extra = pool.idle.len().saturating_sub(limit);
        pool.idle.drain(..extra).collect::<Vec<_>>()
    });
    // Released outside the borrow: `release` makes syscalls and takes a lock.
    if let Ok(extra) = extra {
        slab::release(extra);
    }
}
