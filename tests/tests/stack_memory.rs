//! Memory is given back after a burst: resident memory falls to where it started plus the
//! pool's bound. (Alone in this binary: RSS is per process.)

use corona_tests::{coroutine_burst, rss_bytes};

const BURST: usize = 4000;
const TOUCH: usize = 64 * 1024;

#[inline(never)]
fn touch_stack() -> u8 {
    let buf = std::hint::black_box([7u8; TOUCH]);
    buf[TOUCH - 1]
}

#[test]
fn rss_falls_after_a_burst() {
    corona::set_stack_pool_limit(16);
    let (start, peak, end) = corona::run(|| {
        // Warm up the runtime's own allocations before measuring.
        corona::co_await!(corona::spawn_local(touch_stack)).unwrap();
        let start = rss_bytes();
        let peak = coroutine_burst(BURST, corona::Builder::new(), touch_stack, 7, rss_bytes);
        // The pool keeps what the burst needed for a few seconds in case it repeats
        // (stack_decay.rs tests that); trim it to the limit now.
        corona::trim_stack_pool();
        (start, peak, rss_bytes())
    });
    let grew = peak.saturating_sub(start);
    let kept = end.saturating_sub(start);
    eprintln!("rss: start {start}, peak {peak}, end {end}");
    // Every coroutine touched 64 KiB of its stack while they were all alive.
    assert!(grew >= BURST * TOUCH * 9 / 10, "start {start}, peak {peak}");
    // Back within 10% of the burst, plus the 16 (+ batch) stacks the pool may keep.
    let pool = (16 + 4) * (TOUCH + 2 * 4096);
    assert!(
        kept <= grew / 10 + pool,
        "start {start}, peak {peak}, end {end}"
    );
}

/// How many idle stacks the pool may hold after a burst with a limit of `limit`, once
/// [`settle_pool`] trimmed it: the limit.
fn retained_after_burst(limit: usize) -> usize {
    limit
}

/// Brings the pool to its resting state after a burst. It keeps what the burst needed for a
/// few seconds, in case the burst repeats (`stack_decay.rs` tests that decay); trimming
/// gives back everything beyond the limit at once.
fn settle_pool() {
    corona::trim_stack_pool();
}

/// Touches `BYTES` of the stack (a debug build copies the array, so up to twice that).
#[inline(never)]
fn touch<const BYTES: usize>() -> u8 {
    let buf = std::hint::black_box([3u8; BYTES]);
    buf[BYTES - 1]
}

/// To be called in a child process of its own (the pool limit is process-wide, RSS is per
/// process): runs `burst` coroutines at once, each running `touch` (which touches `bytes` of
/// its stack), lets them all finish, and checks that resident memory fell back to what a
/// pool of `limit` idle stacks may hold (plus a quarter more and 8 stacks' worth of slack
/// for the heap).
fn assert_pool_bound_after_burst(limit: usize, burst: usize, bytes: usize, touch: fn() -> u8) {
    assert_eq!(corona::stack_pool_limit(), limit);
    // Room for the touched buffer and a debug build's copy of it.
    let big = move || corona::Builder::new().stack_size(4 * bytes);
    let (start, peak, end) = corona::run(|| {
        // Warm up the runtime and the allocator's bookkeeping before measuring.
        corona::co_await!(tokio::task::spawn_local(big().build(touch))).unwrap();
        let start = rss_bytes();
        let peak = coroutine_burst(burst, big(), touch, 3, rss_bytes);
        settle_pool();
        (start, peak, rss_bytes())
    });
    let kept = end.saturating_sub(start);
    println!("rss: start {start}, peak {peak}, end {end}");
    assert!(
        peak >= start + burst * bytes * 9 / 10,
        "the burst did not touch its stacks (start {start}, peak {peak})"
    );
    let allowed = (retained_after_burst(limit) * 5 / 4 + 8) * (2 * bytes + 2 * 4096);
    assert!(
        kept <= allowed,
        "{kept} bytes still resident after the burst, {allowed} allowed for a pool of \
         {limit} (start {start}, peak {peak}, end {end})"
    );
}

#[test]
fn the_pool_keeps_no_more_than_its_bound() {
    const NAME: &str = "the_pool_keeps_no_more_than_its_bound";
    if corona_tests::is_child(NAME) {
        corona::set_stack_pool_limit(4);
        assert_pool_bound_after_burst(4, 200, 256 * 1024, touch::<{ 256 * 1024 }>);
        return;
    }
    corona_tests::assert_child_succeeds(NAME, &[]);
}

#[test]
fn the_default_pool_bound_is_1024_stacks() {
    const NAME: &str = "the_default_pool_bound_is_1024_stacks";
    if corona_tests::is_child(NAME) {
        // As documented. More coroutines than the pool keeps: the extra stacks must give
        // their memory back.
        assert_pool_bound_after_burst(1024, 4_000, 32 * 1024, touch::<{ 32 * 1024 }>);
        return;
    }
    corona_tests::assert_child_succeeds(NAME, &[]);
}
