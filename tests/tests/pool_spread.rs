//! `corona::Pool` spreads coroutines over its workers, by load, never on the caller's thread.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use corona::{co_await, Pool};
use corona_tests::block_on_within_20s;
use tokio::sync::{oneshot, Barrier};

#[test]
fn overlapping_jobs_are_shared_evenly_by_two_workers_and_stay_on_their_thread() {
    const JOBS: usize = 16;
    let pool = Pool::new(2);
    // No job can finish before all of them are running, so every spawn sees the loads of
    // the jobs before it: least-busy must split them 8 / 8.
    let all_started = Arc::new(Barrier::new(JOBS));
    let jobs: Vec<_> = (0..JOBS)
        .map(|i| {
            let all_started = Arc::clone(&all_started);
            pool.spawn(move || {
                let before = thread::current().id();
                co_await!(tokio::time::sleep(Duration::from_millis(5)));
                co_await!(all_started.wait());
                let after = thread::current().id();
                (i, before, after)
            })
        })
        .collect();
    let results = block_on_within_20s(futures::future::try_join_all(jobs)).unwrap();

    let caller = thread::current().id();
    let mut per_thread: HashMap<ThreadId, usize> = HashMap::new();
    for (index, (i, before, after)) in results.into_iter().enumerate() {
        assert_eq!(i, index, "results come back in spawn order");
        assert_eq!(before, after, "a coroutine never changes thread");
        assert_ne!(before, caller, "a job ran on the caller's thread");
        *per_thread.entry(before).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_thread.into_values().collect();
    counts.sort_unstable();
    assert_eq!(counts, [8, 8], "two workers, 8 jobs each");
    assert_eq!(pool.loads(), [0, 0]);
}

#[test]
fn jobs_one_at_a_time_take_turns_on_idle_workers() {
    // Each job has finished, and unloaded its worker, before the next is spawned: every spawn
    // sees a tie, and ties rotate, so no worker sits idle while the other takes every job.
    let pool = Pool::new(2);
    let ran_on: Vec<ThreadId> = (0..6)
        .map(|_| {
            assert_eq!(pool.loads(), [0, 0]);
            block_on_within_20s(pool.spawn(|| thread::current().id())).unwrap()
        })
        .collect();
    for pair in ran_on.windows(2) {
        assert_ne!(
            pair[0], pair[1],
            "two jobs in a row on one worker: {ran_on:?}"
        );
    }
    assert_eq!(
        ran_on[0], ran_on[2],
        "two workers, so every other job: {ran_on:?}"
    );
}

#[test]
fn a_worker_busy_with_a_long_job_gets_none_of_the_short_ones() {
    let pool = Pool::new(2);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let long = pool.spawn(move || {
        started_tx.send(thread::current().id()).unwrap();
        co_await!(release_rx).unwrap();
        "long done"
    });
    let busy = started_rx.recv_timeout(Duration::from_secs(20)).unwrap();

    // Round-robin would put every other short job behind the long one.
    for _ in 0..10 {
        let ran_on = block_on_within_20s(pool.spawn(|| {
            co_await!(tokio::time::sleep(Duration::from_millis(1)));
            thread::current().id()
        }))
        .unwrap();
        assert_ne!(ran_on, busy, "a short job went to the busy worker");
    }
    assert_eq!(
        pool.loads().iter().sum::<usize>(),
        1,
        "only the long job is left"
    );

    release_tx.send(()).unwrap();
    assert_eq!(block_on_within_20s(long).unwrap(), "long done");
}

#[test]
fn many_thousands_of_coroutines_run_across_the_workers() {
    const JOBS: u64 = 5_000;
    let pool = Pool::new(2);
    let jobs: Vec<_> = (0..JOBS)
        .map(|i| {
            pool.spawn(move || {
                if i % 2 == 0 {
                    co_await!(tokio::time::sleep(Duration::from_millis(1)));
                } else {
                    corona::yield_now();
                }
                (i * 3, thread::current().id())
            })
        })
        .collect();
    let results = block_on_within_20s(futures::future::try_join_all(jobs)).unwrap();

    let values: Vec<u64> = results.iter().map(|&(v, _)| v).collect();
    assert_eq!(values, (0..JOBS).map(|i| i * 3).collect::<Vec<_>>());
    let mut threads: Vec<ThreadId> = results.iter().map(|&(_, t)| t).collect();
    threads.sort_unstable_by_key(|t| format!("{t:?}"));
    threads.dedup();
    assert_eq!(threads.len(), 2, "both workers ran jobs");
    assert!(!threads.contains(&thread::current().id()));
    assert_eq!(pool.loads(), [0, 0]);
}

#[test]
fn a_job_awaits_not_send_futures_and_spawns_local_coroutines_on_its_worker() {
    let pool = Pool::new(2);
    let job = pool.spawn(|| {
        let worker = thread::current().id();
        let counter = Rc::new(Cell::new(0u32)); // !Send: lives and dies on this worker
        let in_future = Rc::clone(&counter);
        let not_send = async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            in_future.set(in_future.get() + 1);
            in_future.get()
        };
        let first = co_await!(not_send);

        let in_child = Rc::clone(&counter);
        let child = corona::spawn_local(move || {
            co_await!(tokio::time::sleep(Duration::from_millis(1)));
            in_child.set(in_child.get() + 10);
            thread::current().id()
        });
        let child_thread = co_await!(child).unwrap();
        (first, counter.get(), child_thread == worker)
    });
    assert_eq!(block_on_within_20s(job).unwrap(), (1, 11, true));
}
