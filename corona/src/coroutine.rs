//! [`Coroutine<T>`]: a future whose body runs on a stack of its own, and [`Builder`].

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::raw::{RawCoroutine, Step, Suspend};
use crate::stack::{self, DEFAULT_STACK_SIZE};

/// A future that runs a closure on its own stack, so that the closure can wait for futures
/// with [`co_await!`](crate::co_await) at any call depth.
///
/// Creating a `Coroutine` runs nothing. Each `poll` resumes the body with that poll's
/// `Context` until the body waits for a pending future (the poll returns `Pending`) or
/// returns (`Ready`). It works on any executor.
///
/// * **`!Send`**: a stack never changes thread. Spawn it with
///   [`spawn_local`](crate::spawn_local) / a `LocalSet`, or use [`Pool`](crate::Pool) for
///   many cores.
/// * **`'static` bodies**: the closure owns what it uses, as with `std::thread::spawn`. (A
///   borrowing body could be leaked with `mem::forget` while code inside it still used the
///   borrow.) The futures it awaits may borrow: they live on its stack.
/// * **Cancellation**: dropping a suspended coroutine unwinds its stack, so every destructor
///   on it runs, at every depth, including the future it was waiting for. This needs
///   `panic = "unwind"` (the default). Dropping one that never ran drops the closure. The
///   destructors have no executor: `co_await!` there returns the output of a future that
///   is ready at once, and cannot wait for a pending one (see
///   [`await_future`](crate::await_future#cancellation)).
/// * **Panics** in the body resume out of `poll`, on the poller's thread.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// use corona::{co_await, Coroutine};
///
/// fn double_later(x: u32) -> u32 {
///     co_await!(async { x * 2 })
/// }
///
/// let c: Coroutine<u32> = Coroutine::new(|| double_later(21));
/// assert_eq!(c.await, 42);
/// # });
/// ```
///
/// Not `Send`:
///
/// ```compile_fail,E0277
/// fn assert_send<T: Send>(_: T) {}
/// assert_send(corona::Coroutine::new(|| 1));
/// ```
#[must_use = "a coroutine does nothing until it is polled or awaited"]
pub struct Coroutine<T> {
    /// `None` once the body returned and the stack went back to the pool. A body that
    /// panicked keeps its (`done`) coroutine until the `Coroutine` is dropped, so that a
    /// later poll can say what happened.
    raw: Option<RawCoroutine<T>>,
    /// Neither `Send` nor `Sync`: the stack belongs to the thread that first ran it.
    _not_send: StaysOnItsThread,
}

/// Makes the type holding it neither `Send` nor `Sync`, and changes no other auto trait
/// (`Unpin`, `UnwindSafe`, `RefUnwindSafe` stay). [`Coroutine`], [`Generator`](crate::Generator)
/// and [`Yielder`](crate::Yielder) hold one: a coroutine's stack never changes thread.
///
/// A trait object rather than a raw pointer, so that the compiler's error names the reason:
/// "`(dyn CoroutineStackStaysOnItsThread + ...)` cannot be sent between threads safely".
pub(crate) type StaysOnItsThread = PhantomData<
    dyn CoroutineStackStaysOnItsThread + Unpin + std::panic::UnwindSafe + std::panic::RefUnwindSafe,
>;

/// Never implemented: its name is what a "cannot be sent between threads" error shows.
pub(crate) trait CoroutineStackStaysOnItsThread {}

impl<T: 'static> Coroutine<T> {
    /// A coroutine that runs `body` on a stack of the default size
    /// ([`DEFAULT_STACK_SIZE`](crate::DEFAULT_STACK_SIZE)).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let c = corona::Coroutine::new(|| "hello");
    /// assert_eq!(c.await, "hello");
    /// # });
    /// ```
    pub fn new<F>(body: F) -> Self
    where
        F: FnOnce() -> T + 'static,
    {
        Builder::new().build(body)
    }
}

impl<T> Coroutine<T> {
    /// A coroutine whose body may borrow.
    ///
    /// # Safety
    ///
    /// The coroutine must be dropped before anything `body` borrows goes away, on every path
    /// (including panics), and must never be leaked.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // only `run` borrows
    pub(crate) unsafe fn new_unchecked<F>(stack_size: usize, body: F) -> Self
    where
        F: FnOnce() -> T,
    {
        Coroutine {
            // SAFETY: forwarded to our caller.
            raw: Some(unsafe { RawCoroutine::new_unchecked(stack_size, |_| body()) }),
            _not_send: PhantomData,
        }
    }

