// Teaches: `co_next`/`co_iter` need a `Stream + Unpin`. Streams built from async blocks
// (`stream::unfold`, `async_stream`) are not `Unpin`: pin them first with `Box::pin(s)` or
// `std::pin::pin!(s)`. A method call names the missing bound; passing such a stream where a
// `CoStreamExt` is expected also gives the advice.
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

use corona::prelude::*;

/// Not `Unpin`, like the streams that async blocks make.
struct Countdown {
    _pinned: PhantomPinned,
}

impl futures::Stream for Countdown {
    type Item = u32;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<u32>> {
        Poll::Ready(None)
    }
}

fn total(numbers: impl CoStreamExt<Item = u32>) -> u32 {
    numbers.co_iter().sum()
}

fn main() {
    corona::run(|| {
        let mut countdown = Countdown { _pinned: PhantomPinned };
        let _ = countdown.co_next();
        let _ = total(Countdown { _pinned: PhantomPinned });
    });
}
