//! The core's costs against native async, measured in the same run.
//!
//! `cargo bench -p corona --bench core` prints, for each case, the median time per operation
//! of native async and of corona (over 7 repetitions, the two sides alternating) and the
//! median of their per-repetition ratios. Machines are noisy: compare ratios, not single
//! times.

use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::time::Instant;

use corona::{co_await, Coroutine};

mod support;
use support::{spin, PendingOnce};

const REPETITIONS: usize = 7;

/// Nanoseconds per operation of `run(ops)`, which performs `ops` operations.
fn ns_per_op(ops: u64, run: &mut impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    run(ops);
    start.elapsed().as_nanos() as f64 / ops as f64
}

/// Times `native` and `corona` alternately, [`REPETITIONS`] times each after a warm-up of
/// each (which fills the stack pool and faults pages in), and prints the medians and the
/// median of the per-repetition ratios: on a noisy machine, a ratio of two runs made one
/// right after the other is steadier than a ratio of medians taken at different moments.
fn compare(case: &str, ops: u64, native: impl FnMut(u64), corona: impl FnMut(u64)) {
    compare_with_floor(case, ops, native, corona, None::<fn(u64)>);
}

/// [`compare`], and where there is one, a `floor` timed in turn with the other two: the
/// least any implementation of corona's contract adds to `native`. Printed after the
/// others, with corona's ratio to it.
fn compare_with_floor(
    case: &str,
    ops: u64,
    mut native: impl FnMut(u64),
    mut corona: impl FnMut(u64),
    mut floor: Option<impl FnMut(u64)>,
) {
    native(ops / 10);
    corona(ops / 10);
    if let Some(floor) = &mut floor {
        floor(ops / 10);
    }
    let (mut natives, mut coronas, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut floors, mut floor_ratios) = (Vec::new(), Vec::new());
    for _ in 0..REPETITIONS {
        let n = ns_per_op(ops, &mut native);
        let c = ns_per_op(ops, &mut corona);
        natives.push(n);
        coronas.push(c);
        ratios.push(c / n);
        if let Some(floor) = &mut floor {
            let f = ns_per_op(ops, floor);
            floors.push(f);
            floor_ratios.push(c / f);
        }
    }
    let (native, corona) = (support::median(natives), support::median(coronas));
    let ratio = support::median(ratios);
    print!("{case:<44} native {native:>8.1} ns   corona {corona:>8.1} ns   ratio {ratio:>5.2}x");
    if floor.is_some() {
        let (floor, ratio) = (support::median(floors), support::median(floor_ratios));
        print!("   floor {floor:>8.1} ns   corona/floor {ratio:>5.2}x");
    }
    println!();
}

fn local_set() -> (tokio::runtime::Runtime, tokio::task::LocalSet) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (runtime, tokio::task::LocalSet::new())
}

fn await_pending_on_tokio() {
    // Both sides run as spawned tasks: a self-waking task goes to the back of the LocalSet's
    // queue, as a task waiting for I/O would, without a trip through the I/O driver.
    let (runtime, local) = local_set();
    let native = |n: u64| {
        local.block_on(&runtime, async move {
            let task = tokio::task::spawn_local(async move {
                let mut sum = 0;
                for _ in 0..n {
                    sum += PendingOnce(false).await;
                }
                black_box(sum)
            });
            task.await.unwrap()
        });
    };
    let corona = |n: u64| {
        local.block_on(&runtime, async move {
            let task = tokio::task::spawn_local(Coroutine::new(move || {
                let mut sum = 0;
                for _ in 0..n {
                    sum += co_await!(PendingOnce(false));
                }
                black_box(sum)
            }));
            task.await.unwrap()
        });
    };
    compare(
        "await Pending-once future (tokio LocalSet)",
        500_000,
        native,
        corona,
    );
}

fn await_pending_no_runtime() {
    let native = |n: u64| {
        spin(async move {
            let mut sum = 0;
            for _ in 0..n {
                sum += PendingOnce(false).await;
            }
            black_box(sum)
        });
    };
    let corona = |n: u64| {
        spin(Coroutine::new(move || {
            let mut sum = 0;
            for _ in 0..n {
                sum += co_await!(PendingOnce(false));
            }
            black_box(sum)
        }));
    };
    compare(
        "await Pending-once future (no runtime)",
        2_000_000,
        native,
        corona,
    );
}

