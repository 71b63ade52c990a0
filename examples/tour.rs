//! A guided tour of corona: `cargo run --example tour`.
//!
//! Each step prints what it shows. Read it top to bottom.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use std::io::{BufRead, Write};

use corona::io::Blocking;
use corona::prelude::*;
use corona::{co_await, Coroutine, Yielder};

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

/// 6. A generator's body yields from nested plain functions, and may wait between items.
fn yield_words(line: &str, y: &Yielder<String>) {
    for word in line.split_whitespace() {
        y.yield_(word.to_uppercase());
    }
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
    println!("4. a 30 ms timeout around a coroutine that waits 60 s:");
    let slow = Coroutine::new(|| {
        let _guard = SaysGoodbye;
        slow_square(1_000_000);
        co_await!(tokio::time::sleep(Duration::from_secs(60)));
    });
    let outcome = co_await!(tokio::time::timeout(Duration::from_millis(30), slow));
    println!("   outcome: {outcome:?}");

    // 5: misuse is explained, not undefined.
    let outside = std::thread::spawn(|| corona::try_await(async { 1 }))
        .join()
        .unwrap();
    println!("5. try_await outside of a coroutine: {outside:?}");

    // 6: generators are Streams; co_iter() turns any stream into an Iterator that waits.
    let words = corona::generator(|y| {
        for line in ["stackful coroutines", "speak futures"] {
            co_await!(tokio::time::sleep(Duration::from_millis(1)));
            yield_words(line, y);
        }
    });
    let words: Vec<String> = words.co_iter().collect();
    println!("6. a generator yielded from a nested fn: {words:?}");

    // 7: std::io over async I/O: a sync writer and the std `lines()` iterator on a 64-byte
    //    async pipe, in two coroutines on one thread.
    println!("7. BufRead::lines over a 64-byte async pipe, written by another coroutine:");
    let (client, server) = tokio::io::duplex(64);
    let writer = corona::spawn_local(move || {
        let mut out = Blocking::new(client);
        for i in 1..=3 {
            writeln!(out, "request {i}: a line longer than the pipe is wide").unwrap();
        }
    });
    let lines = Blocking::new(tokio::io::BufReader::new(server)).lines();
    let count = lines
        .map(Result::unwrap)
        .inspect(|l| println!("   read {l:?}"))
        .count();
    co_await!(writer).unwrap();
    println!("   {count} lines read");

    // 8: many cores: a Pool runs coroutines pinned to worker threads.
    println!("8. Pool::new(2) runs coroutines pinned to its worker threads:");
    let pool = corona::Pool::new(2);
    let jobs: Vec<_> = (0..4u64)
        .map(|i| {
            pool.spawn(move || {
                co_await!(tokio::time::sleep(Duration::from_millis(10)));
                (i, format!("{:?}", std::thread::current().id()))
            })
        })
        .collect();
    for job in jobs {
        let (i, thread) = co_await!(job).unwrap();
        println!("   pool job {i} ran on worker {thread}");
    }

    println!("\ntour complete");
}
