//! The one wait every `Blocking` call makes: poll the inner type to readiness inside the
//! current coroutine, cut short by an [`Interrupt`] or a timeout.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::errors;
use super::Interrupt;
use crate::raw::{Current, Frame};

/// What may end a wait early.
#[derive(Clone, Copy, Default)]
pub(super) struct Limits<'a> {
    /// The call fails with `TimedOut` if it waits this long (feature `tokio`).
    pub(super) timeout: Option<Duration>,
    /// While raised, the call returns `WouldBlock` instead of waiting.
    pub(super) interrupt: Option<&'a Interrupt>,
}

/// Polls `poll` to readiness inside the current coroutine, retrying `Interrupted`.
///
/// The inner type is always polled first, so a call that can make progress is not affected
/// by the limits; they are looked at only when it is about to wait. A call they end has
/// transferred nothing (the inner type returned `Pending`).
pub(super) fn wait_io<R>(
    limits: Limits<'_>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<io::Result<R>>,
) -> io::Result<R> {
    // Outside a coroutine the inner value is not even polled, and inside the `poll` of a
    // future that `co_await!` drives this is an error, not a panic. A wait while this
    // coroutine's own stack unwinds (it panicked, or it is being dropped) would be refused
    // with a panic inside a destructor, an abort: fail the call instead, destructors ignore
    // such errors. Past this check waiting on `frame` cannot fail.
    let frame = match crate::raw::current() {
        Current::Running(frame) => {
            // SAFETY: `current` returned the frame of the coroutine running on this stack.
            let frame = unsafe { &*frame };
            if frame.unwinding() {
                return Err(errors::unwinding());
            }
            frame
        }
        Current::Unwinding => return Err(errors::unwinding()),
        Current::None | Current::Lent => return Err(errors::not_in_coroutine()),
    };
    if limits.timeout.is_none() && limits.interrupt.is_none() {
        return retry_interrupted(|| wait(frame, &mut poll));
    }
    wait_limited(frame, limits, poll)
}

/// Waits for `poll` on `frame`, the frame `wait_io` found: no second thread-local read.
fn wait<R>(frame: &Frame, poll: impl FnMut(&mut Context<'_>) -> Poll<R>) -> R {
    // SAFETY: `frame` is the running coroutine's frame, found by `wait_io` on this stack;
    // this code runs on that stack, so it is still the current one after every suspend, and
    // no `Future::poll` of `co_await!` is in between (`current` said `Running`, not `Lent`).
    unsafe { frame.wait(std::future::poll_fn(poll)) }
}

/// `BufRead::fill_buf` of both `Blocking` types, over tokio's or futures' `poll_fill_buf`:
/// waits until `inner` has data (or is at its end) and returns its own buffer, no copy.
///
/// The returned slice borrows `inner` for as long as the caller's `&mut self`, which a closure
/// passed to `poll_fn` cannot hand out. So it waits for readiness first, keeping only the
/// length, then takes the slice with a second poll. The data is buffered and nothing was
/// consumed, so an `AsyncBufRead` returns that same buffer at once without touching the
/// underlying I/O; it registers no waker, which is why a no-op one is enough. Every later wait
/// polls with the coroutine's real waker again.
pub(super) fn fill_buf<'a, T: Unpin>(
    inner: &'a mut T,
    limits: Limits<'_>,
    poll_fill_buf: impl for<'b> Fn(Pin<&'b mut T>, &mut Context<'_>) -> Poll<io::Result<&'b [u8]>>,
) -> io::Result<&'a [u8]> {
    let available = wait_io(limits, |cx| {
        poll_fill_buf(Pin::new(&mut *inner), cx).map_ok(<[u8]>::len)
    })?;
    if available == 0 {
        return Ok(&[]); // the end of the stream: no need to poll it again
    }
    let mut cx = Context::from_waker(Waker::noop());
    match poll_fill_buf(Pin::new(inner), &mut cx) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(errors::lost_buffer()),
    }
}

fn retry_interrupted<R>(mut wait: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match wait() {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// [`wait_io`] with an interrupt or a timeout.
fn wait_limited<R>(
    frame: &Frame,
    limits: Limits<'_>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<io::Result<R>>,
) -> io::Result<R> {
    let mut registration = limits.interrupt.map(Interrupt::register);
    // Per call: the timer holds across `Interrupted` retries.
    #[cfg(feature = "tokio")]
    let sleep = std::pin::pin!(None);
    #[cfg(feature = "tokio")]
    let mut timer = timer::Timer::new(limits.timeout, sleep);
    #[cfg(not(feature = "tokio"))]
    debug_assert!(limits.timeout.is_none(), "timeouts need the tokio feature");
    retry_interrupted(|| {
        wait(frame, |cx| {
            if let Poll::Ready(result) = poll(cx) {
                return Poll::Ready(result);
            }
            if let Some(registration) = &mut registration {
                if registration.raised_or_register(cx.waker()) {
                    return Poll::Ready(Err(errors::interrupted()));
                }
            }
            #[cfg(feature = "tokio")]
            if let Poll::Ready(err) = timer.poll_expired(cx) {
                return Poll::Ready(Err(err));
            }
            Poll::Pending
        })
    })
}

#[cfg(feature = "tokio")]
mod timer {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use tokio::time::{Instant, Sleep};

    use super::errors;

    /// A call's timeout; its tokio timer is only created when the call has to wait, in a
    /// place on the coroutine's stack (no allocation).
    pub(super) struct Timer<'a> {
        timeout: Option<Duration>,
        sleep: Pin<&'a mut Option<Sleep>>,
    }

    impl<'a> Timer<'a> {
        pub(super) fn new(timeout: Option<Duration>, sleep: Pin<&'a mut Option<Sleep>>) -> Self {
            Timer { timeout, sleep }
        }

        /// `Ready` with the error to return once the timeout has passed. The clock starts at
        /// the first call, which is the call's first `Pending`: a call that never waits never
        /// reads the clock.
        pub(super) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
            let Some(timeout) = self.timeout else {
                return Poll::Pending;
            };
            if self.sleep.is_none() {
                // `sleep` panics outside a runtime; an I/O error is kinder.
                if tokio::runtime::Handle::try_current().is_err() {
                    return Poll::Ready(errors::no_timer());
                }
                // A timeout beyond the clock's range is no timeout (as on std's sockets).
                let Some(deadline) = Instant::now().checked_add(timeout) else {
                    self.timeout = None;
                    return Poll::Pending;
                };
                self.sleep.set(Some(tokio::time::sleep_until(deadline)));
            }
            let sleep = self.sleep.as_mut().as_pin_mut().expect("set just above");
            sleep.poll(cx).map(|()| errors::timed_out())
        }
    }
}
