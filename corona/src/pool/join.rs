//! What [`Pool::spawn`](crate::Pool::spawn) returns: [`PoolJoinHandle`] and [`JoinError`].

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{ready, Context, Poll};

use futures_util::future::AbortHandle;
use tokio::sync::oneshot;

/// A pool job's outcome, sent from its worker to its [`PoolJoinHandle`].
pub(crate) type Outcome<T> = Result<T, JoinError>;

/// Why a pool job produced no value: it panicked, or it was cancelled.
///
/// Shaped like [`tokio::task::JoinError`]: [`is_panic`](Self::is_panic),
/// [`into_panic`](Self::into_panic), [`try_into_panic`](Self::try_into_panic),
/// [`is_cancelled`](Self::is_cancelled). It is `Send + Sync + 'static` and implements
/// [`std::error::Error`], so `?` converts it into `Box<dyn Error + Send + Sync>`.
///
/// # Examples
///
/// ```
/// let pool = corona::Pool::new(1);
/// let job = pool.spawn(|| -> u32 { panic!("no answer") });
/// let err = futures::executor::block_on(job).unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), r#"pool job panicked with message "no answer""#);
/// // The worker survives a panic and keeps serving.
/// assert_eq!(futures::executor::block_on(pool.spawn(|| 42)).unwrap(), 42);
/// ```
pub struct JoinError {
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The payload is `Send` but not `Sync`; the mutex makes the error `Sync`, as tokio does.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled() -> Self {
        Self {
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>) -> Self {
        Self {
            repr: Repr::Panic(Mutex::new(payload)),
        }
    }

    /// Whether the job panicked. The panic did not take its worker down.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(1);
    /// let err = futures::executor::block_on(pool.spawn(|| panic!("boom"))).unwrap_err();
    /// assert!(err.is_panic() && !err.is_cancelled());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// Whether the job was cancelled before it finished: [aborted](PoolJoinHandle::abort), or
    /// dropped because its pool was dropped (or shut down with a timeout) while it still ran.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(1);
    /// let job = pool.spawn(|| corona::co_await!(std::future::pending::<()>()));
    /// job.abort();
    /// assert!(futures::executor::block_on(job).unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The panic payload, to inspect or to re-raise with [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// If the job was cancelled rather than panicked; see [`try_into_panic`](Self::try_into_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(1);
    /// let err = futures::executor::block_on(pool.spawn(|| panic!("boom"))).unwrap_err();
    /// let payload = err.into_panic();
    /// assert_eq!(*payload.downcast::<&str>().unwrap(), "boom");
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().unwrap_or_else(|err| {
            panic!(
                "JoinError::into_panic: {err}; check `is_panic()` first or use `try_into_panic()`"
            )
        })
    }

    /// The panic payload, or the error back if the job was cancelled.
    ///
    /// # Errors
    ///
    /// Returns `self` when the job did not panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(1);
    /// let err = futures::executor::block_on(pool.spawn(|| panic!("boom"))).unwrap_err();
    /// assert!(err.try_into_panic().is_ok());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str(
                "pool job was cancelled: it was aborted, or its pool was dropped before it finished",
            ),
            Repr::Panic(payload) => {
                let payload = payload
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match panic_message(&**payload) {
                    Some(message) => write!(f, "pool job panicked with message {message:?}"),
                    None => f.write_str("pool job panicked"),
                }
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => f.write_str("JoinError::Cancelled"),
            Repr::Panic(_) => write!(f, "JoinError::Panic({self})"),
        }
    }
}

impl std::error::Error for JoinError {}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// A `Send` future of a pool job's result, returned by [`Pool::spawn`](crate::Pool::spawn)
/// and [`PoolHandle::spawn`](crate::PoolHandle::spawn).
///
/// Resolves to `Ok(value)`, or to a [`JoinError`] when the job panicked or was cancelled.
/// Await it on any executor, from any thread. Dropping it detaches the job, which still runs
/// to completion, as with tokio's `JoinHandle`; [`abort`](Self::abort) cancels it.
///
/// # Cancel safety
///
/// Dropping the handle never cancels the job; awaiting it again after a `select!` branch lost
/// is fine.
///
/// # Examples
///
/// ```
/// let pool = corona::Pool::new(2);
/// let job: corona::PoolJoinHandle<String> = pool.spawn(|| "done".to_string());
/// assert_eq!(futures::executor::block_on(job).unwrap(), "done");
/// ```
#[must_use = "dropping a PoolJoinHandle detaches the job; await it to get its result"]
pub struct PoolJoinHandle<T> {
    outcome: oneshot::Receiver<Outcome<T>>,
    abort: AbortHandle,
}

impl<T> PoolJoinHandle<T> {
    pub(crate) fn new(outcome: oneshot::Receiver<Outcome<T>>, abort: AbortHandle) -> Self {
        Self { outcome, abort }
    }

    /// Cancels the job: if it has not finished, it is dropped on its worker the next time the
    /// worker runs it (a suspended coroutine unwinds, so its destructors run there) and this
    /// handle resolves to a [`JoinError`] whose [`is_cancelled`](JoinError::is_cancelled) is
    /// true. A job that already finished keeps its result.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(1);
    /// let job = pool.spawn(|| corona::co_await!(std::future::pending::<u32>()));
    /// job.abort();
    /// assert!(futures::executor::block_on(job).unwrap_err().is_cancelled());
    /// ```
    pub fn abort(&self) {
        self.abort.abort();
    }
}

impl<T> Future for PoolJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The worker drops the sender unsent only when it drops the job (pool dropped).
        Poll::Ready(
            ready!(Pin::new(&mut self.outcome).poll(cx))
                .unwrap_or_else(|_| Err(JoinError::cancelled())),
        )
    }
}

impl<T> fmt::Debug for PoolJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolJoinHandle").finish_non_exhaustive()
    }
}
