//! The per-thread pool of idle stacks.
//!
//! A stack never changes thread while a coroutine runs on it, and a finished coroutine's
//! stack is handed back on the thread that dropped it. Keeping the pool thread-local makes
//! taking and giving a stack a `Vec` pop or push with no lock and no syscall: ~20 ns
//! against ~1.4 µs for a stack whose memory went back to the kernel (its first page faults
//! in again, and it is released again later).
//!
//! How many idle stacks a pool keeps follows demand, as jemalloc's decay of dirty pages
//! does. The pool remembers the most stacks its thread had in use at once in each quarter
//! second and keeps enough idle ones to serve that many again: fully for [`DECAY_HOLD`],
//! then fading linearly to nothing over [`DECAY_FADE`]; the idle stacks beyond
//! [`stack_pool_limit`] that this demand no longer covers are released a portion at a time.
//! So a repeated burst finds its stacks warm, a stack returned while a large burst drains
//! slowly is kept at least a second after its return, and a burst that does not come back
//! holds its memory for a few seconds only.
//!
//! The decay needs no background thread: every few stacks returned above the limit, the
//! pool reads the clock and releases what the demand no longer covers. A thread that runs
//! no more coroutines keeps its idle stacks until [`trim_stack_pool`] or its exit.
//!
//! Released stacks go back in batches (one `madvise` per run of neighbouring stacks): their
//! memory returns to the kernel and their address space to the process-wide allocator. A
//! stack that is a mapping of its own (Linux without `MADV_GUARD_INSTALL`, valgrind,
//! `CORONA_STACK_GUARD=mprotect`, the portable allocator) is unmapped instead.
//!
//! Invariant (`corona::scope` relies on it for soundness): a stack enters the pool only from
//! `RawCoroutine`'s destructor, so a stack is reused or released only after its coroutine was
//! dropped, never when it was leaked, also not at thread exit. A leaked coroutine's stack,
//! and what other stacks borrow from it, stays valid for ever.

use core::cell::RefCell;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{normalize, slab, Stack};

/// How many idle stacks a thread keeps ready, with their memory, once demand has faded:
/// 1024 by default.
///
/// Measured on a 2 vCPU VM (`cargo bench -p corona --bench stacks`): a coroutine on a
/// stack from the pool is spawned, suspended and completed in ~0.7 µs; on a stack whose
/// memory went back to the kernel it costs ~1.4 µs more (a page fault now, `MADV_DONTNEED`
/// later). A thread may therefore run bursts of up to 1024 concurrent coroutines with no
/// page fault and no syscall, whenever they come. The price is what idle stacks hold: the
/// pages their last coroutine touched, one 4 KiB page for a coroutine that waits on I/O, so
/// ~4 MiB per thread (more if the coroutines ran deep). Larger bursts are served warm too
/// while they repeat within seconds (see [`set_stack_pool_limit`]).
pub const DEFAULT_STACK_POOL_LIMIT: usize = 1024;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_STACK_POOL_LIMIT);

/// Counts [`trim_stack_pool`] calls: a pool that sees a new count trims itself.
static TRIMS: AtomicUsize = AtomicUsize::new(0);

/// How long the most stacks a thread had in use at once stay fully remembered.
const DECAY_HOLD: Duration = Duration::from_secs(1);

/// How long the remembered demand then takes to fade to nothing.
const DECAY_FADE: Duration = Duration::from_secs(2);

/// Demand is remembered per epoch of this length: the peak of each of the last [`EPOCHS`].
const EPOCH: Duration = Duration::from_millis(250);

/// Epochs remembered: as many as [`DECAY_HOLD`] and [`DECAY_FADE`] span.
const EPOCHS: usize = 12;

/// Stacks returned above the limit between two readings of the clock: the decay is checked
/// every so many, so that a burst's return costs a counter, not a clock read, per stack.
const CLOCK_EVERY: u32 = 8;

/// Sets how many idle stacks each thread keeps ready with their memory once a burst is
/// over (default [`DEFAULT_STACK_POOL_LIMIT`]).
///
/// Above the limit, retention follows demand: after a burst of `n` concurrent coroutines a
/// thread keeps enough idle stacks for `n` more for about a second, so that a repeated
/// burst reuses them without a page fault; if no such burst comes, it gives their memory
/// back to the kernel over the next two seconds, down to `limit` stacks. (The decay
/// advances as the thread's coroutines end; [`trim_stack_pool`] skips it.) `0` keeps
/// nothing: every stack's memory is returned as soon as its coroutine ends, whatever the
/// demand (lowest memory, a page fault on every new coroutine).
///
/// Applies to every thread from their next returned stack on.
///
/// # Examples
///
/// ```
/// // A memory-tight service: keep only 16 warm stacks per thread once bursts are over.
/// corona::set_stack_pool_limit(16);
/// assert_eq!(corona::stack_pool_limit(), 16);
/// # corona::set_stack_pool_limit(corona::DEFAULT_STACK_POOL_LIMIT);
/// ```
pub fn set_stack_pool_limit(stacks: usize) {
    LIMIT.store(stacks, Ordering::Relaxed);
}

