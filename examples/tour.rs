//! A guided tour of corona: `cargo run --example tour`.
//!
//! Each step prints what it shows. Read it top to bottom.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use corona::{co_await, Coroutine};

/// 1. A plain sync function that waits. No `async`, no `.await`, no colour.
fn slow_square(x: u64) -> u64 {
    co_await!(tokio::time::sleep(Duration::from_millis(20)));
    x * x
}

/// 2. `#[corona::coroutine]`: calling it returns a `Coroutine<u64>` future.
#[corona::coroutine]
fn sum_of_squares(n: u64) -> u64 {
    // The waiting happens two calls down, inside an iterator adapter's closure.
    (1..=n).map(slow_square).sum()
}

/// 3. Recursion that waits at every level.
fn countdown(n: u32, log: &RefCell<Vec<u32>>) {
    if n == 0 {
        return;
    }
    log.borrow_mut().push(n);
    corona::yield_now();
    countdown(n - 1, log);
}

#[corona::main]
fn main() {
    println!("corona tour\n");

    // 1 + 2: a coroutine future, awaited from the main coroutine.
    let started = Instant::now();
    let total = co_await!(sum_of_squares(3));
    println!(
        "1. sum_of_squares(3) = {total}, waited 3 x 20 ms inside sync code in {:?}",
        started.elapsed()
    );

    // Many coroutines wait at once on one thread: the waits overlap.
    let started = Instant::now();
    let handles: Vec<_> = (1..=10u64)
        .map(|i| corona::spawn_local(move || slow_square(i)))
        .collect();
    let squares: Vec<u64> = handles.into_iter().map(|h| co_await!(h).unwrap()).collect();
    println!(
        "2. ten coroutines each slept 20 ms, all done in {:?} (not 200 ms): {squares:?}",
        started.elapsed()
    );

    // 3: two coroutines interleave at every level of their recursion.
    let log = Rc::new(RefCell::new(Vec::new()));
    let (a_log, b_log) = (log.clone(), log.clone());
    let a = corona::spawn_local(move || countdown(3, &a_log));
    let b = corona::spawn_local(move || countdown(3, &b_log));
    co_await!(a).unwrap();
    co_await!(b).unwrap();
    println!(
        "3. two recursive countdowns interleaved: {:?}",
        log.borrow()
    );

    // 4: any future of the ecosystem composes: here a timeout around a coroutine. The loser
    //    is dropped, which unwinds its stack: its destructors run.
    struct SaysGoodbye;
    impl Drop for SaysGoodbye {
        fn drop(&mut self) {
            println!("   (the cancelled coroutine's stack was unwound: destructor ran)");
        }
    }
    let slow = Coroutine::new(|| {
        let _guard = SaysGoodbye;
        slow_square(1_000_000);
        co_await!(tokio::time::sleep(Duration::from_secs(60)));
    });
    let outcome = co_await!(tokio::time::timeout(Duration::from_millis(30), slow));
    println!("4. timeout around a coroutine: {outcome:?}");

    // 5: misuse is explained, not undefined.
    let outside = std::thread::spawn(|| corona::try_await(async { 1 }))
        .join()
        .unwrap();
    println!("5. try_await outside of a coroutine: {outside:?}");

    println!("\ntour complete");
}
