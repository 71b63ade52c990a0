//! Cost of a scoped child (plain harness; run with `cargo bench -p corona --bench scope`).
//!
//! Inside one `corona::run`, N children are started and joined, three ways:
//!
//! * `scope`: `corona::scope` + `Scope::spawn` + `ScopedJoinHandle::join`;
//! * `spawn_local`: `corona::spawn_local` + `co_await!(handle)` (a tokio task per coroutine);
//! * `native`: `tokio::task::spawn_local(async ..)` + `.await` on the same `LocalSet`, the
//!   native-async floor for "start a task and join it".
//!
//! Each child either returns at once (`ready`) or waits once first (`yield`, one suspend and
//! wake). Prints the median time per child over the repetitions and the ratios, measured in
//! the same run.
//!
//! For exact instruction counts, run one row and one way alone under callgrind, with two
//! repetition counts: the difference over the extra children is the cost of one child,
//! start-up excluded (`SCOPE_BENCH_ONLY=yield/1000 SCOPE_BENCH_WAY=scope
//! SCOPE_BENCH_REPETITIONS=1` then `=3`, under `valgrind --tool=callgrind`).

use std::hint::black_box;
use std::time::Instant;

mod support;

/// Samples per row (`SCOPE_BENCH_REPETITIONS` overrides it).
const REPETITIONS: usize = 15;
/// Children started per sample, in batches of N.
const CHILDREN_PER_SAMPLE: usize = 20_000;

fn repetitions() -> usize {
    std::env::var("SCOPE_BENCH_REPETITIONS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(REPETITIONS)
}

/// Whether to run the row `child/n` (`SCOPE_BENCH_ONLY=yield/1000` picks one).
fn selected(child: &str, n: usize) -> bool {
    std::env::var("SCOPE_BENCH_ONLY").map_or(true, |only| only == format!("{child}/{n}"))
}

fn child(i: usize, wait: bool) -> usize {
    if wait {
        corona::yield_now();
    }
    black_box(i)
}

#[inline(never)]
fn with_scope(n: usize, wait: bool) -> usize {
    corona::scope(|s| {
        let handles: Vec<_> = (0..n).map(|i| s.spawn(move || child(i, wait))).collect();
        handles.into_iter().map(|h| h.join()).sum()
    })
}

#[inline(never)]
fn with_spawn_local(n: usize, wait: bool) -> usize {
    let handles: Vec<_> = (0..n)
        .map(|i| corona::spawn_local(move || child(i, wait)))
        .collect();
    handles
        .into_iter()
        .map(|h| corona::co_await!(h).unwrap())
        .sum()
}

#[inline(never)]
fn with_native(n: usize, wait: bool) -> usize {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            tokio::task::spawn_local(async move {
                if wait {
                    tokio::task::yield_now().await;
                }
                black_box(i)
            })
        })
        .collect();
    corona::co_await!(async {
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    })
}

/// Median nanoseconds per child of `batch(n, wait)`, run in batches of `n` children.
fn per_child(n: usize, wait: bool, batch: fn(usize, bool) -> usize) -> f64 {
    let expected = n * (n - 1) / 2;
    let batches = CHILDREN_PER_SAMPLE / n;
    assert_eq!(batch(n, wait), expected); // warm-up: fills the stack pool
    support::median_of(repetitions(), || {
        let start = Instant::now();
        for _ in 0..batches {
            assert_eq!(batch(n, wait), expected);
        }
        start.elapsed().as_secs_f64() * 1e9 / (batches * n) as f64
    })
}

/// Whether to measure `way` (`SCOPE_BENCH_WAY=scope` picks one; the others print 0).
fn way(way: &str, n: usize, wait: bool, batch: fn(usize, bool) -> usize) -> f64 {
    match std::env::var("SCOPE_BENCH_WAY") {
        Ok(only) if only != way => 0.0,
        _ => per_child(n, wait, batch),
    }
}

fn main() {
    println!(
        "scope benchmark: ns per child started and joined, median of {} samples of \
         {CHILDREN_PER_SAMPLE} children",
        repetitions()
    );
    println!(
        "{:>6} {:>6} {:>10} {:>12} {:>10} {:>15} {:>14}",
        "child", "N", "scope", "spawn_local", "native", "scope/spawn_l.", "scope/native"
    );
    corona::run(|| {
        for wait in [false, true] {
            let child = if wait { "yield" } else { "ready" };
            for n in [1, 100, 1_000] {
                if !selected(child, n) {
                    continue;
                }
                let scope = way("scope", n, wait, with_scope);
                let spawn_local = way("spawn_local", n, wait, with_spawn_local);
                let native = way("native", n, wait, with_native);
                println!(
                    "{:>6} {:>6} {:>10.0} {:>12.0} {:>10.0} {:>14.2}x {:>13.2}x",
                    child,
                    n,
                    scope,
                    spawn_local,
                    native,
                    scope / spawn_local,
                    scope / native,
                );
            }
        }
    });
}
