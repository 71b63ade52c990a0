//! A panic in a pool job is reported as a `JoinError` and never takes its worker down;
//! `abort` cancels a job and unwinds it on its worker.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use corona::{co_await, JoinError, Pool};
use corona_tests::{
    block_on_within_20s, cap_address_space, panic_message, run_in_child_process, status_bytes,
    SendGuard,
};

fn fail_deep_down(depth: u32, code: u32) -> u32 {
    if depth == 0 {
        co_await!(tokio::time::sleep(Duration::from_millis(1)));
        panic!("boom {code}");
    }
    fail_deep_down(depth - 1, code) + 1
}

#[test]
fn a_panic_is_reported_as_is_panic_and_the_worker_keeps_serving() {
    let pool = Pool::new(1);
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = SendGuard(Arc::clone(&drops));
    let (panicked_on_tx, panicked_on) = std::sync::mpsc::channel();
    let err = block_on_within_20s(pool.spawn(move || {
        let _guard = guard;
        panicked_on_tx.send(thread::current().id()).unwrap();
        fail_deep_down(5, 7)
    }))
    .unwrap_err();
    let panicked_on = panicked_on.recv().unwrap();
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(
        err.to_string(),
        r#"pool job panicked with message "boom 7""#
    );
    assert_eq!(panic_message(&*err.into_panic()), "boom 7");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the panic unwound the job");

    // The one worker is still there: the very thread the job panicked on serves the next
    // jobs (it was not replaced by a new one).
    let (first, second) = block_on_within_20s(async {
        let a = pool.spawn(|| thread::current().id()).await.unwrap();
        let b = pool.spawn(|| thread::current().id()).await.unwrap();
        (a, b)
    });
    assert_ne!(panicked_on, thread::current().id());
    assert_eq!(first, panicked_on);
    assert_eq!(second, panicked_on);
    assert_eq!(pool.loads(), [0]);
}

#[test]
fn panics_on_both_workers_leave_the_other_jobs_untouched() {
    let pool = Pool::new(2);
    let jobs: Vec<_> = (0..40u32)
        .map(|i| {
            pool.spawn(move || {
                co_await!(tokio::time::sleep(Duration::from_millis(1)));
                if i % 3 == 0 {
                    panic!("job {i} failed");
                }
                i
            })
        })
        .collect();
    let results = block_on_within_20s(futures::future::join_all(jobs));
    for (i, result) in (0..40u32).zip(results) {
        match result {
            Ok(v) => assert_eq!(v, i),
            Err(err) => {
                assert_eq!(i % 3, 0, "job {i} should not have failed");
                assert_eq!(panic_message(&*err.into_panic()), format!("job {i} failed"));
            }
        }
    }
    assert_eq!(
        block_on_within_20s(pool.spawn(|| "still serving")).unwrap(),
        "still serving"
    );
}

#[test]
fn abort_cancels_a_waiting_job_and_unwinds_it_on_its_worker() {
    let pool = Pool::new(2);
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = SendGuard(Arc::clone(&drops));
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let job = pool.spawn(move || {
        let _guard = guard;
        started_tx.send(()).unwrap();
        co_await!(std::future::pending::<u32>())
    });
    started_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    job.abort();
    let err = block_on_within_20s(job).unwrap_err();
    assert!(err.is_cancelled() && !err.is_panic());
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the aborted coroutine unwound"
    );
    assert_eq!(pool.loads(), [0, 0]);
}

#[test]
fn join_error_is_a_send_sync_error_for_question_mark() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<JoinError>();

    fn run(pool: &Pool) -> Result<u32, Box<dyn Error + Send + Sync>> {
        let value = block_on_within_20s(pool.spawn(|| -> u32 { panic!("nope") }))?;
        Ok(value)
    }
    let err = run(&Pool::new(1)).unwrap_err();
    assert_eq!(err.to_string(), r#"pool job panicked with message "nope""#);

    let not_panic = {
        let pool = Pool::new(1);
        let job = pool.spawn(|| co_await!(std::future::pending::<()>()));
        job.abort();
        block_on_within_20s(job).unwrap_err()
    };
    let not_panic = not_panic.try_into_panic().unwrap_err();
    assert!(not_panic.is_cancelled());
}

/// A job whose coroutine cannot get a stack (the process is out of address space) fails like
/// its body would: a panic saying why, not a cancellation. The address space is capped so
/// that no further stack mapping fits, and jobs take stacks one after another (each holds
/// its stack until released) until one gets none; then the holders finish normally. In a
/// child process: the cap stays for the process's life.
#[test]
fn a_job_that_gets_no_stack_is_a_panic_saying_so_not_a_cancellation() {
    const NAME: &str = "a_job_that_gets_no_stack_is_a_panic_saying_so_not_a_cancellation";
    run_in_child_process(NAME, || {
        let pool = Pool::new(1);
        // The worker's runtime is up before the cap.
        assert_eq!(block_on_within_20s(pool.spawn(|| 1)).unwrap(), 1);
        cap_address_space(status_bytes("VmSize") + 16 * 1024 * 1024);
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let mut holders = Vec::new();
        let refused = loop {
            assert!(holders.len() < 10_000, "no stack was refused");
            let (started_tx, started) = std::sync::mpsc::channel();
            let release = Arc::clone(&release);
            let job = pool.spawn(move || {
                started_tx.send(()).unwrap();
                drop(co_await!(release.acquire()).unwrap());
            });
            // The job's closure is dropped unrun if its coroutine could not be made.
            match started.recv() {
                Ok(()) => holders.push(job),
                Err(_) => break block_on_within_20s(job).unwrap_err(),
            }
        };
        assert!(refused.is_panic(), "{refused}");
        let message = panic_message(&*refused.into_panic());
        assert!(
            message.contains("could not allocate a coroutine stack"),
            "{message}"
        );
        release.add_permits(holders.len());
        for job in holders {
            block_on_within_20s(job).unwrap();
        }
    });
}
