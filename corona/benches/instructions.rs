//! Instructions per operation on corona's hot paths, beside native async and the bare stack
//! switch, counted by `valgrind --tool=callgrind`: exact, and the same on every run of one
//! build, where wall-clock times on a shared machine swing by tens of percent. The tool to
//! compare two versions of a hot path.
//!
//! `corona/benches/instructions.sh` runs every case under callgrind with 1,000 and 11,000
//! operations and prints the difference over 10,000: the cost of one operation, with start-up
//! and warm-up cancelled out. By hand: `instructions <case> <n>` performs `n` operations.

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use corona::{co_await, Coroutine, Yielder};
use futures::task::noop_waker_ref;
use futures::Stream;

mod support;
use support::{spin, PendingOnce};

/// Polls `stream` to the end by hand and sums its items.
fn drain<S: Stream<Item = u64>>(stream: S) -> u64 {
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut sum = 0u64;
    while let Poll::Ready(Some(item)) = stream.as_mut().poll_next(&mut cx) {
        sum = sum.wrapping_add(black_box(item));
    }
    sum
}

fn yield_from_depth(depth: u32, n: u64, y: &Yielder<u64>) {
    if depth == 0 {
        (0..n).for_each(|i| y.yield_(i));
    } else {
        yield_from_depth(black_box(depth - 1), n, y);
    }
}

/// A case: its name, what one operation is, and the code that performs `n` of them.
type Case = (&'static str, &'static str, fn(u64) -> u64);

const CASES: &[Case] = &[
    ("ready", "co_await! of a ready future", |n| {
        spin(Coroutine::new(move || {
            (0..n).map(|i| co_await!(async move { black_box(i) })).sum()
        }))
    }),
    ("native-ready", ".await of a ready future", |n| {
        spin(async move {
            let mut sum = 0;
            for i in 0..n {
                sum += async move { black_box(i) }.await;
            }
            sum
        })
    }),
    ("pending", "co_await! of a Pending-once future", |n| {
        spin(Coroutine::new(move || {
            (0..n).map(|_| co_await!(PendingOnce(false))).sum()
        }))
    }),
    ("native-pending", ".await of a Pending-once future", |n| {
        spin(async move {
            let mut sum = 0;
            for _ in 0..n {
                sum += PendingOnce(false).await;
            }
            sum
        })
    }),
    ("create", "Coroutine::new + poll to completion", |n| {
        (0..n)
            .map(|i| spin(Coroutine::new(move || black_box(i))))
            .sum()
    }),
    (
        "native-create",
        "Box::pin(async) + poll to completion",
        |n| {
            (0..n)
                .map(|i| {
                    let fut: Pin<Box<dyn Future<Output = u64>>> =
                        black_box(Box::pin(async move { black_box(i) }));
                    spin(fut)
                })
                .sum()
        },
    ),
    ("generator", "generator item, yielded by the body", |n| {
        drain(corona::generator(move |y| (0..n).for_each(|i| y.yield_(i))))
    }),
    (
        "generator-depth-8",
        "generator item, yielded 8 calls deep",
        |n| drain(corona::generator(move |y| yield_from_depth(8, n, y))),
    ),
    ("raw-switch", "bare corosensei resume + suspend", |n| {
        use corosensei::stack::DefaultStack;
        use corosensei::{Coroutine, CoroutineResult};
        let stack = DefaultStack::new(256 * 1024).expect("a 256 KiB stack");
        let mut raw = Coroutine::with_stack(stack, move |yielder, ()| {
            (0..n).for_each(|i| yielder.suspend(i));
        });
        let mut sum = 0u64;
        while let CoroutineResult::Yield(i) = raw.resume(()) {
            sum = sum.wrapping_add(black_box(i));
        }
        sum
    }),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(case), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse().ok())) else {
        // `cargo bench` without arguments: say how to use it, and succeed.
        println!("usage: instructions <case> <n>, or corona/benches/instructions.sh; cases:");
        for (name, what, _) in CASES {
            println!("  {name:<18} {what}");
        }
        return;
    };
    let Some((_, _, run)) = CASES.iter().find(|(name, ..)| name == case) else {
        eprintln!("unknown case {case:?}");
        std::process::exit(2);
    };
    // Warm up: the thread's stack pool holds a stack, the first-use paths have run.
    black_box(spin(Coroutine::new(|| 1)));
    black_box(run(black_box(n)));
}
