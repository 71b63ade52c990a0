//! Many cores: [`Pool`] runs coroutines on a fixed set of worker threads (feature `tokio`).
//!
//! A coroutine's stack never changes thread, so corona scales across cores by *pinning*: each
//! job is sent, as a `Send` closure, to one worker, and runs there as a [`Coroutine`] from
//! start to end. Inside, it may `co_await!` anything, including `!Send` futures it creates.
//!
//! # Design
//!
//! This is the design of tokio-util's [`LocalPoolHandle::spawn_pinned`][lph], the proven
//! answer for `!Send` tasks on many cores, built from the same tokio parts:
//!
//! * each worker is a thread running a current-thread tokio runtime (io and time enabled) with
//!   a [`LocalSet`](tokio::task::LocalSet), fed through an unbounded tokio channel;
//! * a job goes to the **least busy** worker: each worker counts the jobs it accepted and has
//!   not finished, and `spawn` picks the smallest count (ties rotate, so idle workers share
//!   short jobs). A worker held up by long jobs gets fewer new ones — not blind round-robin;
//! * the job runs as one `spawn_local`ed task; tokio-style [`JoinError`]s report panics.
//!
//! It is written here rather than wrapping `LocalPoolHandle` because reading tokio-util 0.7.20
//! shows what this pool needs and that one lacks: its worker threads are detached, so nothing
//! can wait for them to exit (when the last handle goes, each worker cancels its unfinished
//! jobs in the background); there is no graceful shutdown; and each job costs two tasks (a
//! wrapper task on the worker's runtime relays the inner task's `JoinHandle` over a second
//! channel). Here each job is one task and one oneshot channel, [`Pool::shutdown`] lets
//! accepted jobs finish and joins the threads, and dropping a [`Pool`] cancels unfinished jobs
//! and joins the threads. Balancing (load counts) and panic handling (caught per task, the
//! worker lives on) are the same. A job's coroutine, and so its stack, is created when its
//! worker first polls it: jobs waiting in a queue hold no stack.
//!
//! [lph]: https://docs.rs/tokio-util/0.7/tokio_util/task/struct.LocalPoolHandle.html
//!
//! # Panics and cancellation
//!
//! A panic in a job is caught on its worker and becomes a [`JoinError`] whose
//! [`is_panic`](JoinError::is_panic) is true; the worker keeps serving. So does a job that
//! gets no stack (the process is out of memory or of mappings): its panic says so. A job
//! cancelled by [`PoolJoinHandle::abort`] or by dropping the pool is dropped on its worker: a
//! suspended coroutine unwinds its stack there, running every destructor.

mod join;
mod worker;

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use futures_util::future::{AbortHandle, Abortable};
use futures_util::FutureExt;
use tokio::sync::oneshot;

pub use self::join::{JoinError, PoolJoinHandle};
use self::worker::{LoadGuard, Message, Stop, Worker};
use crate::Coroutine;

/// A fixed set of worker threads that run coroutines, each pinned to one worker.
///
/// [`spawn`](Self::spawn) sends a `Send` closure to the least busy worker, which runs it as a
/// [`Coroutine`] on a current-thread tokio runtime with a `LocalSet` (so the closure may
/// [`co_await!`](crate::co_await) anything and [`spawn_local`](crate::spawn_local) more
/// coroutines). It returns a `Send` future of the closure's result: await it anywhere.
///
/// `Pool` is `Send + Sync`. For spawning from many places, [`handle`](Self::handle) gives a
/// cheap `Clone` [`PoolHandle`] that does not keep the threads alive.
///
/// Stopping: [`shutdown`](Self::shutdown) lets the jobs already accepted finish and waits for
/// the threads; dropping the pool cancels unfinished jobs (their handles report
/// [`is_cancelled`](JoinError::is_cancelled)) and waits for the threads. Either way,
/// coroutines that jobs left running with [`spawn_local`](crate::spawn_local) are cancelled
/// once the jobs are done. Called from one of the pool's own jobs, `shutdown` returns without
/// waiting for the workers (see [`shutdown`](Self::shutdown)).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let pool = corona::Pool::new(2);
/// let jobs: Vec<_> = (0..4u64)
///     .map(|i| {
///         pool.spawn(move || {
///             let local = Rc::new(i); // !Send values are fine inside a job
///             corona::co_await!(tokio::time::sleep(Duration::from_millis(1)));
///             *local * 10
///         })
///     })
///     .collect();
/// let results = futures::executor::block_on(futures::future::try_join_all(jobs)).unwrap();
/// assert_eq!(results, [0, 10, 20, 30]);
/// pool.shutdown(); // waits for the worker threads
/// ```
///
/// From tasks of tokio's multi-thread runtime, through a [`PoolHandle`]:
///
/// ```
/// # fn main() {
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// // in `#[tokio::main] async fn main()`:
/// let pool = corona::Pool::new(2);
/// let handle = pool.handle();
/// let task = tokio::spawn(async move {
///     // `handle` and the future it returns are `Send`: fine in a tokio task.
///     handle.spawn(|| corona::co_await!(async { 6 * 7 })).await.unwrap()
/// });
/// assert_eq!(task.await.unwrap(), 42);
/// # drop(pool);
/// # });
/// # }
/// ```
pub struct Pool {
    handle: PoolHandle,
    /// Emptied by `shutdown`; `Drop` cancels and joins what is left.
    threads: Vec<thread::JoinHandle<()>>,
}

