//! Generator items against `async-stream` items, measured in the same run.
//!
//! `cargo bench -p corona --bench generator`. Each case is timed 11 times; the median is
//! printed per item, with the ratio corona / async-stream (below 1.0 means corona is faster)
//! and the ratio to the floor: a bare corosensei resume + suspend round trip on a
//! `DefaultStack`, the stack switch a generator item cannot do without, timed in the same run.
//! Streams are polled by hand with a no-op waker, so only the stream's own cost is measured.

use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::Stream;

mod support;

const REPETITIONS: usize = 11;

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

/// Median nanoseconds per item of `case(n)`, over [`REPETITIONS`] runs after a warm-up.
fn median_ns_per_item(case: fn(u64, &mut Context<'_>) -> u64, n: u64, items: u64) -> f64 {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    black_box(case(n, &mut cx));
    support::median_of(REPETITIONS, || {
        let start = Instant::now();
        black_box(case(black_box(n), &mut cx));
        start.elapsed().as_nanos() as f64 / items as f64
    })
}

fn report(name: &str, corona_ns: f64, async_stream_ns: f64, floor_ns: f64) {
    println!(
        "{name:<34} corona {corona_ns:>7.2} ns/item   async-stream {async_stream_ns:>7.2} ns/item   \
         ratio corona/async-stream {:.2}   corona/floor {:.2}",
        corona_ns / async_stream_ns,
        corona_ns / floor_ns,
    );
}

fn main() {
    const LONG: u64 = 2_000_000;
    const SHORT: u64 = 100_000;
    println!("median of {REPETITIONS} runs");

    let floor = median_ns_per_item(long_raw_switch, LONG, LONG);
    println!("floor: raw corosensei resume + suspend {floor:>7.2} ns/round trip");
    let a = median_ns_per_item(long_async_stream, LONG, LONG);
    let c = median_ns_per_item(long_corona, LONG, LONG);
    report("one stream, 2M items", c, a, floor);
    let c = median_ns_per_item(long_corona_nested, LONG, LONG);
    report("  corona yielding from depth 8", c, a, floor);

    let a = median_ns_per_item(short_async_stream, SHORT, SHORT * 10);
    let c = median_ns_per_item(short_corona, SHORT, SHORT * 10);
    report("100k streams of 10 items (+create)", c, a, floor);
}
