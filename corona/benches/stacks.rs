//! Stacks at scale: many live coroutines against native tokio tasks and the page floor.
//!
//! `cargo bench -p corona --bench stacks`. Every measurement runs in a fresh process (this
//! binary re-executed with `child <case> <side>`), so resident memory is clean; the parent
//! runs each side 7 times, alternating, and prints medians and ratios.
//!
//! Cases, each on a current-thread tokio runtime with a `LocalSet`:
//! * `live-100k` / `live-1m`: that many coroutines (tasks) alive at once, each waiting on
//!   its own oneshot; then all are woken and awaited. Time is for the whole burst; RSS per
//!   coroutine is (peak - start) / n, beside the page tables at the peak (`VmPTE`); "after"
//!   is RSS once all finished, minus start (what the stack pool keeps for a repeated
//!   burst), then after `trim_stack_pool`. The `touch` side is the physical floor: first
//!   touch of one fresh page per 256 KiB stack of one mapping, in the same kind of process;
//!   the ratio that counts is corona / (native + touch). The `guarded` side adds what every
//!   corona stack also needs, a guard page installed below it, the way corona installs it:
//!   the floor of a guarded stack, and the ratio corona / (native + touch + guards).
//! * `spawn-20k`: 20,000 concurrent `spawn_local` + one suspend (`yield_now`) + complete.
//!
//! Each child runs its case twice: "cold" is a fresh process (stacks are carved and first
//! touched), "warm" the second burst right after (stacks reused from the pool, which keeps
//! what the last burst needed).

use std::cell::Cell;
use std::ops::Range;
use std::process::Command;
use std::rc::Rc;
use std::time::Instant;

