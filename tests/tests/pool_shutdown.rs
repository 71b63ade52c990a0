//! Stopping a `corona::Pool`: `shutdown` finishes accepted jobs, dropping cancels them, and
//! both wait for the worker threads to exit, except from inside one of the pool's own jobs;
//! coroutines that jobs left running with `spawn_local` are cancelled, not waited for.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use corona::{co_await, Pool};
use corona_tests::{block_on_within_20s, finish_within, SendGuard};

thread_local! {
    /// Dropped when the thread exits: lets a job observe its worker's exit.
    static ON_THREAD_EXIT: RefCell<Option<SendGuard>> = const { RefCell::new(None) };
}

/// From inside a job: count `exits` when this worker thread has exited.
fn count_exit_of_this_thread(exits: &Arc<AtomicUsize>) {
    ON_THREAD_EXIT.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(SendGuard(Arc::clone(exits)));
        }
    });
}

#[test]
fn dropping_the_pool_cancels_waiting_jobs_unwinds_them_and_joins_the_threads() {
    let pool = Pool::new(2);
    let unwound = Arc::new(AtomicUsize::new(0));
    let exits = Arc::new(AtomicUsize::new(0));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let jobs: Vec<_> = (0..6)
        .map(|_| {
            let guard = SendGuard(Arc::clone(&unwound));
            let exits = Arc::clone(&exits);
            let started_tx = started_tx.clone();
            pool.spawn(move || {
                let _guard = guard;
                count_exit_of_this_thread(&exits);
                started_tx.send(()).unwrap();
                co_await!(std::future::pending::<()>())
            })
        })
        .collect();
    for _ in 0..6 {
        started_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    }
    assert_eq!(unwound.load(Ordering::SeqCst), 0);

    drop(pool);
    // By the time drop returns, every coroutine has unwound and both threads have exited.
    assert_eq!(unwound.load(Ordering::SeqCst), 6);
    assert_eq!(exits.load(Ordering::SeqCst), 2);
    for result in block_on_within_20s(futures::future::join_all(jobs)) {
        assert!(result.unwrap_err().is_cancelled());
    }
}

#[test]
fn shutdown_lets_accepted_jobs_finish_and_refuses_new_ones() {
    let pool = Pool::new(2);
    let handle = pool.handle();
    let exits = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<_> = (0..8u32)
        .map(|i| {
            let exits = Arc::clone(&exits);
            pool.spawn(move || {
                count_exit_of_this_thread(&exits);
                co_await!(tokio::time::sleep(Duration::from_millis(20)));
                i * 2
            })
        })
        .collect();
    pool.shutdown();
    assert_eq!(
        exits.load(Ordering::SeqCst),
        2,
        "both worker threads exited"
    );
    let results = block_on_within_20s(futures::future::try_join_all(jobs)).unwrap();
    assert_eq!(results, [0, 2, 4, 6, 8, 10, 12, 14]);

    let late = block_on_within_20s(handle.spawn(|| 1)).unwrap_err();
    assert!(
        late.is_cancelled(),
        "a job spawned after shutdown is refused"
    );
}

#[test]
fn shutdown_timeout_cancels_only_the_jobs_still_running() {
    let pool = Pool::new(1);
    let quick = pool.spawn(|| {
        corona::yield_now();
        "quick"
    });
    let stuck = pool.spawn(|| co_await!(std::future::pending::<&str>()));
    pool.shutdown_timeout(Duration::from_millis(500));
    assert_eq!(block_on_within_20s(quick).unwrap(), "quick");
    assert!(block_on_within_20s(stuck).unwrap_err().is_cancelled());
}

