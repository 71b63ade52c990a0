//! Waiting inside a coroutine: [`await_future`] (`co_await!`), [`try_await`],
//! [`yield_now`], [`in_coroutine`].

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use crate::raw::{self, Current};

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
/// * When the future is pending while the coroutine's own stack unwinds (a destructor run
///   by a panic in the coroutine, or by dropping it while suspended): nothing would ever
///   resume it. A destructor that runs during unwinding cannot let a panic out, so there
///   this **aborts the process**; use [`try_await`], which returns an error instead. (A
///   coroutine resumed while the thread was already panicking is the exception: see
///   [Cancellation and panics](crate#cancellation-and-panics).)
///
/// # Cancellation
///
/// Dropping a suspended coroutine unwinds its stack, and its destructors run with no
/// executor behind them. `co_await!` in such a destructor polls the future once (with a
/// waker that does nothing): a future that is already ready, such as an uncontended
/// `tokio::sync::Mutex::lock()`, gives its output as usual; one that is pending cannot be
/// waited for, and `co_await!` panics, which aborts (see above). The panic reports the
/// line of the `co_await!`.
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
// Inlined into every caller in optimised builds: a ready future then costs no call. Not
// forced in debug builds, where the whole wait would land in the frame of every function
// that awaits: 864 bytes per level of a recursion against 128 for a plain call (the test
// `a_function_that_awaits_costs_about_the_stack_of_a_plain_call`), a seventh of the depth.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
#[track_caller]
pub fn await_future<F: IntoFuture>(fut: F) -> F::Output {
    match raw::current() {
        // SAFETY: `current` returned the frame of the coroutine running on this stack.
        Current::Running(frame) => unsafe { (*frame).wait(fut.into_future()) },
        Current::None => outside_of_a_coroutine(),
        Current::Lent => raw::reentrant_await(),
        Current::Unwinding => match poll_once_without_executor(fut.into_future()) {
            Some(out) => out,
            None => cannot_wait_in_a_dropped_coroutine(),
        },
    }
}

/// Like [`await_future`], but where `co_await!` cannot wait it returns [`NotInCoroutine`]
/// instead of panicking:
///
/// * outside of a coroutine (without polling the future);
/// * in a destructor of a coroutine that is being dropped, when the future is not ready at
///   once (it is polled once, and a ready output is returned as `Ok`);
/// * when the future is pending while the coroutine's own stack unwinds after a panic
///   (unless the coroutine was resumed while the thread was already panicking: see
///   [Cancellation and panics](crate#cancellation-and-panics)).
///
/// So a destructor can try asynchronous clean-up without risking an abort.
///
/// # Panics
///
/// Inside the `Future::poll` of a future that `co_await!` is driving, like
/// [`await_future`].
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
///
/// In a destructor that runs while a suspended coroutine is dropped:
///
/// ```
/// struct Flush;
/// impl Drop for Flush {
///     fn drop(&mut self) {
///         // Ready at once: the value, even with no executor.
///         assert_eq!(corona::try_await(async { "flushed" }), Ok("flushed"));
///         // Pending: an error, not a panic (which would abort here).
///         assert!(corona::try_await(futures::future::pending::<()>()).is_err());
///     }
/// }
///
/// let mut c = corona::Coroutine::new(|| {
///     let _flush = Flush;
///     corona::co_await!(futures::future::pending::<()>());
/// });
/// # use futures::FutureExt;
/// assert!((&mut c).now_or_never().is_none()); // suspended
/// drop(c); // unwinds its stack: `Flush::drop` runs
/// ```
#[inline]
#[track_caller]
pub fn try_await<F: IntoFuture>(fut: F) -> Result<F::Output, NotInCoroutine> {
    let out = match raw::current() {
        // SAFETY: `current` returned the frame of the coroutine running on this stack.
        Current::Running(frame) => unsafe { (*frame).try_wait(fut.into_future()) },
        Current::None => None,
        Current::Lent => raw::reentrant_await(),
        Current::Unwinding => poll_once_without_executor(fut.into_future()),
    };
    out.ok_or(NotInCoroutine)
}

/// Whether `co_await!` can suspend here: true inside a coroutine body (at any depth), false
/// outside one, inside the `Future::poll` of a future that `co_await!` drives, and in
/// destructors that run while the coroutine unwinds.
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
    match raw::current() {
        Current::Running(frame) => {
            // SAFETY: `current` returned the frame of the coroutine running on this stack.
            let frame = unsafe { &*frame };
            !frame.unwinding()
        }
        Current::None | Current::Unwinding | Current::Lent => false,
    }
}

/// Lets the executor run other tasks once, then continues.
///
/// # Panics
///
/// Outside of a coroutine, like [`await_future`]; the panic reports the caller's line.
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
#[track_caller]
pub fn yield_now() {
    await_future(YieldNow { yielded: false })
}

/// The error of [`try_await`]: there is no coroutine that could be suspended here. Either
/// no coroutine runs on this thread, or the one that runs is unwinding (it panicked, or it
/// is being dropped) and the future was not ready at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotInCoroutine;

impl fmt::Display for NotInCoroutine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "corona: not running inside a coroutine that can wait: this was called outside of a \
             coroutine, inside the Future::poll of a future that co_await! drives, or while the \
             coroutine unwinds, so there is nothing to suspend. Call it from code that runs in a \
             coroutine (corona::run, #[corona::coroutine], corona::spawn_local, \
             corona::Coroutine::new).",
        )
    }
}

impl std::error::Error for NotInCoroutine {}

/// Polls `fut` once with a waker that does nothing: a dropped coroutine's destructors have no
/// executor that could wake them. `None` when it is pending.
fn poll_once_without_executor<F: Future>(fut: F) -> Option<F::Output> {
    let fut = pin!(fut);
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

#[cold]
#[inline(never)]
#[track_caller]
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
#[track_caller]
fn cannot_wait_in_a_dropped_coroutine() -> ! {
    panic!(
        "corona: co_await! found a pending future in a destructor of a suspended coroutine \
         that is being dropped (cancelled). Its destructors run with no executor, so only a \
         future that is ready at once can be awaited there. Inside a destructor this panic \
         aborts the process: use corona::try_await, which returns Err(NotInCoroutine) here, \
         do the asynchronous clean-up before the coroutine ends, or spawn it as a task of \
         its own."
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