/// How many idle stacks each thread keeps ready with their memory once a burst is over:
/// see [`set_stack_pool_limit`].
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

/// Gives back at once the memory of the idle stacks kept for recent demand, down to
/// [`stack_pool_limit`] per thread, instead of over the next seconds.
///
/// Where each stack is a mapping of its own (Linux before 6.13, under valgrind, with
/// `CORONA_STACK_GUARD=mprotect`, and other platforms), the stacks given back are unmapped,
/// so that a later burst finds the process's memory mappings (`vm.max_map_count`) free
/// again; slab stacks keep their address space for the next coroutines of their size.
///
/// The calling thread trims before this returns; every other thread trims when it next
/// returns a stack above the limit. Useful after a one-off burst (start-up, a batch job),
/// before measuring memory, or when the process is told memory is short. To keep no idle
/// stack at all, set the limit to 0 first.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// corona::run(|| {
///     // A one-off burst of 5,000 concurrent coroutines...
///     let burst: Vec<_> = (0..5_000u64)
///         .map(|i| corona::spawn_local(move || { corona::yield_now(); i }))
///         .collect();
///     let sum: u64 = burst.into_iter().map(|h| corona::co_await!(h).unwrap()).sum();
///     assert_eq!(sum, 5_000 * 4_999 / 2);
/// });
/// // ...whose 5,000 stacks this thread keeps for a while in case it repeats: not needed.
/// corona::trim_stack_pool();
/// ```
pub fn trim_stack_pool() {
    TRIMS.fetch_add(1, Ordering::Relaxed);
    let extra = POOL.try_with(|pool| pool.borrow_mut().trim(stack_pool_limit()));
    if let Ok(extra) = extra {
        slab::release(extra);
    }
}

struct Pool {
    /// Idle stacks, most recently returned last.
    idle: Vec<Stack>,
    /// Stacks taken from this pool and not given back yet.
    in_use: usize,
    /// The most stacks in use at once in the current epoch.
    peak: usize,
    /// When the current epoch began (`None` before the clock was first read).
    epoch: Option<Instant>,
    /// The peaks of the epochs before, the latest first.
    peaks: [usize; EPOCHS],
    /// Stacks returned above the limit since the clock was last read.
    unclocked: u32,
    /// The [`TRIMS`] count this pool last trimmed for.
    trims: usize,
}

impl Pool {
    /// Accounts for one stack taken from this pool.
    #[inline]
    fn taken(&mut self) {
        self.in_use += 1;
        self.peak = self.peak.max(self.in_use);
    }

    /// The idle stacks to release now that one was returned above `limit`: those that
    /// the remembered demand no longer covers, a batch at a time.
    fn beyond_demand(&mut self, limit: usize) -> Vec<Stack> {
        if limit == 0 || TRIMS.load(Ordering::Relaxed) != self.trims {
            return self.trim(limit);
        }
        self.unclocked += 1;
        if self.unclocked < CLOCK_EVERY {
            return Vec::new();
        }
        self.unclocked = 0;
        let now = Instant::now();
        self.advance(now);
        let keep = limit.max(self.remembered(now).saturating_sub(self.in_use));
        if self.idle.len() < keep.saturating_add(batch(limit)) {
            return Vec::new();
        }
        self.release_beyond(keep)
    }

    /// Starts a new epoch if the current one is over at `now`, remembering its peak.
    fn advance(&mut self, now: Instant) {
        let Some(start) = self.epoch else {
            self.epoch = Some(now);
            return;
        };
        let ended = (now.saturating_duration_since(start).as_nanos() / EPOCH.as_nanos()) as usize;
        if ended == 0 {
            return;
        }
        if ended >= EPOCHS {
            self.peaks = [0; EPOCHS];
            self.epoch = Some(now);
        } else {
            // Epochs without a reading in between had no higher peak than the one
            // accumulated, which is credited to the latest of them (kept the longest).
            self.peaks.rotate_right(ended);
            self.peaks[1..ended].fill(0);
            self.epoch = Some(start + EPOCH * ended as u32);
        }
        self.peaks[0] = self.peak;
        self.peak = self.in_use;
    }

    /// The demand remembered at `now`: the highest epoch peak, each held for
    /// [`DECAY_HOLD`] after its epoch ended, then fading linearly to 0 over [`DECAY_FADE`].
    fn remembered(&self, now: Instant) -> usize {
        let Some(start) = self.epoch else {
            return self.peak;
        };
        let into = now.saturating_duration_since(start);
        let held = |(i, &peak): (usize, &usize)| {
            let age = into + EPOCH * i as u32;
            let Some(fading) = age.checked_sub(DECAY_HOLD) else {
                return peak;
            };
            let left = DECAY_FADE.saturating_sub(fading);
            // Fits: `peak` counts stacks (< 2^48) and `left` is at most 2 s (< 2^31 ns).
            (peak as u128 * left.as_nanos() / DECAY_FADE.as_nanos()) as usize
        };
        self.peaks
            .iter()
            .enumerate()
            .map(held)
            .fold(self.peak, usize::max)
    }