#[test]
fn a_job_may_drop_its_own_pool_without_deadlocking() {
    let pool = Pool::new(2);
    let handle = pool.handle();
    let dropped_inside = handle.spawn(move || {
        let worker = thread::current().id();
        drop(pool); // joins the other worker, cannot join this one: detaches it
        worker
    });
    let worker = block_on_within_20s(dropped_inside).unwrap();
    assert_ne!(worker, thread::current().id());
    assert!(block_on_within_20s(handle.spawn(|| ()))
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn a_job_that_drops_its_pool_returns_after_the_other_worker_cancelled_its_job() {
    // Dropped inside a job, the pool cannot wait for that job's own worker, but it joins
    // the other one: when `drop` returns there, the other worker's waiting job was
    // unwound. (Its destructor takes a while, so that a drop that did not wait would
    // return first.)
    struct SlowToUnwind(Arc<AtomicUsize>);
    impl Drop for SlowToUnwind {
        fn drop(&mut self) {
            thread::sleep(Duration::from_millis(200));
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let pool = Pool::new(2);
    let handle = pool.handle();
    let unwound = Arc::new(AtomicUsize::new(0));
    let guard = SlowToUnwind(Arc::clone(&unwound));
    let (started_tx, started_rx) = mpsc::channel();
    let waiting = pool.spawn(move || {
        let _guard = guard; // on the coroutine's stack: dropped by unwinding it
        started_tx.send(thread::current().id()).unwrap();
        co_await!(std::future::pending::<()>())
    });
    let waiting_worker = started_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the waiting job started");
    // The least busy worker: the other one.
    let dropper = handle.spawn(move || {
        let worker = thread::current().id();
        drop(pool);
        (worker, unwound.load(Ordering::SeqCst))
    });
    let (dropper_worker, unwound_at_return) = block_on_within_20s(dropper).unwrap();
    assert_ne!(
        dropper_worker, waiting_worker,
        "the jobs ran on different workers"
    );
    assert_eq!(
        unwound_at_return, 1,
        "drop returned before the other worker had unwound its job"
    );
    assert!(block_on_within_20s(waiting).unwrap_err().is_cancelled());
}

/// Sends on its channel when dropped: with [`ON_THREAD_EXIT_SEND`], a worker's exit can be
/// waited for without a handle to join.
struct SendOnDrop(mpsc::Sender<()>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

thread_local! {
    static ON_THREAD_EXIT_SEND: RefCell<Option<SendOnDrop>> = const { RefCell::new(None) };
}

/// From inside a job: send on `exited` when this worker thread has exited.
fn send_at_exit_of_this_thread(exited: &mpsc::Sender<()>) {
    ON_THREAD_EXIT_SEND.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| SendOnDrop(exited.clone()));
    });
}

/// On a pool of two, job A (worker 0) calls `stop` while job B (worker 1) waits for job C,
/// queued on worker 0, and C waits for A to go on. Waiting in `stop` for worker 1 would
/// deadlock: worker 1 finishes B first, B waits for C, C waits for A. Instead `stop` returns at
/// once, C and B finish, and both workers exit on their own.
fn stop_from_inside_a_job_while_another_worker_waits_for_this_one(stop: fn(Pool)) {
    let pool = Pool::new(2);
    let handle = pool.handle();
    let (exited_tx, exited_rx) = mpsc::channel();
    let (c_queued_tx, c_queued_rx) = tokio::sync::oneshot::channel();
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel();

    // The first job on an idle pool goes to worker 0.
    let exited = exited_tx.clone();
    let a = handle.spawn(move || {
        send_at_exit_of_this_thread(&exited);
        co_await!(c_queued_rx).unwrap(); // C is accepted: the stop cannot refuse it
        stop(pool);
        stopped_tx.send(()).unwrap();
        thread::current().id()
    });
    // Loads [1, 0]: worker 1.
    let c_handle = handle.clone();
    let b = handle.spawn(move || {
        send_at_exit_of_this_thread(&exited_tx);
        // Loads [1, 1], the search starts at worker 0 again: C queues on worker 0.
        let c = c_handle.spawn(move || {
            co_await!(stopped_rx).unwrap();
            thread::current().id()
        });
        c_queued_tx.send(()).unwrap();
        (thread::current().id(), co_await!(c).unwrap())
    });

    let (a_worker, (b_worker, c_worker)) = finish_within(Duration::from_secs(5), move || {
        block_on_within_20s(futures::future::try_join(a, b))
    })
    .unwrap();
    assert_ne!(a_worker, b_worker, "A and B ran on different workers");
    assert_eq!(
        c_worker, a_worker,
        "C ran on A's worker, after A stopped the pool"
    );

    for _ in 0..2 {
        exited_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("both workers exit on their own");
    }
    assert!(block_on_within_20s(handle.spawn(|| ()))
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn shutdown_inside_a_job_returns_while_another_worker_waits_for_this_one() {
    stop_from_inside_a_job_while_another_worker_waits_for_this_one(Pool::shutdown);
}

#[test]
fn shutdown_timeout_inside_a_job_returns_while_another_worker_waits_for_this_one() {
    stop_from_inside_a_job_while_another_worker_waits_for_this_one(|pool| {
        pool.shutdown_timeout(Duration::from_secs(60));
    });
}

/// A job starts a coroutine with `spawn_local` that never ends, and finishes. `stop` waits
/// for the job, not for that coroutine: it cancels it, unwinding its stack on the worker.
fn stop_cancels_the_coroutines_jobs_left_running(stop: fn(Pool)) {
    let pool = Pool::new(1);
    let unwound = Arc::new(AtomicUsize::new(0));
    let guard = SendGuard(Arc::clone(&unwound));
    let job = pool.spawn(move || {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let leftover = corona::spawn_local(move || {
            let _guard = guard; // on the coroutine's stack: dropped only by unwinding it
            started_tx.send(()).unwrap();
            co_await!(std::future::pending::<()>())
        });
        co_await!(started_rx).unwrap();
        // Still running when `stop` starts waiting, so it has a job to wait for.
        co_await!(tokio::time::sleep(Duration::from_millis(20)));
        (7, leftover)
    });

    finish_within(Duration::from_secs(5), move || stop(pool));
    assert_eq!(
        unwound.load(Ordering::SeqCst),
        1,
        "the leftover coroutine unwound"
    );
    let (value, leftover) = block_on_within_20s(job).unwrap();
    assert_eq!(value, 7, "the job ran to its end");
    assert!(block_on_within_20s(leftover).unwrap_err().is_cancelled());
}

#[test]
fn shutdown_waits_for_jobs_and_cancels_what_they_left_with_spawn_local() {
    stop_cancels_the_coroutines_jobs_left_running(Pool::shutdown);
}

#[test]
fn shutdown_timeout_does_not_wait_for_what_jobs_left_with_spawn_local() {
    // Far longer than `finish_within` allows: `stop` must return when the job is done.
    stop_cancels_the_coroutines_jobs_left_running(|pool| {
        pool.shutdown_timeout(Duration::from_secs(60));
    });
}

#[test]
fn shutdown_waits_for_a_running_job_after_an_earlier_one_left_the_worker_idle() {
    // `first` finishes before `shutdown`: its worker's load fell to zero once, with nobody
    // waiting for that yet. `shutdown` must still wait for `second`, still running when the
    // worker starts waiting (it sleeps far longer than that takes).
    let pool = Pool::new(1);
    let first = pool.spawn(|| 1);
    assert_eq!(block_on_within_20s(first).unwrap(), 1);
    let second = pool.spawn(|| {
        co_await!(tokio::time::sleep(Duration::from_millis(300)));
        2
    });
    finish_within(Duration::from_secs(20), move || pool.shutdown());
    let second = block_on_within_20s(second);
    assert_eq!(
        second.map_err(|err| err.is_cancelled()),
        Ok(2),
        "shutdown cancelled an accepted job instead of waiting for it"
    );
}

#[test]
fn a_cancelled_job_unwinds_inside_its_workers_runtime() {
    // Dropping the pool cancels the waiting job on its worker, inside the worker's tokio
    // runtime: destructors there can deregister I/O or start clean-up tasks.
    struct SeesRuntime(Arc<AtomicUsize>);
    impl Drop for SeesRuntime {
        fn drop(&mut self) {
            let inside = tokio::runtime::Handle::try_current().is_ok();
            self.0.store(if inside { 1 } else { 2 }, Ordering::SeqCst);
        }
    }
    let pool = Pool::new(1);
    let seen = Arc::new(AtomicUsize::new(0));
    let guard = SeesRuntime(Arc::clone(&seen));
    let (started_tx, started_rx) = mpsc::channel();
    let job = pool.spawn(move || {
        let _guard = guard; // on the coroutine's stack: dropped by unwinding it
        started_tx.send(()).unwrap();
        co_await!(std::future::pending::<()>())
    });
    started_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the job started");
    finish_within(Duration::from_secs(20), move || drop(pool));
    assert!(block_on_within_20s(job).unwrap_err().is_cancelled());
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "the job was unwound (1: inside the worker's runtime, 2: outside, 0: not at all)"
    );
}
