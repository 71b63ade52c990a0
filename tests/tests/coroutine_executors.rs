//! A `Coroutine` is an ordinary future: it runs on every executor.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use corona::{co_await, Coroutine};
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;

#[test]
fn tokio_local_set_runs_coroutines_concurrently() {
    // A watchdog: if a's wait blocked the thread, b could never send.
    corona_tests::finish_within(Duration::from_secs(20), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let (log_a, log_b) = (log.clone(), log.clone());
        local.block_on(&runtime, async move {
            // a waits for what only b sends: a handshake, not a race between two timers.
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let a = tokio::task::spawn_local(Coroutine::new(move || {
                log_a.borrow_mut().push("a: start");
                co_await!(rx).unwrap();
                log_a.borrow_mut().push("a: end");
            }));
            let b = tokio::task::spawn_local(Coroutine::new(move || {
                log_b.borrow_mut().push("b: start");
                co_await!(tokio::task::yield_now());
                tx.send(()).unwrap();
                log_b.borrow_mut().push("b: end");
            }));
            a.await.unwrap();
            b.await.unwrap();
        });
        // b started and finished while a was waiting: a's wait did not block the thread.
        assert_eq!(*log.borrow(), ["a: start", "b: start", "b: end", "a: end"]);
    });
}

/// Tells `waiting` when `inner` first returned `Pending` (its waker is registered).
struct TellWhenPending<F> {
    inner: F,
    waiting: Option<std::sync::mpsc::Sender<()>>,
}

impl<F: Future + Unpin> Future for TellWhenPending<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let polled = Pin::new(&mut self.inner).poll(cx);
        if polled.is_pending() {
            if let Some(waiting) = self.waiting.take() {
                waiting.send(()).unwrap();
            }
        }
        polled
    }
}

#[test]
fn block_on_is_woken_from_another_thread() {
    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
    // The sender waits until the coroutine is suspended on `rx`: only a wake from this
    // other thread can finish it.
    let sender = std::thread::spawn(move || {
        waiting_rx.recv().unwrap();
        tx.send(41).unwrap();
    });
    let got = futures::executor::block_on(Coroutine::new(move || {
        let rx = TellWhenPending {
            inner: rx,
            waiting: Some(waiting_tx),
        };
        co_await!(rx).unwrap() + 1
    }));
    assert_eq!(got, 42);
    sender.join().unwrap();
}

#[test]
fn local_pool_drives_many_coroutines() {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let results = Rc::new(RefCell::new(Vec::new()));
    let (tx, rx) = futures::channel::mpsc::unbounded::<usize>();
    let rx = Rc::new(RefCell::new(Some(rx)));
    for i in 0..100 {
        let tx = tx.clone();
        spawner
            .spawn_local(Coroutine::new(move || {
                // Every coroutine waits once before it reports.
                corona::yield_now();
                tx.unbounded_send(i).unwrap();
            }))
            .unwrap();
    }
    drop(tx);
    let sink = results.clone();
    spawner
        .spawn_local(Coroutine::new(move || {
            use futures::StreamExt;
            let mut rx = rx.borrow_mut().take().unwrap();
            while let Some(i) = co_await!(rx.next()) {
                sink.borrow_mut().push(i);
            }
        }))
        .unwrap();
    pool.run();
    let mut got = results.borrow().clone();
    got.sort_unstable();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[test]
fn corona_run_returns_the_output_and_may_borrow() {
    let words = [String::from("stack"), String::from("ful")];
    let joined = corona::run(|| {
        co_await!(tokio::time::sleep(Duration::from_millis(1)));
        words.concat()
    });
    assert_eq!(joined, "stackful");
}

#[test]
fn ten_thousand_spawn_local_coroutines() {
    let total = corona::run(|| {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                let mut rx = rx.clone();
                corona::spawn_local(move || {
                    // All of them are alive and waiting at once.
                    co_await!(rx.wait_for(|go| *go)).unwrap();
                    i
                })
            })
            .collect();
        corona::yield_now();
        tx.send(true).unwrap();
        handles
            .into_iter()
            .map(|h| co_await!(h).unwrap())
            .sum::<u64>()
    });
    assert_eq!(total, (0..10_000u64).sum());
}
