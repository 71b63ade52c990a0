//! One pool worker: a thread running a current-thread tokio runtime with a `LocalSet`, fed
//! jobs through an unbounded channel (the design of tokio-util's `LocalPoolHandle`).

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::thread;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::task::LocalSet;

/// Starts a job on the worker: called inside the worker's `LocalSet`, it `spawn_local`s the
/// job's task. Dropping it unstarted cancels the job (its result sender drops with it).
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// What a worker's inbox carries.
pub(crate) enum Message {
    Job(Job),
    Stop(Stop),
}

/// How a worker stops.
#[derive(Clone, Copy)]
pub(crate) enum Stop {
    /// Take no new jobs, let every accepted job finish (for at most the timeout), then drop
    /// what is left (jobs past the timeout, coroutines jobs left running with `spawn_local`)
    /// and exit.
    Finish(Option<Duration>),
    /// Take no new jobs, drop every unfinished one (unwinding coroutines), then exit.
    Cancel,
}

/// The pool's side of a worker.
pub(crate) struct Worker {
    pub(crate) inbox: mpsc::UnboundedSender<Message>,
    /// Jobs accepted and not yet finished: the load that balancing compares.
    pub(crate) load: Arc<Load>,
}

/// A worker's jobs accepted and not yet finished, shared by the pool (which balances on it)
/// and the worker (which, when it stops gracefully, waits for it to reach zero).
#[derive(Default)]
pub(crate) struct Load {
    jobs: AtomicUsize,
    /// Notified each time `jobs` drops to zero. A stopping worker waits for its *jobs*, not for
    /// its whole `LocalSet`, which also holds whatever the jobs `spawn_local`ed.
    idle: Notify,
}

impl Load {
    /// The number of jobs accepted and not yet finished.
    pub(crate) fn get(&self) -> usize {
        self.jobs.load(Ordering::SeqCst)
    }

    /// Completes once no job is counted. Only the worker waits, so one waiter at a time:
    /// `notify_one` stores a permit when nobody waits yet, so a job that finishes between the
    /// check and the wait is not missed (a stale permit only costs one more check).
    async fn idle(&self) {
        while self.get() != 0 {
            self.idle.notified().await;
        }
    }
}

/// Counts one job in its worker's load until dropped (when the job finished or was dropped).
pub(crate) struct LoadGuard(Arc<Load>);

impl LoadGuard {
    pub(crate) fn new(load: &Arc<Load>) -> Self {
        load.jobs.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(load))
    }
}

impl Drop for LoadGuard {
    fn drop(&mut self) {
        if self.0.jobs.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_one();
        }
    }
}

impl Worker {
    /// Spawns the worker thread `corona-pool-{index}` and waits until its runtime is built.
    pub(crate) fn start(index: usize) -> io::Result<(Self, thread::JoinHandle<()>)> {
        let (inbox, jobs) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std_mpsc::channel();
        let load = Arc::new(Load::default());
        let worker_load = Arc::clone(&load);
        let thread = thread::Builder::new()
            .name(format!("corona-pool-{index}"))
            .spawn(move || run(jobs, &worker_load, ready_tx))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(_) => return Err(io::Error::other("the pool worker thread exited at start")),
        }
        Ok((Self { inbox, load }, thread))
    }
}

/// The worker thread's body.
fn run(
    mut jobs: mpsc::UnboundedReceiver<Message>,
    load: &Load,
    ready: std_mpsc::Sender<io::Result<()>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    let local = LocalSet::new();

    let stop = local.block_on(&runtime, async {
        while let Some(message) = jobs.recv().await {
            match message {
                Message::Job(job) => job(),
                Message::Stop(stop) => return stop,
            }
        }
        Stop::Cancel // every sender is gone (a pool that failed to start): nothing can arrive
    });
    jobs.close(); // from here on `spawn` fails fast and reports the job cancelled

    if let Stop::Finish(timeout) = stop {
        local.block_on(&runtime, async {
            // Jobs sent before the close but after the stop message were accepted: start them.
            // `recv`, not `try_recv`: a send that began before the close may not have pushed
            // its message yet (`try_recv` says `Empty` then, and the job would be left
            // counted in the load for ever); `recv` waits for it, and ends once none is left.
            while let Some(message) = jobs.recv().await {
                if let Message::Job(job) = message {
                    job();
                }
            }
            // Wait for the accepted jobs only (the `LocalSet` keeps running every task
            // meanwhile): a coroutine a job left running with `spawn_local` may never end, and
            // must not hold the shutdown forever. It is cancelled below, as a tokio runtime
            // cancels the tasks left when it shuts down.
            match timeout {
                None => load.idle().await,
                Some(timeout) => {
                    let _ = tokio::time::timeout(timeout, load.idle()).await;
                }
            }
        });
    }
    // Queued jobs (`Cancel`) are dropped unstarted. What is left in the `LocalSet` (running
    // jobs on `Cancel` or past the timeout, coroutines jobs `spawn_local`ed) is dropped inside
    // the runtime context, so coroutines unwind where their I/O resources can deregister.
    drop(jobs);
    let _entered = runtime.enter();
    drop(local);
}
