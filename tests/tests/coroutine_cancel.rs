//! Dropping a coroutine unwinds its stack; cancellation composes with timeouts and select.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use corona::{co_await, Coroutine, NotInCoroutine};
use corona_tests::{DropCounter, PendingForever};
use futures::future::{self, Either};
use futures::FutureExt;

fn wait_forever_at(depth: u32, drops: &DropCounter) {
    let _local = drops.guard();
    if depth == 0 {
        co_await!(PendingForever(drops.guard()));
    } else {
        wait_forever_at(depth - 1, drops);
    }
}

#[test]
fn dropping_a_suspended_coroutine_runs_every_destructor() {
    let drops = DropCounter::new();
    let counter = drops.clone();
    let mut c = Coroutine::new(move || wait_forever_at(10, &counter));
    assert!((&mut c).now_or_never().is_none(), "it must be waiting");
    assert_eq!(drops.dropped(), 0);
    drop(c);
    // 11 frames with a local each, plus the awaited future; the closure's counter is the
    // 13th reference but not a guard.
    assert_eq!(drops.dropped(), 12);
}

#[test]
fn dropping_an_unstarted_coroutine_drops_its_captures() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let c = Coroutine::new(move || {
        let _guard = guard;
        unreachable!("never polled");
    });
    assert_eq!(drops.dropped(), 0);
    drop(c);
    assert_eq!(drops.dropped(), 1);
}

/// Panics in its destructor; its [`Guard`] is dropped after that all the same.
struct PanicsOnDrop {
    _counted: corona_tests::Guard,
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a capture's destructor panicked");
    }
}

/// Drops `unstarted` (a coroutine or generator never polled, holding a [`PanicsOnDrop`] and a
/// second guard of `drops`) and returns the panic message its dropper caught.
fn drop_catching_the_panic(unstarted: impl Sized) -> String {
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(unstarted)));
    corona_tests::panic_message(&*dropped.expect_err("the capture's panic must reach the dropper"))
}

#[test]
fn a_capture_that_panics_when_an_unstarted_coroutine_is_dropped_is_dropped_once() {
    // Dropped twice, the captures would be a double free: run apart so that it cannot take
    // the other tests down with it.
    corona_tests::run_in_child_process(
        "a_capture_that_panics_when_an_unstarted_coroutine_is_dropped_is_dropped_once",
        || {
            let drops = DropCounter::new();
            let (panics, other) = (
                PanicsOnDrop {
                    _counted: drops.guard(),
                },
                drops.guard(),
            );
            let c = Coroutine::new(move || {
                let _captures = (panics, other);
                unreachable!("never polled");
            });
            let message = drop_catching_the_panic(c);
            assert_eq!(message, "a capture's destructor panicked");
            assert_eq!(drops.dropped(), 2, "each capture is dropped exactly once");

            let (panics, other) = (
                PanicsOnDrop {
                    _counted: drops.guard(),
                },
                drops.guard(),
            );
            let g = corona::generator(move |y: &corona::Yielder<u8>| {
                let _captures = (panics, other);
                y.yield_(1);
            });
            let message = drop_catching_the_panic(g);
            assert_eq!(message, "a capture's destructor panicked");
            assert_eq!(drops.dropped(), 4, "each capture is dropped exactly once");

            // The stacks went back whole: the next coroutine runs on one of them.
            assert_eq!(Coroutine::new(|| 7).now_or_never(), Some(7));
        },
    );
}

#[test]
fn a_destructor_that_waits_during_drop_is_told_it_cannot() {
    // try_await in a destructor of a dropped coroutine finds no executor to wait for a
    // pending future with.
    struct TriesToWait(std::rc::Rc<std::cell::Cell<Option<bool>>>);
    impl Drop for TriesToWait {
        fn drop(&mut self) {
            let waited = corona::try_await(PendingForever(()));
            self.0.set(Some(waited == Err(NotInCoroutine)));
        }
    }
    let seen = std::rc::Rc::new(std::cell::Cell::new(None));
    let probe = TriesToWait(seen.clone());
    let mut c = Coroutine::new(move || {
        let _probe = probe;
        co_await!(future::pending::<()>());
    });
    assert!((&mut c).now_or_never().is_none());
    drop(c);
    assert_eq!(seen.get(), Some(true));
}