/// Runs per side: 7, or `STACKS_REPS` from the environment (5 suffices to judge whether the
/// million is steady; fewer to iterate quickly).
fn reps() -> usize {
    std::env::var("STACKS_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7)
}

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

/// Page-table memory of this process in bytes (`VmPTE` of `/proc/self/status`): not part
/// of RSS, ~0.5 KiB per 256 KiB stack whose pages or guard were touched.
fn page_tables() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmPTE:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
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

/// One round's figures: wall and CPU time (ns), peak RSS, page tables at the peak, RSS after
/// (bytes).
type Round = (Clock, usize, usize, usize);

/// Wall and CPU time (user + system, all threads of the process) in nanoseconds. CPU time
/// is the steadier figure on a shared machine: it leaves out time spent waiting for a core.
#[derive(Clone, Copy)]
struct Clock {
    wall: u128,
    cpu: u128,
}

impl Clock {
    fn now() -> Clock {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid `timespec` to write to.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        Clock {
            wall: START.with(|s| s.elapsed().as_nanos()),
            cpu: ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128,
        }
    }

    fn since(self, earlier: Clock) -> Clock {
        Clock {
            wall: self.wall - earlier.wall,
            cpu: self.cpu - earlier.cpu,
        }
    }
}

thread_local! {
    static START: Instant = Instant::now();
}

/// One burst of `n` live coroutines (tasks).
async fn live(n: usize, corona: bool) -> Round {
    let started = Rc::new(Cell::new(0usize));
    let t0 = Clock::now();
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
    let (peak, pte) = (rss(), page_tables());
    for (i, tx) in senders.into_iter().enumerate() {
        tx.send(i as u32).unwrap();
    }
    let mut sum = 0u64;
    for h in handles {
        sum += u64::from(h.await.unwrap());
    }
    let ns = Clock::now().since(t0);
    assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
    (ns, peak, pte, rss_after())
}

/// The physical floor of `live(n)`'s stacks: one mapping of `n` 256 KiB stacks (address
/// space only, as corona's slabs), and a first write to the top page of each. With `guards`,
/// also a guard page at the bottom of each stack, installed as corona does
/// (`MADV_GUARD_INSTALL`, one `process_madvise` per 256 stacks): the floor of a guarded stack.
fn first_touch(n: usize, guards: bool) -> Round {
    const STACK: usize = 256 * 1024;
    let len = n * STACK;
    let t0 = Clock::now();
    // SAFETY: a fresh private anonymous mapping that aliases nothing.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert_ne!(base, libc::MAP_FAILED);
    let base = base.cast::<u8>();
    // In chunks of 256 stacks (corona's 64 MiB slab): guards, then the first touches, so the
    // page tables the guards allocated are still in cache for the touches.
    let pidfd = guards.then(own_pidfd);
    for first in (0..n).step_by(256) {
        let chunk = first..(first + 256).min(n);
        if let Some(pidfd) = pidfd {
            install_guards(pidfd, base, chunk.clone(), STACK);
        }
        for i in chunk {
            // SAFETY: the top 64 bytes of stack `i`, inside the mapping; nothing else uses it.
            unsafe { base.add((i + 1) * STACK - 64).write_volatile(1) };
        }
    }
    if let Some(pidfd) = pidfd {
        // SAFETY: our own descriptor, used by nothing else.
        unsafe { libc::close(pidfd) };
    }
    let ns = Clock::now().since(t0);
    let (peak, pte) = (rss(), page_tables());
    // SAFETY: the whole mapping made above; nothing points into it any more.
    unsafe { libc::munmap(base.cast(), len) };
    (ns, peak, pte, rss_after())
}

/// A pidfd for this process, for `process_madvise`.
fn own_pidfd() -> libc::c_int {
    // SAFETY: `pidfd_open` of our own pid only creates a descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    assert!(fd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
    fd as libc::c_int
}

/// Makes the lowest page of each stack in `stacks` (of `stack` bytes each, from `base`) a
/// guard page, with one `process_madvise` call, as corona does when it carves a slab.
fn install_guards(pidfd: libc::c_int, base: *mut u8, stacks: Range<usize>, stack: usize) {
    const MADV_GUARD_INSTALL: libc::c_int = 102;
    let ranges: Vec<libc::iovec> = stacks
        .map(|i| libc::iovec {
            // SAFETY: the lowest page of stack `i`, inside the mapping.
            iov_base: unsafe { base.add(i * stack) }.cast(),
            iov_len: 4096,
        })
        .collect();
    // SAFETY: guards only pages of our own fresh mapping, which hold nothing.
    let done = unsafe {
        libc::syscall(
            libc::SYS_process_madvise,
            pidfd,
            ranges.as_ptr(),
            ranges.len(),
            MADV_GUARD_INSTALL,
            0,
        )
    };
    assert_eq!(
        done,
        (ranges.len() * 4096) as libc::c_long,
        "process_madvise(MADV_GUARD_INSTALL) needs Linux 6.13: {}",
        std::io::Error::last_os_error()
    );
}

async fn spawn_suspend_complete(n: usize, bursts: usize, corona: bool) -> Round {
    let t0 = Clock::now();
    for _ in 0..bursts {
        spawn_burst(n, corona).await;
    }
    (Clock::now().since(t0), 0, 0, rss_after())
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
        let (ns, peak, pte, after) = local.block_on(&rt, async {
            match (case, side) {
                ("live-100k", "touch") => first_touch(100_000, false),
                ("live-1m", "touch") => first_touch(1_000_000, false),
                ("live-100k", "guarded") => first_touch(100_000, true),
                ("live-1m", "guarded") => first_touch(1_000_000, true),
                ("live-100k", _) => live(100_000, corona).await,
                ("live-1m", _) => live(1_000_000, corona).await,
                ("spawn-20k", _) => spawn_suspend_complete(20_000, 1, corona).await,
                ("spawn-20k-pool-20k", _) => {
                    corona::set_stack_pool_limit(20_000);
                    spawn_suspend_complete(20_000, 1, corona).await
                }
                ("spawn-1k-x20", _) => spawn_suspend_complete(1_000, 20, corona).await,
                other => panic!("unknown case {other:?}"),
            }
        });
        line += &format!(
            "{} {} {} {pte} {} ",
            ns.wall,
            ns.cpu,
            peak.saturating_sub(start),
            after as i64 - start as i64
        );
    }
    // What is left once the pool gives back what it kept for a repeated burst.
    corona::trim_stack_pool();
    println!(
        "RESULT {start} {} {line}",
        rss_after() as i64 - start as i64
    );
}