/// A cheap, `Send + Sync + Clone` handle to spawn jobs on a [`Pool`] from anywhere, such as
/// tasks of tokio's multi-thread runtime.
///
/// It does not keep the pool alive: once the pool is shut down or dropped, jobs spawned
/// through the handle resolve to a [`JoinError`] whose
/// [`is_cancelled`](JoinError::is_cancelled) is true.
///
/// # Examples
///
/// ```
/// let pool = corona::Pool::new(2);
/// let handle: corona::PoolHandle = pool.handle();
/// let from_thread = std::thread::spawn(move || {
///     futures::executor::block_on(handle.spawn(|| 1 + 1)).unwrap()
/// });
/// assert_eq!(from_thread.join().unwrap(), 2);
/// ```
#[derive(Clone)]
pub struct PoolHandle {
    shared: Arc<Shared>,
}

struct Shared {
    workers: Box<[Worker]>,
    /// Where the next search for the least busy worker starts, so ties rotate.
    next: AtomicUsize,
}

impl Pool {
    /// Starts a pool of `threads` worker threads, named `corona-pool-{i}`.
    ///
    /// # Panics
    ///
    /// If `threads` is 0, or a thread or its runtime cannot be created (see
    /// [`try_new`](Self::try_new) to handle that).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(4);
    /// assert_eq!(pool.threads(), 4);
    /// ```
    #[track_caller]
    pub fn new(threads: usize) -> Self {
        match Self::try_new(threads) {
            Ok(pool) => pool,
            Err(err) => panic!("corona::Pool::new({threads}): could not start the pool: {err}"),
        }
    }