    /// Forgets the demand and returns the idle stacks beyond `limit`.
    fn trim(&mut self, limit: usize) -> Vec<Stack> {
        self.trims = TRIMS.load(Ordering::Relaxed);
        self.peaks = [0; EPOCHS];
        self.peak = self.in_use;
        self.release_beyond(limit)
    }

    /// Removes the idle stacks beyond the first `keep` and returns them. They are the most
    /// recently returned ones (all idle stacks are alike; cutting the tail of the `Vec` costs
    /// nothing per stack kept).
    fn release_beyond(&mut self, keep: usize) -> Vec<Stack> {
        if self.idle.len() <= keep {
            return Vec::new();
        }
        let extra = self.idle.split_off(keep);
        // After a burst of a million, the `Vec` itself is 16 MiB: give that back too.
        if self.idle.capacity() > 4 * self.idle.len().max(64) {
            self.idle.shrink_to(2 * self.idle.len());
        }
        extra
    }
}

/// How many idle stacks beyond what is kept trigger a release: a quarter of the limit,
/// 1 to 64 stacks, so that stacks are released a batch at a time.
#[inline]
fn batch(limit: usize) -> usize {
    (limit / 4).clamp(1, 64)
}

impl Drop for Pool {
    fn drop(&mut self) {
        // The thread is exiting: its idle stacks go back to the process-wide allocator.
        slab::release(core::mem::take(&mut self.idle));
    }
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            idle: Vec::new(),
            in_use: 0,
            peak: 0,
            epoch: None,
            peaks: [0; EPOCHS],
            unclocked: 0,
            trims: 0,
        })
    };
}

/// A stack of `size` bytes (at least), from the pool when one of that size is idle.
pub(crate) fn take(size: usize) -> Stack {
    let size = normalize(size);
    let reused = POOL
        .try_with(|pool| {
            let pool = &mut *pool.borrow_mut();
            let idle = &mut pool.idle;
            // The common case: the most recently returned stack has the size. `pop` moves it
            // out as two words; `swap_remove` of the last element would copy it onto itself
            // with one 16-byte load, which stalls on the two 8-byte stores `give` just made
            // (no store forwarding), measured at ~3 ns per coroutine.
            let stack = if idle.last().is_some_and(|s| s.size() == size) {
                idle.pop()
            } else {
                let at = idle.iter().rposition(|s| s.size() == size)?;
                Some(idle.swap_remove(at))
            };
            pool.taken();
            stack
        })
        .ok()
        .flatten();
    reused.unwrap_or_else(|| refill(size))
}

/// Stacks fetched from the allocator at once when the pool has none of a size: one lock
/// and one syscall to pre-fault their first pages, instead of one page fault each.
const REFILL: usize = 32;

/// Bytes of stacks (guard pages included) fetched at once at most: a slab's worth. Stacks
/// of up to 2 MiB − 4 KiB come [`REFILL`] at a time; larger ones fewer, so that the
/// allocator maps at most one new slab per refill, and those of 32 MiB or more (a slab of
/// their own) one at a time: idle ones of a size nobody asks for again would hold that much
/// address space, and a mapping each, for good. A refill that does not fit settles for
/// fewer stacks, at least one (see `slab::allocate_many`).
pub(super) const REFILL_BYTES: usize = 64 << 20;

#[cold]
fn refill(size: usize) -> Stack {
    let slot = size.saturating_add(super::backend::page_size());
    let count = (REFILL_BYTES / slot).clamp(1, REFILL);
    let mut stacks = slab::allocate_many(size, count);
    let first = stacks.pop().expect("at least one stack");
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.idle.append(&mut stacks);
        pool.taken();
    });
    first
}

/// Gives a stack back. Above the limit, the pool releases what recent demand does not
/// cover.
#[inline]
pub(crate) fn give(stack: Stack) {
    // The common case (up to the limit) is a push that reports `false`: no `Vec` is built
    // or returned. (When the thread is exiting, `try_with` fails and the stack was dropped:
    // released.)
    let over_limit = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        pool.in_use = pool.in_use.saturating_sub(1);
        pool.idle.push(stack);
        pool.idle.len() > stack_pool_limit()
    });
    if over_limit == Ok(true) {
        decay();
    }
}

/// Releases what the remembered demand no longer covers (see the module docs).
#[cold]
fn decay() {
    let extra = POOL.try_with(|pool| pool.borrow_mut().beyond_demand(stack_pool_limit()));
    // Released outside the borrow: `release` makes syscalls and takes a lock.
    if let Ok(extra) = extra {
        slab::release(extra);
    }
}
