//! One pool worker: a thread running a current-thread tokio runtime with a `LocalSet`, fed
//! jobs through an unbounded channel (the design of tokio-util's `LocalPoolHandle`).

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::thread;
use std::time::Duration;

use tokio::sync::mpsc;
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
    /// Take no new jobs, let every accepted job finish (for at most the timeout), then exit.
    Finish(Option<Duration>),
    /// Take no new jobs, drop every unfinished one (unwinding coroutines), then exit.
    Cancel,
}

/// The pool's side of a worker.
pub(crate) struct Worker {
    pub(crate) inbox: mpsc::UnboundedSender<Message>,
    /// Jobs accepted and not yet finished: the load that balancing compares.
    pub(crate) load: Arc<AtomicUsize>,
}

/// Counts one job in its worker's load until dropped (when the job finished or was dropped).
pub(crate) struct LoadGuard(Arc<AtomicUsize>);

impl LoadGuard {
    pub(crate) fn new(load: &Arc<AtomicUsize>) -> Self {
        load.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(load))
    }
}

impl Drop for LoadGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Worker {
    /// Spawns the worker thread `corona-pool-{index}` and waits until its runtime is built.
    pub(crate) fn start(index: usize) -> io::Result<(Self, thread::JoinHandle<()>)> {
        let (inbox, jobs) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std_mpsc::channel();
        let thread = thread::Builder::new()
            .name(format!("corona-pool-{index}"))
            .spawn(move || run(jobs, ready_tx))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(_) => return Err(io::Error::other("the pool worker thread exited at start")),
        }
        let load = Arc::new(AtomicUsize::new(0));
        Ok((Self { inbox, load }, thread))
    }
}

/// The worker thread's body.
fn run(mut jobs: mpsc::UnboundedReceiver<Message>, ready: std_mpsc::Sender<io::Result<()>>) {
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
        // Jobs sent before the close but after the stop message were accepted: start them.
        local.block_on(&runtime, async {
            while let Ok(message) = jobs.try_recv() {
                if let Message::Job(job) = message {
                    job();
                }
            }
        });
        // A `LocalSet` is a future that completes once all of its tasks have.
        match timeout {
            None => runtime.block_on(local),
            Some(timeout) => runtime.block_on(async {
                let _ = tokio::time::timeout(timeout, local).await;
                // Jobs still unfinished are dropped here, inside the runtime.
            }),
        }
    } else {
        // Queued jobs are dropped unstarted; running ones are dropped inside the runtime
        // context, so their coroutines unwind where their I/O resources can deregister.
        drop(jobs);
        let _entered = runtime.enter();
        drop(local);
    }
}