#[test]
fn timeout_cancels_and_unwinds_the_waiting_coroutine() {
    let drops = DropCounter::new();
    let counter = drops.clone();
    let outcome = corona::run(move || {
        let slow = Coroutine::new(move || {
            let _guard = counter.guard();
            co_await!(tokio::time::sleep(Duration::from_secs(60)));
            "finished"
        });
        co_await!(tokio::time::timeout(Duration::from_millis(10), slow))
    });
    assert!(outcome.is_err(), "the timeout must fire first");
    assert_eq!(drops.dropped(), 1, "the losing coroutine was unwound");
}

#[test]
fn timeout_inside_a_coroutine_lets_a_fast_future_win() {
    let outcome = corona::run(|| {
        co_await!(tokio::time::timeout(
            Duration::from_secs(60),
            Coroutine::new(|| {
                corona::yield_now();
                7
            })
        ))
    });
    assert_eq!(outcome.unwrap(), 7);
}

#[test]
fn select_drops_the_losing_coroutine() {
    let drops = DropCounter::new();
    let counter = drops.clone();
    let winner = corona::run(move || {
        let loser = Coroutine::new(move || {
            let _guard = counter.guard();
            co_await!(tokio::time::sleep(Duration::from_secs(60)));
            "loser"
        });
        let fast = Coroutine::new(|| {
            co_await!(tokio::time::sleep(Duration::from_millis(5)));
            "fast"
        });
        match co_await!(future::select(loser, fast)) {
            Either::Left((value, _)) => value,
            Either::Right((value, loser)) => {
                drop(loser);
                value
            }
        }
    });
    assert_eq!(winner, "fast");
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn spawned_coroutines_still_waiting_are_unwound_when_run_ends() {
    let drops = DropCounter::new();
    let counter = drops.clone();
    corona::run(move || {
        for _ in 0..3 {
            let counter = counter.clone();
            drop(corona::spawn_local(move || {
                let _guard = counter.guard();
                co_await!(future::pending::<()>());
            }));
        }
        corona::yield_now();
    });
    assert_eq!(drops.dropped(), 3);
}

/// In the destructor of a coroutine `run` cancels as it ends: clean-up that needs the
/// runtime, as the guide advises (spawn it as a task), and a timer.
struct CleansUpWithTheRuntime(Rc<Cell<usize>>);

impl Drop for CleansUpWithTheRuntime {
    fn drop(&mut self) {
        drop(tokio::task::spawn(async {}));
        let timer = corona::try_await(tokio::time::timeout(Duration::from_secs(1), async {}));
        assert!(matches!(timer, Ok(Ok(()))), "{timer:?}");
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn coroutines_run_cancels_as_it_ends_can_still_use_the_runtime() {
    // Outside the runtime, either use would panic during the cancellation's unwinding: an
    // abort, so a child process. Also when the body panics.
    corona_tests::run_in_child_process(
        "coroutines_run_cancels_as_it_ends_can_still_use_the_runtime",
        || {
            let cleaned = Rc::new(Cell::new(0));
            for body_panics in [false, true] {
                let cleaner = CleansUpWithTheRuntime(cleaned.clone());
                let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    corona::run(move || {
                        drop(corona::spawn_local(move || {
                            let _cleaner = cleaner;
                            co_await!(future::pending::<()>());
                        }));
                        corona::yield_now();
                        if body_panics {
                            panic!("the body panics");
                        }
                    })
                }));
                assert_eq!(ended.is_err(), body_panics);
            }
            assert_eq!(cleaned.get(), 2, "both destructors ran to their end");
        },
    );
}