    /// Whether the body has finished: it returned (and `poll` gave its output), or it
    /// panicked (and the panic came out of `poll`). Polling a finished coroutine panics.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let mut c = corona::Coroutine::new(|| 7);
    /// assert!(!c.is_finished());
    /// assert_eq!((&mut c).await, 7);
    /// assert!(c.is_finished());
    ///
    /// let mut failing = corona::Coroutine::new(|| panic!("oops"));
    /// # let hook = std::panic::take_hook();
    /// # std::panic::set_hook(Box::new(|_| {}));
    /// let caught = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(&mut failing));
    /// assert!(caught.await.is_err());
    /// # std::panic::set_hook(hook);
    /// assert!(failing.is_finished());
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.as_ref().is_none_or(RawCoroutine::done)
    }
}

impl<T> Future for Coroutine<T> {
    type Output = T;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let Some(raw) = this.raw.as_mut() else {
            polled_after_its_output();
        };
        match raw.resume(cx) {
            Step::Suspended(why) => {
                debug_assert_eq!(why, Suspend::Pending, "only generators yield items");
                Poll::Pending
            }
            Step::Done(out) => {
                // Drop it now: the stack goes back to the pool for the next coroutine.
                this.raw = None;
                Poll::Ready(out)
            }
        }
    }
}

#[cold]
#[inline(never)]
fn polled_after_its_output() -> ! {
    panic!("corona: a Coroutine was polled again after it returned its output")
}

impl<T> fmt::Debug for Coroutine<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.raw {
            None => "finished",
            Some(raw) if raw.done() => "finished (panicked)",
            Some(raw) if raw.started() => "suspended",
            Some(_) => "not started",
        };
        f.debug_struct("Coroutine").field("state", &state).finish()
    }
}

/// Configures a [`Coroutine`] before it is created.
///
/// # Examples
///
/// ```
/// # futures::executor::block_on(async {
/// fn depth(n: u32) -> u32 {
///     let frame = [n as u8; 4096];
///     if n == 0 { frame[0] as u32 } else { 1 + depth(n - 1) + frame[1] as u32 * 0 }
/// }
///
/// let deep = corona::Builder::new()
///     .stack_size(4 * 1024 * 1024)
///     .build(|| depth(500));
/// assert_eq!(deep.await, 500);
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    pub(crate) stack_size: usize, // read by `Builder::spawn_scoped` (scope.rs)
}

impl Builder {
    /// A builder with the default settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = corona::Builder::new();
    /// # let _ = builder;
    /// ```
    pub fn new() -> Self {
        Builder {
            stack_size: DEFAULT_STACK_SIZE,
        }
    }

    /// Sets the usable stack size in bytes (default
    /// [`DEFAULT_STACK_SIZE`](crate::DEFAULT_STACK_SIZE); at least
    /// [`MIN_STACK_SIZE`](crate::MIN_STACK_SIZE) is used). Only the pages the body touches
    /// cost memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = corona::Builder::new().stack_size(1 << 20);
    /// # let _ = builder;
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = stack::normalize(bytes);
        self
    }

    /// Creates the coroutine. Nothing runs until it is polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let c = corona::Builder::new().stack_size(64 * 1024).build(|| 1 + 1);
    /// assert_eq!(c.await, 2);
    /// # });
    /// ```
    pub fn build<F, T>(self, body: F) -> Coroutine<T>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        Coroutine {
            raw: Some(RawCoroutine::new(self.stack_size, |_| body())),
            _not_send: PhantomData,
        }
    }
}

#[cfg(feature = "tokio")]
impl Builder {
    /// Spawns the coroutine on the current [`LocalSet`](tokio::task::LocalSet), like
    /// [`corona::spawn_local`](crate::spawn_local) with this builder's settings, and returns
    /// its `JoinHandle`. The coroutine runs even if the handle is dropped.
    ///
    /// # Panics
    ///
    /// Outside of a `LocalSet` (for example outside [`corona::run`](crate::run)), as
    /// [`tokio::task::spawn_local`] does.
    ///
    /// # Examples
    ///
    /// ```
    /// corona::run(|| {
    ///     let big = corona::Builder::new()
    ///         .stack_size(4 * 1024 * 1024)
    ///         .spawn_local(|| corona::stack_usage().unwrap().size());
    ///     assert!(corona::co_await!(big).unwrap() >= 4 * 1024 * 1024);
    /// });
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    #[track_caller]
    pub fn spawn_local<F, T>(self, body: F) -> tokio::task::JoinHandle<T>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        tokio::task::spawn_local(self.build(body))
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}
