//! Entry points on tokio: [`run`] and [`spawn_local`] (feature `tokio`, on by default).

use crate::stack::DEFAULT_STACK_SIZE;
use crate::Coroutine;

/// Runs `body` as a coroutine on a new current-thread tokio runtime (io and time enabled)
/// inside a [`LocalSet`](tokio::task::LocalSet), and returns its output.
///
/// The body may [`co_await!`](crate::co_await) anything and [`spawn_local`] more coroutines.
/// It may borrow from the caller: `run` blocks the thread until the body is done.
/// `#[corona::main]` and `#[corona::test]` expand to a call of `run`.
///
/// # Panics
///
/// A panic in the body propagates out of `run`. Calling `run` from inside a tokio runtime
/// panics, as tokio's own `block_on` does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let name = String::from("corona");
/// let greeting = corona::run(|| {
///     corona::co_await!(tokio::time::sleep(Duration::from_millis(1)));
///     format!("hello from {name}") // borrows `name`
/// });
/// assert_eq!(greeting, "hello from corona");
/// ```
#[track_caller]
pub fn run<F, T>(body: F) -> T
where
    F: FnOnce() -> T,
{
    // A `match`, not a closure: the panic names the caller's line (`#[track_caller]`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => panic!("corona::run: could not build a tokio runtime: {err}"),
    };
    // Entered until `local` is dropped (declared after it, so dropped after it): dropping the
    // `LocalSet` cancels the coroutines still waiting, and their destructors may need the
    // runtime (spawn a clean-up task, start a timer). Outside it they would panic during
    // the unwinding, which aborts.
    let _entered = runtime.enter();
    let local = tokio::task::LocalSet::new();
    // SAFETY: `main` is owned by this function and moved into `block_on`, which drops it (and
    // so unwinds its stack) before it returns or unwinds. Nothing can leak it, so every borrow
    // in `body` outlives it.
    let main = unsafe { Coroutine::new_unchecked(DEFAULT_STACK_SIZE, body) };
    local.block_on(&runtime, main)
}

/// Spawns `body` as a coroutine on the current [`LocalSet`](tokio::task::LocalSet) and
/// returns its `JoinHandle`. The coroutine runs even if the handle is dropped. For another
/// stack size, use [`Builder::spawn_local`](crate::Builder::spawn_local).
///
/// # Panics
///
/// Outside of a `LocalSet` (for example outside [`run`]), as
/// [`tokio::task::spawn_local`] does.
///
/// # Examples
///
/// ```
/// corona::run(|| {
///     let (tx, rx) = tokio::sync::oneshot::channel();
///     let child = corona::spawn_local(move || {
///         let got: u32 = corona::co_await!(rx).unwrap();
///         got + 1
///     });
///     tx.send(41).unwrap();
///     assert_eq!(corona::co_await!(child).unwrap(), 42);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F, T>(body: F) -> tokio::task::JoinHandle<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    tokio::task::spawn_local(Coroutine::new(body))
}
