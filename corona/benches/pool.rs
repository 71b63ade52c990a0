//! Throughput of `corona::Pool` (plain harness; run with `cargo bench -p corona --bench pool`).
//!
//! N independent jobs, each waiting for a 1 ms tokio timer and then doing a little CPU work,
//! run three ways in the same process:
//!
//! * `pool(2)`: `corona::Pool::new(2)`, every job a coroutine pinned to one of two workers;
//! * `one thread`: `corona::run` + `corona::spawn_local`, every job a coroutine on one thread;
//! * `tokio mt(2)`: tokio's multi-thread runtime with two workers, every job a native task.
//!
//! The first row (no timer, no work) measures dispatch alone: spawn, run, report.
//! Prints the median wall time of each over the repetitions, and the ratios.

use std::hint::black_box;
use std::time::{Duration, Instant};

const JOBS: u64 = 2_000;
const REPETITIONS: usize = 9;
const TIMER: Duration = Duration::from_millis(1);

/// A little CPU work: `iters` rounds of a multiply-xorshift chain.
fn work(seed: u64, iters: u32) -> u64 {
    let mut x = seed | 1;
    for _ in 0..iters {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x ^= x >> 29;
    }
    black_box(x)
}

fn coroutine_job(i: u64, iters: u32, timer: bool) -> u64 {
    if timer {
        corona::co_await!(tokio::time::sleep(TIMER));
    }
    work(i, iters)
}

fn run_pool(pool: &corona::Pool, iters: u32, timer: bool) -> u64 {
    let jobs: Vec<_> = (0..JOBS)
        .map(|i| pool.spawn(move || coroutine_job(i, iters, timer)))
        .collect();
    let results = futures::executor::block_on(futures::future::try_join_all(jobs));
    results
        .expect("no job panics")
        .into_iter()
        .fold(0, u64::wrapping_add)
}

fn run_one_thread(iters: u32, timer: bool) -> u64 {
    corona::run(|| {
        let jobs: Vec<_> = (0..JOBS)
            .map(|i| corona::spawn_local(move || coroutine_job(i, iters, timer)))
            .collect();
        jobs.into_iter()
            .map(|job| corona::co_await!(job).expect("no job panics"))
            .fold(0, u64::wrapping_add)
    })
}

fn run_tokio(runtime: &tokio::runtime::Runtime, iters: u32, timer: bool) -> u64 {
    runtime.block_on(async {
        let jobs: Vec<_> = (0..JOBS)
            .map(|i| {
                tokio::spawn(async move {
                    if timer {
                        tokio::time::sleep(TIMER).await;
                    }
                    work(i, iters)
                })
            })
            .collect();
        let mut sum = 0u64;
        for job in jobs {
            sum = sum.wrapping_add(job.await.expect("no job panics"));
        }
        sum
    })
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Median wall time of `f` over the repetitions (after one warm-up run); checks its result.
fn measure(expected: u64, mut f: impl FnMut() -> u64) -> Duration {
    assert_eq!(f(), expected);
    let samples = (0..REPETITIONS)
        .map(|_| {
            let start = Instant::now();
            let sum = f();
            let elapsed = start.elapsed();
            assert_eq!(sum, expected);
            elapsed
        })
        .collect();
    median(samples)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let pool = corona::Pool::new(2);
    let tokio_mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");

    println!(
        "pool benchmark: {JOBS} jobs, each awaits a {TIMER:?} timer then does CPU work; \
         median of {REPETITIONS}"
    );
    println!(
        "{:>5} {:>9} {:>12} {:>12} {:>12} {:>12} {:>14} {:>14}",
        "wait",
        "work/job",
        "pool(2)",
        "one thread",
        "tokio mt(2)",
        "jobs/s pool",
        "one/pool",
        "pool/tokio"
    );
    for (timer, iters) in [(false, 0u32), (true, 0), (true, 2_500), (true, 25_000)] {
        // The CPU work of one job alone: best of 5 runs of 100 jobs' worth.
        let per_job = (0..5)
            .map(|_| {
                let start = Instant::now();
                let _ = work(7, iters * 100);
                start.elapsed() / 100
            })
            .min()
            .expect("5 runs");
        let expected = (0..JOBS).map(|i| work(i, iters)).fold(0, u64::wrapping_add);
        let pool_time = measure(expected, || run_pool(&pool, iters, timer));
        let one_time = measure(expected, || run_one_thread(iters, timer));
        let tokio_time = measure(expected, || run_tokio(&tokio_mt, iters, timer));
        println!(
            "{:>5} {:>6.1} µs {:>9.2} ms {:>9.2} ms {:>9.2} ms {:>12.0} {:>13.2}x {:>13.2}x",
            if timer { "timer" } else { "-" },
            per_job.as_secs_f64() * 1e6,
            ms(pool_time),
            ms(one_time),
            ms(tokio_time),
            JOBS as f64 / pool_time.as_secs_f64(),
            one_time.as_secs_f64() / pool_time.as_secs_f64(),
            pool_time.as_secs_f64() / tokio_time.as_secs_f64(),
        );
    }
    println!(
        "one/pool > 1: the pool is faster than one thread; pool/tokio: time relative to tokio"
    );
    pool.shutdown();
}