/// The median of `v`.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Figures of one child run.
struct Run {
    /// RSS at start.
    start: f64,
    /// RSS after both rounds and `trim_stack_pool`, minus start.
    trimmed: f64,
    /// Per round: wall ns, CPU ns, peak RSS growth, page tables at the peak, after - start.
    rounds: Vec<[f64; 5]>,
}

fn run_child(case: &str, side: &str) -> Run {
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
    Run {
        start: f[0],
        trimmed: f[1],
        rounds: f[2..]
            .chunks(5)
            .map(|c| [c[0], c[1], c[2], c[3], c[4]])
            .collect(),
    }
}

const MIB: f64 = 1048576.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "child") {
        child(&args[at + 1], &args[at + 2]);
        return;
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with("--"));
    let reps = reps();
    println!("stacks: medians of {reps} runs, each side in its own process, alternating");
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
        let live = case.starts_with("live");
        let sides: &[&str] = if live {
            &["corona", "native", "touch", "guarded"]
        } else {
            &["corona", "native"]
        };
        let mut runs: Vec<Vec<Run>> = sides.iter().map(|_| Vec::new()).collect();
        for _ in 0..reps {
            for (side, runs) in sides.iter().zip(&mut runs) {
                runs.push(run_child(case, side));
            }
        }
        for (round, label) in [(0, "cold"), (1, "warm")] {
            let pick = |side: usize, field: usize| {
                median(runs[side].iter().map(|r| r.rounds[round][field]).collect())
            };
            // Wall time (field 0), then CPU time (field 1).
            for (field, clock) in [(0, "wall"), (1, "cpu")] {
                let (ct, nt) = (pick(0, field), pick(1, field));
                print!(
                    "{case:>18} {label} {clock:>4}: corona {:>8.1} ms, native {:>8.1} ms, \
                     ratio {:.2}x",
                    ct / 1e6,
                    nt / 1e6,
                    ct / nt
                );
                if live {
                    let (tt, gt) = (pick(2, field), pick(3, field));
                    print!(
                        "; first touch {:.1} ms, corona / (native + touch) {:.2}x; \
                         touch + guards {:.1} ms, corona / (native + touch + guards) {:.2}x",
                        tt / 1e6,
                        ct / (nt + tt),
                        gt / 1e6,
                        ct / (nt + gt)
                    );
                }
                println!();
            }
            if !live {
                continue;
            }
            println!(
                "{:>18} RSS per live one: corona {:.2} KiB, native {:.2} KiB, touch {:.2} KiB; \
                 page tables at the peak (VmPTE): corona {:.0} MiB, native {:.0} MiB, \
                 touch {:.0} MiB",
                "",
                pick(0, 2) / n / 1024.0,
                pick(1, 2) / n / 1024.0,
                pick(2, 2) / n / 1024.0,
                pick(0, 3) / MIB,
                pick(1, 3) / MIB,
                pick(2, 3) / MIB,
            );
            let start = |side: usize| median(runs[side].iter().map(|r| r.start).collect());
            println!(
                "{:>18} RSS at start -> after the burst: corona {:.1} -> {:+.1} MiB (kept \
                 by the pool), native {:.1} -> {:+.1} MiB",
                "",
                start(0) / MIB,
                pick(0, 4) / MIB,
                start(1) / MIB,
                pick(1, 4) / MIB,
            );
        }
        if live {
            let trimmed = median(runs[0].iter().map(|r| r.trimmed).collect());
            let times = |side: usize| {
                runs[side]
                    .iter()
                    .map(|r| format!("{:.2}", r.rounds[0][0] / 1e9))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            println!(
                "{:>18} corona after trim_stack_pool: {trimmed:+.1} MiB over start",
                "",
                trimmed = trimmed / MIB
            );
            println!(
                "{:>18} cold wall times (s): corona [{}], native [{}], touch [{}], touch + \
                 guards [{}]",
                "",
                times(0),
                times(1),
                times(2),
                times(3)
            );
        }
    }
}
