//! Waiting inside a coroutine: [`await_future`] (`co_await!`), [`try_await`],
//! [`yield_now`], [`in_coroutine`].

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::pin;
use core::task::{Context, Poll};

use crate::context::{self, Current, Frame};
use crate::raw::Suspend;

/// Waits for a future inside the current coroutine: `co_await!(fut)` is
/// `corona::await_future(fut)`.
///
/// Only the current coroutine is suspended, not the thread: the executor polls other tasks
/// until `fut` is ready. Works at any call depth below the coroutine's body, in plain sync
/// functions, closures, trait impls and recursion. The future is pinned on the coroutine's
/// stack, so it need not be `'static`, `Send` or `Unpin`, and nothing is allocated.
///
/// # Panics
///
/// * Outside of a coroutine: the message contains `outside of a coroutine`. Use
///   [`try_await`] to find out instead.
/// * Inside the `Future::poll` of a future that `co_await!` is driving: a `poll` must not
///   suspend its caller.
/// * When the future is pending while the coroutine is unwinding (a destructor run by a
///   panic or by dropping the coroutine): nothing would ever resume it.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// fn helper() -> u32 {
///     // A plain sync fn, far below the coroutine body, waits for a future.
///     corona::co_await!(async { 21 }) * 2
/// }
///
/// let answer = corona::Coroutine::new(helper).await;
/// assert_eq!(answer, 42);
/// # });
/// ```
#[inline(always)]
pub fn await_future<F: IntoFuture>(fut: F) -> F::Output {
    match context::current() {
        // SAFETY: `current` returned the frame of the coroutine running on this stack.
        Current::Frame(frame) => unsafe { wait_in(&*frame, fut.into_future()) },
        Current::None => outside_of_a_coroutine(),
        Current::Unwinding => dropped_coroutine(),
    }
}

/// Like [`await_future`], but outside of a coroutine it returns [`NotInCoroutine`] instead of
/// panicking (and does not poll the future).
///
/// # Examples
///
/// ```
/// // Outside of any coroutine:
/// assert!(corona::try_await(async { 1 }).is_err());
///
/// # futures::executor::block_on(async {
/// let inside = corona::Coroutine::new(|| corona::try_await(async { 1 })).await;
/// assert_eq!(inside, Ok(1));
/// # });
/// ```
#[inline]
pub fn try_await<F: IntoFuture>(fut: F) -> Result<F::Output, NotInCoroutine> {
    match context::current() {
        // SAFETY: `current` returned the frame of the coroutine running on this stack.
        Current::Frame(frame) => Ok(unsafe { wait_in(&*frame, fut.into_future()) }),
        Current::None | Current::Unwinding => Err(NotInCoroutine),
    }
}

/// Whether `co_await!` can suspend here: true inside a coroutine body (at any depth), false
/// outside one and inside the `Future::poll` of a future that `co_await!` drives.
///
/// # Examples
///
/// ```
/// assert!(!corona::in_coroutine());
/// # futures::executor::block_on(async {
/// assert!(corona::Coroutine::new(corona::in_coroutine).await);
/// # });
/// ```
pub fn in_coroutine() -> bool {
    match context::current() {
        // SAFETY: `current` returned the frame of the coroutine running on this stack.
        Current::Frame(frame) => unsafe { !(*frame).driving.get() },
        Current::None | Current::Unwinding => false,
    }
}

/// Lets the executor run other tasks once, then continues.
///
/// # Panics
///
/// Outside of a coroutine, like [`await_future`].
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// let done = corona::Coroutine::new(|| {
///     for _ in 0..3 {
///         corona::yield_now();
///     }
///     "done"
/// });
/// assert_eq!(done.await, "done");
/// # });
/// ```
pub fn yield_now() {
    await_future(YieldNow { yielded: false })
}

/// The error of [`try_await`]: there is no coroutine to suspend on this thread here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotInCoroutine;

impl fmt::Display for NotInCoroutine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "corona: not running inside a coroutine: this was called outside of a coroutine \
             (or inside the Future::poll of a future that co_await! drives), so there is \
             nothing to suspend. Call it from code that runs in a coroutine (corona::run, \
             #[corona::coroutine], corona::spawn_local, corona::Coroutine::new).",
        )
    }
}

impl std::error::Error for NotInCoroutine {}

/// Polls `fut` with the frame's current `Context` until it is ready, suspending the coroutine
/// on every `Pending`.
///
/// # Safety
///
/// `frame` is the frame [`context::current`] returned on this thread just now.
#[inline(always)]
unsafe fn wait_in<F: Future>(frame: &Frame, fut: F) -> F::Output {
    if frame.driving.get() {
        reentrant_await();
    }
    let mut fut = pin!(fut);
    loop {
        let polled = {
            let _driving = Driving::start(frame);
            // SAFETY: `cx` was stored by the poll that resumed this coroutine, which is still
            // on the stack of the thread below us: we have not suspended since.
            let cx = unsafe { &mut *frame.cx.get() };
            fut.as_mut().poll(cx)
        };
        match polled {
            Poll::Ready(out) => return out,
            // SAFETY: forwarded from this function's contract.
            Poll::Pending => unsafe { frame.suspend(Suspend::Pending) },
        }
    }
}

/// Marks the frame as inside a `Future::poll` until dropped, even if the poll panics.
struct Driving<'a>(&'a Frame);

impl<'a> Driving<'a> {
    #[inline]
    fn start(frame: &'a Frame) -> Self {
        frame.driving.set(true);
        Driving(frame)
    }
}

impl Drop for Driving<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.driving.set(false);
    }
}

#[cold]
#[inline(never)]
fn outside_of_a_coroutine() -> ! {
    panic!(
        "corona: co_await! was called outside of a coroutine, where nothing can be suspended. \
         Run the calling code inside one: mark the function #[corona::coroutine], wrap it in \
         corona::Coroutine::new(..), or start it with corona::run(..) / #[corona::main]. \
         Use corona::try_await to check instead of panicking."
    )
}

#[cold]
#[inline(never)]
fn dropped_coroutine() -> ! {
    panic!(
        "corona: co_await! was called while a suspended coroutine is being dropped: its \
         destructors run with no executor, so they cannot wait. Do the asynchronous clean-up \
         before the coroutine ends, or spawn it as a task of its own."
    )
}

#[cold]
#[inline(never)]
fn reentrant_await() -> ! {
    panic!(
        "corona: co_await! was called from inside the poll() of a future that co_await! is \
         driving. A Future::poll must not suspend its caller: return Poll::Pending from it, \
         or wrap the waiting code in its own corona::Coroutine and await that."
    )
}

/// Pending once, after asking to be polled again.
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
