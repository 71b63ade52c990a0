//! A `corona::Pool` used from tasks of tokio's multi-thread runtime through a `PoolHandle`.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corona::{co_await, Pool, PoolHandle};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>(_: &T) {}

/// A job's answer: the worker thread's name, whether the tokio runtime is current-thread.
fn whoami(n: u64) -> (u64, String, bool) {
    let local = Rc::new(n); // !Send inside the job
    co_await!(tokio::time::sleep(Duration::from_millis(2)));
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    let name = std::thread::current().name().unwrap_or("").to_owned();
    (
        *local * 2,
        name,
        flavor == tokio::runtime::RuntimeFlavor::CurrentThread,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_tasks_spawn_on_the_pool_through_a_send_handle() {
    let pool = Pool::new(2);
    let handle: PoolHandle = pool.handle();
    assert_send_sync_clone(&handle);

    let tasks: Vec<_> = (0..32u64)
        .map(|n| {
            let handle = handle.clone();
            tokio::spawn(async move { handle.spawn(move || whoami(n)).await })
        })
        .collect();
    let mut names = HashSet::new();
    for (n, task) in (0..32u64).zip(tasks) {
        let (doubled, name, current_thread) = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("the pool did not answer within 20 s")
            .unwrap()
            .unwrap();
        assert_eq!(doubled, n * 2);
        assert!(
            current_thread,
            "a job runs on its worker's current-thread runtime"
        );
        assert!(name.starts_with("corona-pool-"), "job ran on {name:?}");
        names.insert(name);
    }
    assert_eq!(names.len(), 2, "both workers served: {names:?}");

    // Joining threads blocks: do it off the async workers.
    tokio::task::spawn_blocking(move || pool.shutdown())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_handle_detaches_the_job_which_still_finishes() {
    let pool = Pool::new(1);
    let finished = Arc::new(AtomicUsize::new(0));
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let done = Arc::clone(&finished);
    let job = pool.spawn(move || {
        co_await!(release_rx).unwrap();
        done.fetch_add(1, Ordering::SeqCst);
    });
    let timed_out = tokio::time::timeout(Duration::from_millis(10), job).await;
    assert!(timed_out.is_err(), "the job waits for its release");
    release_tx.send(()).unwrap();
    // Shutdown waits for accepted jobs, so the detached job finishes first.
    tokio::task::spawn_blocking(move || pool.shutdown())
        .await
        .unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}
