//! Generator items against `async-stream` items, measured in the same run.
//!
//! `cargo bench -p corona --bench generator`. Each case is timed 31 times, all cases back to
//! back in each round; the median is printed per item, with the ratio corona / async-stream (below 1.0 means corona is faster)
//! and the ratio to the floor: a bare corosensei resume + suspend round trip on a
//! `DefaultStack`, the stack switch a generator item cannot do without, timed in the same run.
//! Streams are polled by hand with a no-op waker, so only the stream's own cost is measured.

use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::Stream;

mod support;

const REPETITIONS: usize = 31;

/// Polls `stream` to the end and sums its items.
fn drain<S: Stream<Item = u64>>(stream: Pin<&mut S>, cx: &mut Context<'_>) -> u64 {
    let mut stream = stream;
    let mut sum = 0u64;
    loop {
        match stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => sum = sum.wrapping_add(black_box(item)),
            Poll::Ready(None) => return sum,
            Poll::Pending => unreachable!("these streams never wait"),
        }
    }
}

fn yield_from_depth(depth: u32, from: u64, to: u64, y: &corona::Yielder<u64>) {
    if depth == 0 {
        for i in from..to {
            y.yield_(i);
        }
    } else {
        yield_from_depth(black_box(depth - 1), from, to, y);
    }
}

/// Long streams: the cost of one item.
fn long_corona(n: u64, cx: &mut Context<'_>) -> u64 {
    let gen = corona::generator(move |y| {
        for i in 0..n {
            y.yield_(i);
        }
    });
    drain(pin!(gen), cx)
}

fn long_corona_nested(n: u64, cx: &mut Context<'_>) -> u64 {
    let gen = corona::generator(move |y| yield_from_depth(8, 0, n, y));
    drain(pin!(gen), cx)
}

fn long_async_stream(n: u64, cx: &mut Context<'_>) -> u64 {
    let stream = async_stream::stream! {
        for i in 0..n {
            yield i;
        }
    };
    drain(pin!(stream), cx)
}

/// The floor: a bare corosensei coroutine whose body loops `yielder.suspend(i)`, resumed in
/// the same kind of loop as `drain`. No thread-local, no `Context`, no checks.
fn long_raw_switch(n: u64, _cx: &mut Context<'_>) -> u64 {
    use corosensei::stack::DefaultStack;
    use corosensei::{Coroutine, CoroutineResult};
    let stack = DefaultStack::new(256 * 1024).expect("a 256 KiB stack");
    let mut coroutine = Coroutine::with_stack(stack, move |yielder, ()| {
        for i in 0..n {
            yielder.suspend(i);
        }
    });
    let mut sum = 0u64;
    loop {
        match coroutine.resume(()) {
            CoroutineResult::Yield(item) => sum = sum.wrapping_add(black_box(item)),
            CoroutineResult::Return(()) => return sum,
        }
    }
}

/// Many short streams: creation, 10 items, and the end.
fn short_corona(streams: u64, cx: &mut Context<'_>) -> u64 {
    let mut sum = 0;
    for s in 0..streams {
        let gen = corona::generator(move |y| {
            for i in s..s + 10 {
                y.yield_(i);
            }
        });
        sum += drain(pin!(gen), cx);
    }
    sum
}

fn short_async_stream(streams: u64, cx: &mut Context<'_>) -> u64 {
    let mut sum = 0;
    for s in 0..streams {
        let stream = async_stream::stream! {
            for i in s..s + 10 {
                yield i;
            }
        };
        sum += drain(pin!(stream), cx);
    }
    sum
}

/// Nanoseconds per item of one run of `case(n)`.
fn ns_per_item(case: fn(u64, &mut Context<'_>) -> u64, n: u64, items: u64) -> f64 {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let start = Instant::now();
    black_box(case(black_box(n), &mut cx));
    start.elapsed().as_nanos() as f64 / items as f64
}

/// A case to time: the function, its `n`, and how many items one call produces.
type Case = (fn(u64, &mut Context<'_>) -> u64, u64, u64);

/// Times every case of `cases` once per repetition, the cases back to back, after one
/// warm-up round: the medians per case, and the median over repetitions of each case's time
/// divided by the first case's time in the same repetition. On a noisy machine the paired
/// ratio is steadier than a ratio of medians taken at different moments.
fn interleaved(cases: &[Case]) -> (Vec<f64>, Vec<f64>) {
    for &(case, n, items) in cases {
        black_box(ns_per_item(case, n, items));
    }
    let rounds: Vec<Vec<f64>> = (0..REPETITIONS)
        .map(|_| {
            cases
                .iter()
                .map(|&(c, n, items)| ns_per_item(c, n, items))
                .collect()
        })
        .collect();
    let column = |i: usize| rounds.iter().map(|r| r[i]).collect::<Vec<_>>();
    let medians = (0..cases.len())
        .map(|i| support::median(column(i)))
        .collect();
    let ratios = (0..cases.len())
        .map(|i| support::median(rounds.iter().map(|r| r[i] / r[0]).collect()))
        .collect();
    (medians, ratios)
}

fn report(name: &str, corona_ns: f64, async_stream_ns: f64, to_floor: f64) {
    println!(
        "{name:<34} corona {corona_ns:>7.2} ns/item   async-stream {async_stream_ns:>7.2} ns/item   \
         ratio corona/async-stream {:.2}   corona/floor {to_floor:.2}",
        corona_ns / async_stream_ns,
    );
}

fn main() {
    const LONG: u64 = 2_000_000;
    const SHORT: u64 = 100_000;
    println!(
        "median of {REPETITIONS} rounds; each round runs the floor and the cases back to back, \
         and corona/floor is the median of the per-round ratios"
    );

    let (ns, to_floor) = interleaved(&[
        (long_raw_switch, LONG, LONG),
        (long_async_stream, LONG, LONG),
        (long_corona, LONG, LONG),
        (long_corona_nested, LONG, LONG),
        (short_async_stream, SHORT, SHORT * 10),
        (short_corona, SHORT, SHORT * 10),
    ]);
    println!(
        "floor: raw corosensei resume + suspend {:>7.2} ns/round trip",
        ns[0]
    );
    report("one stream, 2M items", ns[2], ns[1], to_floor[2]);
    report("  corona yielding from depth 8", ns[3], ns[1], to_floor[3]);
    report(
        "100k streams of 10 items (+create)",
        ns[5],
        ns[4],
        to_floor[5],
    );
}
