//! `co_await!` allocates nothing: the awaited future is pinned on the coroutine's stack.
//! This file is its own test binary because it installs a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use corona::{co_await, Coroutine};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls on the current thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Pending once (after waking itself), then ready: exercises suspend and resume.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = u64;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if self.0 {
            Poll::Ready(1)
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn co_await_allocates_nothing() {
    const AWAITS: u64 = 10_000;
    let measured = futures::executor::block_on(Coroutine::new(|| {
        // Warm up anything lazily initialised.
        co_await!(PendingOnce(false));
        let before = allocations();
        let mut sum = 0;
        for _ in 0..AWAITS {
            sum += co_await!(PendingOnce(false));
            sum += co_await!(async { 1 });
            corona::yield_now();
        }
        (allocations() - before, sum)
    }));
    assert_eq!(measured, (0, 2 * AWAITS));
}

#[test]
fn a_pooled_coroutine_allocates_nothing_to_create_and_complete() {
    let mut pool = futures::executor::LocalPool::new();
    // The first one maps a stack and fills the pool.
    pool.run_until(Coroutine::new(|| co_await!(PendingOnce(false))));
    let before = allocations();
    for _ in 0..1_000 {
        pool.run_until(Coroutine::new(|| co_await!(PendingOnce(false))));
    }
    assert_eq!(allocations() - before, 0);
}

#[test]
fn stack_usage_allocates_nothing_whatever_the_stack_size() {
    // It counts resident pages with `mincore` in fixed chunks: one byte per page at once
    // would take 256 KiB for this 1 GiB stack, 4 GiB for a 16 TiB one.
    for size in [corona::DEFAULT_STACK_SIZE, 1 << 30] {
        let (allocated, usage) =
            futures::executor::block_on(corona::Builder::new().stack_size(size).build(|| {
                let before = allocations();
                let usage = corona::stack_usage().unwrap();
                (allocations() - before, usage)
            }));
        assert_eq!(
            allocated, 0,
            "stack_usage allocated on a stack of {size} bytes"
        );
        assert_eq!(usage.size(), size);
        assert!(
            usage.touched() >= 4096 && usage.touched() < 1 << 20,
            "{usage:?}"
        );
    }
}