#[test]
fn aborting_a_spawned_coroutine_unwinds_it() {
    let drops = DropCounter::new();
    let counter = drops.clone();
    let cancelled = corona::run(move || {
        let handle = corona::spawn_local(move || {
            let _guard = counter.guard();
            co_await!(future::pending::<()>());
        });
        corona::yield_now();
        handle.abort();
        co_await!(handle).unwrap_err().is_cancelled()
    });
    assert!(cancelled);
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn a_coroutine_dropped_inside_another_unwinds_outside_of_any_coroutine() {
    // The dropping coroutine is running, but the destructors run on the dropped one's stack,
    // which has no executor: they must not find (and suspend) the dropping coroutine.
    type Seen = Rc<Cell<Option<(bool, Option<Result<(), NotInCoroutine>>)>>>;
    struct Probe(Seen);
    impl Drop for Probe {
        fn drop(&mut self) {
            let inside = corona::in_coroutine();
            // Only asked when no coroutine is visible: if the dropping one were, `try_await`
            // would suspend it from the wrong stack.
            let waited = (!inside).then(|| corona::try_await(PendingForever(())));
            self.0.set(Some((inside, waited)));
        }
    }
    let seen: Seen = Rc::new(Cell::new(None));
    let probe = Probe(seen.clone());
    let outer = Coroutine::new(move || {
        let mut inner = Coroutine::new(move || {
            let _probe = probe;
            co_await!(PendingForever(()));
        });
        let first = co_await!(future::poll_fn(|cx| Poll::Ready(
            Pin::new(&mut inner).poll(cx)
        )));
        assert!(first.is_pending(), "the inner coroutine must be waiting");
        drop(inner);
        // The dropping coroutine is itself again, and can still wait.
        assert!(corona::in_coroutine());
        corona::yield_now();
        "outer finished"
    });
    assert_eq!(futures::executor::block_on(outer), "outer finished");
    assert_eq!(seen.get(), Some((false, Some(Err(NotInCoroutine)))));
}

#[test]
fn a_destructor_of_a_dropped_coroutine_never_sees_the_dropping_coroutines_waker() {
    // A ready future awaited in the destructor is polled with a waker of its own (there is no
    // executor behind a dropped coroutine), never with the Context of the coroutine that
    // happens to drop it: that coroutine's task must not be woken by it.
    struct WakesAndIsReady;
    impl Future for WakesAndIsReady {
        type Output = u8;
        fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<u8> {
            cx.waker().wake_by_ref();
            Poll::Ready(5)
        }
    }
    struct AwaitsInDrop(Rc<Cell<Option<u8>>>);
    impl Drop for AwaitsInDrop {
        fn drop(&mut self) {
            self.0.set(Some(co_await!(WakesAndIsReady)));
        }
    }
    struct CountingWaker(std::sync::atomic::AtomicUsize);
    impl std::task::Wake for CountingWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let seen = Rc::new(Cell::new(None));
    let guard = AwaitsInDrop(seen.clone());
    let mut outer = Coroutine::new(move || {
        let mut inner = Coroutine::new(move || {
            let _guard = guard;
            co_await!(PendingForever(()));
        });
        let first = co_await!(future::poll_fn(|cx| Poll::Ready(
            Pin::new(&mut inner).poll(cx)
        )));
        assert!(first.is_pending(), "the inner coroutine must be waiting");
        drop(inner);
    });
    let wakes = std::sync::Arc::new(CountingWaker(0.into()));
    let waker = std::task::Waker::from(wakes.clone());
    let polled = Pin::new(&mut outer).poll(&mut std::task::Context::from_waker(&waker));
    assert!(polled.is_ready());
    assert_eq!(seen.get(), Some(5), "the destructor got the ready value");
    assert_eq!(
        wakes.0.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the destructor woke the dropping coroutine's task"
    );
}
