//! Memory is given back after a burst: resident memory falls to where it started plus the
//! pool's bound. (Alone in this binary: RSS is per process.)

use std::cell::Cell;
use std::rc::Rc;

use corona_tests::rss_bytes;

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
        let (tx, rx) = tokio::sync::watch::channel(false);
        let started = Rc::new(Cell::new(0));
        let handles: Vec<_> = (0..BURST)
            .map(|_| {
                let mut rx = rx.clone();
                let started = started.clone();
                corona::spawn_local(move || {
                    let b = touch_stack();
                    started.set(started.get() + 1);
                    corona::co_await!(rx.wait_for(|go| *go)).unwrap();
                    b
                })
            })
            .collect();
        while started.get() < BURST {
            corona::yield_now();
        }
        let peak = rss_bytes();
        tx.send(true).unwrap();
        for h in handles {
            assert_eq!(corona::co_await!(h).unwrap(), 7);
        }
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