thread_local! {
    /// Stands in for corona's thread-local in the floor of [`await_ready`].
    static MARK: Cell<usize> = const { Cell::new(0) };
}

fn await_ready() {
    let native = |n: u64| {
        spin(async move {
            let mut sum = 0;
            for i in 0..n {
                sum += async move { black_box(i) }.await;
            }
            black_box(sum)
        });
    };
    let corona = |n: u64| {
        spin(Coroutine::new(move || {
            let mut sum = 0;
            for i in 0..n {
                sum += co_await!(async move { black_box(i) });
            }
            black_box(sum)
        }));
    };
    // The floor: native plus the two stores a ready `co_await!` cannot do without, the mark
    // on the thread-local that lends the coroutine's `Context` to the poll (set before it,
    // cleared after it), which is how a `co_await!` inside that poll is caught.
    let floor = |n: u64| {
        spin(async move {
            let mut sum = 0;
            for i in 0..n {
                // SAFETY: `MARK` is this thread's live, aligned `Cell`; nothing borrows it.
                MARK.with(|m| unsafe { m.as_ptr().write_volatile(2) });
                sum += async move { black_box(i) }.await;
                // SAFETY: as above.
                MARK.with(|m| unsafe { m.as_ptr().write_volatile(1) });
            }
            black_box(sum)
        });
    };
    compare_with_floor(
        "await ready future",
        10_000_000,
        native,
        corona,
        Some(floor),
    );
}

fn create_and_complete() {
    let native = |n: u64| {
        for i in 0..n {
            // black_box keeps the allocation: LLVM may otherwise elide a box that never escapes.
            let fut: Pin<Box<dyn Future<Output = u64>>> =
                black_box(Box::pin(async move { black_box(i) }));
            black_box(spin(fut));
        }
    };
    let corona = |n: u64| {
        for i in 0..n {
            black_box(spin(Coroutine::new(move || black_box(i))));
        }
    };
    compare(
        "create + complete (Box::pin(async) / pooled)",
        2_000_000,
        native,
        corona,
    );
}

fn mpsc_ping_pong() {
    let (runtime, local) = local_set();
    const MESSAGES: u64 = 100_000;
    let native = |n: u64| {
        local.block_on(&runtime, async move {
            let (to_b, mut b_rx) = tokio::sync::mpsc::channel::<u64>(1);
            let (to_a, mut a_rx) = tokio::sync::mpsc::channel::<u64>(1);
            let b = tokio::task::spawn_local(async move {
                while let Some(x) = b_rx.recv().await {
                    to_a.send(x + 1).await.unwrap();
                }
            });
            for i in 0..n / 2 {
                to_b.send(i).await.unwrap();
                black_box(a_rx.recv().await.unwrap());
            }
            drop(to_b);
            b.await.unwrap();
        });
    };
    let corona = |n: u64| {
        local.block_on(
            &runtime,
            Coroutine::new(move || {
                let (to_b, mut b_rx) = tokio::sync::mpsc::channel::<u64>(1);
                let (to_a, mut a_rx) = tokio::sync::mpsc::channel::<u64>(1);
                let b = tokio::task::spawn_local(Coroutine::new(move || {
                    while let Some(x) = co_await!(b_rx.recv()) {
                        co_await!(to_a.send(x + 1)).unwrap();
                    }
                }));
                for i in 0..n / 2 {
                    co_await!(to_b.send(i)).unwrap();
                    black_box(co_await!(a_rx.recv()).unwrap());
                }
                drop(to_b);
                co_await!(b).unwrap();
            }),
        );
    };
    compare(
        "tokio mpsc(1) ping-pong, per message",
        MESSAGES,
        native,
        corona,
    );
}

fn main() {
    // `cargo test --benches` runs this binary with `--bench` absent: keep that quick.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    // `cargo bench -p corona --bench core -- ready` runs only the cases whose name contains
    // "ready".
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let cases: [(&str, fn()); 5] = [
        ("pending_tokio", await_pending_on_tokio),
        ("pending_no_runtime", await_pending_no_runtime),
        ("ready", await_ready),
        ("create_complete", create_and_complete),
        ("mpsc_ping_pong", mpsc_ping_pong),
    ];
    println!(
        "corona core benchmark: median of {REPETITIONS} runs per case, native and corona \
         alternating; the ratio is the median of the per-run ratios\n"
    );
    for (name, case) in cases {
        if filter.as_deref().is_none_or(|f| name.contains(f)) {
            case();
        }
    }
}