    /// Like [`new`](Self::new), but reports a thread or runtime that cannot be created.
    ///
    /// # Errors
    ///
    /// The error of spawning a thread or of building its tokio runtime; threads already
    /// started are stopped and joined.
    ///
    /// # Panics
    ///
    /// If `threads` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::try_new(2).expect("two threads");
    /// assert_eq!(pool.threads(), 2);
    /// ```
    #[track_caller]
    pub fn try_new(threads: usize) -> io::Result<Self> {
        assert!(
            threads > 0,
            "corona::Pool::new(0): a pool needs at least one worker thread"
        );
        let mut workers = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            match Worker::start(index) {
                Ok((worker, thread)) => {
                    workers.push(worker);
                    handles.push(thread);
                }
                Err(err) => {
                    drop(workers); // closes the inboxes: the started threads exit
                    for thread in handles {
                        let _ = thread.join();
                    }
                    return Err(err);
                }
            }
        }
        let shared = Arc::new(Shared {
            workers: workers.into_boxed_slice(),
            next: AtomicUsize::new(0),
        });
        Ok(Self {
            handle: PoolHandle { shared },
            threads: handles,
        })
    }

    /// Runs `f` as a coroutine on the least busy worker and returns a `Send` future of its
    /// result. See [`PoolHandle::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(2);
    /// let caller = std::thread::current().id();
    /// let ran_on = futures::executor::block_on(pool.spawn(|| std::thread::current().id()));
    /// assert_ne!(ran_on.unwrap(), caller); // always on a worker, never on the caller
    /// ```
    pub fn spawn<F, T>(&self, f: F) -> PoolJoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.handle.spawn(f)
    }

    /// A `Send + Sync + Clone` handle that spawns on this pool.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(1);
    /// let handle = pool.handle();
    /// assert_eq!(futures::executor::block_on(handle.spawn(|| 7)).unwrap(), 7);
    /// ```
    pub fn handle(&self) -> PoolHandle {
        self.handle.clone()
    }

    /// The number of worker threads.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corona::Pool::new(3).threads(), 3);
    /// ```
    pub fn threads(&self) -> usize {
        self.handle.shared.workers.len()
    }

    /// For each worker, the jobs it accepted and has not finished: what balancing compares.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = corona::Pool::new(2);
    /// futures::executor::block_on(pool.spawn(|| ())).unwrap();
    /// assert_eq!(pool.loads(), [0, 0]);
    /// ```
    pub fn loads(&self) -> Vec<usize> {
        self.handle.loads()
    }

    /// Stops the pool gracefully: no new jobs are accepted (they report
    /// [`is_cancelled`](JoinError::is_cancelled)), every job already accepted runs to its end,
    /// then the worker threads exit and this call returns once they have.
    ///
    /// Only jobs are waited for. Coroutines that jobs started with
    /// [`spawn_local`](crate::spawn_local) and that still run once every job on their worker
    /// has finished are then cancelled, as a tokio runtime cancels its remaining tasks when it
    /// shuts down: each is dropped on its worker (a suspended coroutine unwinds there, running
    /// its destructors) and its `JoinHandle` reports
    /// [`is_cancelled`](tokio::task::JoinError::is_cancelled). A job that needs such a
    /// coroutine to finish should await its `JoinHandle`.
    ///
    /// A job that never finishes makes this wait forever; use
    /// [`shutdown_timeout`](Self::shutdown_timeout) to bound the wait. Outside the pool this
    /// blocks the calling thread: from an async task, call it through `spawn_blocking`.
    ///
    /// # From inside a job
    ///
    /// Called from one of the pool's own jobs (on one of its worker threads), `shutdown` cannot
    /// wait: the calling job is one of those that must finish first, and jobs on the other
    /// workers may be waiting for jobs queued behind it on this one. So it only tells every
    /// worker to stop and returns at once, without waiting for any of them; the workers still
    /// run every accepted job to its end (the caller's included), cancel what jobs left
    /// running, and exit on their own.
    ///
    /// ```
    /// let pool = corona::Pool::new(2);
    /// let handle = pool.handle();
    /// let job = handle.spawn(move || {
    ///     pool.shutdown(); // returns at once: this job has yet to finish
    ///     "stopped from inside"
    /// });
    /// assert_eq!(futures::executor::block_on(job).unwrap(), "stopped from inside");
    /// ```
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corona::Pool::new(2);
    /// let job = pool.spawn(|| {
    ///     corona::co_await!(tokio::time::sleep(Duration::from_millis(5)));
    ///     "finished"
    /// });
    /// pool.shutdown(); // the job still runs to its end
    /// assert_eq!(futures::executor::block_on(job).unwrap(), "finished");
    /// ```
    pub fn shutdown(mut self) {
        self.stop(Stop::Finish(None));
    }

    /// Like [`shutdown`](Self::shutdown), but jobs still unfinished after `timeout` are
    /// cancelled (dropped on their worker, unwinding their coroutines).
    ///
    /// The timeout bounds the wait for jobs only: coroutines that jobs left running with
    /// [`spawn_local`](crate::spawn_local) are cancelled as soon as every job on their worker
    /// has finished, or with the jobs at the timeout. Called from one of the pool's own jobs,
    /// it returns at once, as [`shutdown`](Self::shutdown) does, and each worker applies the
    /// timeout on its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corona::Pool::new(1);
    /// let stuck = pool.spawn(|| corona::co_await!(std::future::pending::<()>()));
    /// pool.shutdown_timeout(Duration::from_millis(10));
    /// assert!(futures::executor::block_on(stuck).unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.stop(Stop::Finish(Some(timeout)));
    }

    /// Tells every worker how to stop, then joins the worker threads that it safely can.
    fn stop(&mut self, how: Stop) {
        for worker in self.handle.shared.workers.iter() {
            // Fails only if the worker already exited, which is what we want.
            let _ = worker.inbox.send(Message::Stop(how));
        }
        let me = thread::current().id();
        let from_a_worker = self.threads.iter().any(|t| t.thread().id() == me);
        for thread in self.threads.drain(..) {
            // Dropping a `JoinHandle` detaches its thread, which still stops as told. Called
            // from a job, this thread cannot wait for itself. Nor, on `Finish`, for the others:
            // they wait for their jobs, which may wait for jobs queued behind this one.
            // `Cancel` only drops jobs, so the others exit without this worker's help.
            let join = match how {
                Stop::Finish(_) => !from_a_worker,
                Stop::Cancel => thread.thread().id() != me,
            };
            if join {
                // Jobs cannot panic a worker (their panics are caught), so there is nothing to
                // report; `Drop` must not panic either.
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Pool {
    /// Cancels every unfinished job and every coroutine that jobs left running with
    /// [`spawn_local`](crate::spawn_local) (dropping each on its worker, which unwinds a
    /// suspended coroutine and runs its destructors), and waits for the worker threads to exit.
    ///
    /// Dropped inside one of the pool's own jobs, it waits for the other workers (cancelling
    /// never waits for a job) but not for its own thread, which exits once the calling job has
    /// returned.
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop(Stop::Cancel);
        }
    }
}

impl PoolHandle {
    /// Runs `f` as a coroutine on the least busy worker of the pool, and returns a `Send`
    /// future of its result, to await on any executor or thread.
    ///
    /// `f` is sent to the worker and called there, inside a [`Coroutine`]: it may
    /// [`co_await!`](crate::co_await) anything, including `!Send` futures it creates, and
    /// [`spawn_local`](crate::spawn_local) more coroutines on the same worker. The job runs
    /// whether or not the returned handle is awaited.
    ///
    /// The result is `Err` with [`is_panic`](JoinError::is_panic) if `f` panicked (the worker
    /// keeps serving), and with [`is_cancelled`](JoinError::is_cancelled) if the job was
    /// aborted or its pool stopped before it finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let pool = corona::Pool::new(2);
    /// let handle = pool.handle();
    /// let job = handle.spawn(|| {
    ///     let shared = Rc::new(String::from("!Send inside"));
    ///     let copy = Rc::clone(&shared);
    ///     corona::co_await!(async move { copy.len() })
    /// });
    /// assert_eq!(futures::executor::block_on(job).unwrap(), 12);
    /// ```
    ///
    /// The closure itself crosses threads, so it must be `Send`: create `!Send` values inside
    /// it, not before.
    ///
    /// ```compile_fail,E0277
    /// let pool = corona::Pool::new(1);
    /// let shared = std::rc::Rc::new(1);
    /// let job = pool.spawn(move || *shared); // error: `Rc<i32>` cannot be sent between threads
    /// ```
    pub fn spawn<F, T>(&self, f: F) -> PoolJoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let worker = self.least_busy();
        let load = LoadGuard::new(&worker.load);
        let (outcome_tx, outcome_rx) = oneshot::channel();
        let (abort, registration) = AbortHandle::new_pair();
        let job = Box::new(move || {
            tokio::task::spawn_local(async move {
                // Making the coroutine panics where it can get no stack: the job's panic, as
                // if its body had panicked at once (not a cancellation).
                let outcome = match panic::catch_unwind(AssertUnwindSafe(|| Coroutine::new(f))) {
                    Err(payload) => Err(JoinError::panic(payload)),
                    // Coroutine panics resume out of `poll`, here, on the worker.
                    Ok(coroutine) => {
                        let coroutine = Abortable::new(coroutine, registration);
                        match AssertUnwindSafe(coroutine).catch_unwind().await {
                            Ok(Ok(value)) => Ok(value),
                            Ok(Err(_aborted)) => Err(JoinError::cancelled()),
                            Err(payload) => Err(JoinError::panic(payload)),
                        }
                    }
                };
                // Unload before reporting, so that whoever sees the result sees the load drop.
                drop(load);
                let _ = outcome_tx.send(outcome); // the handle may have been dropped: fine
            });
        });
        // If the worker stopped, the job drops here and its handle reports it cancelled.
        let _ = worker.inbox.send(Message::Job(job));
        PoolJoinHandle::new(outcome_rx, abort)
    }

    /// See [`Pool::threads`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corona::Pool::new(2).handle().threads(), 2);
    /// ```
    pub fn threads(&self) -> usize {
        self.shared.workers.len()
    }

    /// See [`Pool::loads`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(corona::Pool::new(2).handle().loads(), [0, 0]);
    /// ```
    pub fn loads(&self) -> Vec<usize> {
        let workers = self.shared.workers.iter();
        workers.map(|w| w.load.get()).collect()
    }

    /// The worker with the fewest unfinished jobs; the search starts one further each call.
    fn least_busy(&self) -> &Worker {
        let workers = &self.shared.workers;
        let start = self.shared.next.fetch_add(1, Ordering::Relaxed);
        (0..workers.len())
            .map(|i| &workers[(start + i) % workers.len()])
            .min_by_key(|w| w.load.get())
            .expect("a pool has at least one worker")
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("loads", &self.loads())
            .finish()
    }
}

impl fmt::Debug for PoolHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolHandle")
            .field("loads", &self.loads())
            .finish()
    }
}
