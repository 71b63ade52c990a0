//! What the plain-harness benchmarks share: medians over repeated runs, and the futures and
//! the no-executor poll loop of the await cases.

// Each benchmark binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;

/// The median of `samples` (the upper one for an even count).
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The median of `repetitions` calls of `sample`.
pub fn median_of(repetitions: usize, mut sample: impl FnMut() -> f64) -> f64 {
    median((0..repetitions).map(|_| sample()).collect())
}

/// Pending once (after waking itself), then ready.
pub struct PendingOnce(pub bool);

impl Future for PendingOnce {
    type Output = u64;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if self.0 {
            Poll::Ready(1)
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Polls `fut` to completion with a no-op waker (every future here wakes itself).
pub fn spin<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(noop_waker_ref());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}
