//! Stacks at scale: many live coroutines against native tokio tasks.
//!
//! `cargo bench -p corona --bench stacks`. Every measurement runs in a fresh process (this
//! binary re-executed with `child <case> <side>`), so resident memory is clean; the parent
//! runs each side 7 times, alternating, and prints medians and the ratio corona/native.
//!
//! Cases, each on a current-thread tokio runtime with a `LocalSet`:
//! * `live-100k` / `live-1m`: that many coroutines (tasks) alive at once, each waiting on
//!   its own oneshot; then all are woken and awaited. Time is for the whole burst; RSS per
//!   coroutine is (peak - start) / n; "after" is RSS once all finished, minus start.
//! * `spawn-20k`: 20,000 concurrent `spawn_local` + one suspend (`yield_now`) + complete.
//!
//! Each child runs its case twice: "cold" is a fresh process (stacks are carved and first
//! touched), "warm" the second burst (stacks reused from the allocator after their memory
//! was given back, the pool keeping its bound).

use std::cell::Cell;
use std::process::Command;
use std::rc::Rc;
use std::time::Instant;

const REPS: usize = 7;

fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<usize>()
        .unwrap()
        * 4096
}

/// RSS once the burst is over, after asking malloc to return its free memory: the heap
/// (task cells, channels, the `Vec`s here) is the same for both sides, and glibc keeps
/// freed heap pages unless told otherwise, which would hide what the stacks gave back.
fn rss_after() -> usize {
    // SAFETY: `malloc_trim` only releases free heap memory; no allocation is live across it
    // that it could affect.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::malloc_trim(0)
    };
    rss()
}

/// One burst; returns (nanoseconds, peak RSS, RSS after) with RSS measured in bytes.
async fn live(n: usize, corona: bool) -> (u128, usize, usize) {
    let started = Rc::new(Cell::new(0usize));
    let t0 = Instant::now();
    let mut senders = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        senders.push(tx);
        let started = started.clone();
        handles.push(if corona {
            corona::spawn_local(move || {
                started.set(started.get() + 1);
                corona::co_await!(rx).unwrap()
            })
        } else {
            tokio::task::spawn_local(async move {
                started.set(started.get() + 1);
                rx.await.unwrap()
            })
        });
    }
    while started.get() < n {
        tokio::task::yield_now().await;
    }
    let peak = rss();
    for (i, tx) in senders.into_iter().enumerate() {
        tx.send(i as u32).unwrap();
    }
    let mut sum = 0u64;
    for h in handles {
        sum += u64::from(h.await.unwrap());
    }
    let ns = t0.elapsed().as_nanos();
    assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
    (ns, peak, rss_after())
}

async fn spawn_suspend_complete(n: usize, bursts: usize, corona: bool) -> (u128, usize, usize) {
    let t0 = Instant::now();
    for _ in 0..bursts {
        spawn_burst(n, corona).await;
    }
    (t0.elapsed().as_nanos(), 0, rss_after())
}

async fn spawn_burst(n: usize, corona: bool) {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            if corona {
                corona::spawn_local(move || {
                    corona::yield_now();
                    i
                })
            } else {
                tokio::task::spawn_local(async move {
                    tokio::task::yield_now().await;
                    i
                })
            }
        })
        .collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    assert_eq!(sum, n * (n - 1) / 2);
}

/// In a child process: runs `case` for one side twice and prints the figures.
fn child(case: &str, side: &str) {
    let corona = side == "corona";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let start = rss();
    let mut line = String::new();
    for _ in 0..2 {
        let (ns, peak, after) = local.block_on(&rt, async {
            match case {
                "live-100k" => live(100_000, corona).await,
                "live-1m" => live(1_000_000, corona).await,
                "spawn-20k" => spawn_suspend_complete(20_000, 1, corona).await,
                "spawn-20k-pool-20k" => {
                    corona::set_stack_pool_limit(20_000);
                    spawn_suspend_complete(20_000, 1, corona).await
                }
                "spawn-1k-x20" => spawn_suspend_complete(1_000, 20, corona).await,
                other => panic!("unknown case {other}"),
            }
        });
        line += &format!(
            "{ns} {} {} ",
            peak.saturating_sub(start),
            after as i64 - start as i64
        );
    }
    println!("RESULT {start} {line}");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Figures of one child run: RSS at start, and per round (ns, peak growth, after - start).
fn run_child(case: &str, side: &str) -> (f64, Vec<(f64, f64, f64)>) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["child", case, side])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{case} {side}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap();
    let f: Vec<f64> = line
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    (f[0], f[1..].chunks(3).map(|c| (c[0], c[1], c[2])).collect())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "child") {
        child(&args[at + 1], &args[at + 2]);
        return;
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with("--"));
    println!("stacks: medians of {REPS} runs, each side in its own process");
    for (case, n) in [
        ("live-100k", 100_000.0),
        ("live-1m", 1_000_000.0),
        ("spawn-20k", 20_000.0),
        ("spawn-20k-pool-20k", 20_000.0),
        ("spawn-1k-x20", 20_000.0),
    ] {
        if filter.is_some_and(|f| !case.contains(f.as_str())) {
            continue;
        }
        let mut runs = [Vec::new(), Vec::new()];
        for _ in 0..REPS {
            runs[0].push(run_child(case, "corona"));
            runs[1].push(run_child(case, "native"));
        }
        for (round, label) in [(0, "cold"), (1, "warm")] {
            let pick = |side: usize, f: fn(&(f64, f64, f64)) -> f64| {
                median(runs[side].iter().map(|r| f(&r.1[round])).collect())
            };
            let (ct, nt) = (pick(0, |r| r.0), pick(1, |r| r.0));
            println!(
                "{case:>9} {label}: corona {:>8.1} ms, native {:>8.1} ms, ratio {:.2}x",
                ct / 1e6,
                nt / 1e6,
                ct / nt
            );
            if case.starts_with("live") {
                let (cp, np) = (pick(0, |r| r.1), pick(1, |r| r.1));
                let (ca, na) = (pick(0, |r| r.2), pick(1, |r| r.2));
                let start = |side: usize| median(runs[side].iter().map(|r| r.0).collect());
                println!(
                    "{:>15} RSS per live one: corona {:.2} KiB, native {:.2} KiB",
                    "",
                    cp / n / 1024.0,
                    np / n / 1024.0,
                );
                println!(
                    "{:>15} RSS at start -> after the burst: corona {:.1} -> {:+.1} MiB, \
                     native {:.1} -> {:+.1} MiB (peak corona {:+.0} MiB)",
                    "",
                    start(0) / 1048576.0,
                    ca / 1048576.0,
                    start(1) / 1048576.0,
                    na / 1048576.0,
                    cp / 1048576.0,
                );
            }
        }
    }
}
