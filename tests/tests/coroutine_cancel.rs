//! Dropping a coroutine unwinds its stack; cancellation composes with timeouts and select.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use corona::{co_await, Coroutine};
use corona_tests::{DropCounter, Guard};
use futures::future::{self, Either};
use futures::FutureExt;

/// Pending forever; counts its drop.
struct Never(#[allow(dead_code)] Guard);

impl Future for Never {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

fn wait_forever_at(depth: u32, drops: &DropCounter) {
    let _local = drops.guard();
    if depth == 0 {
        co_await!(Never(drops.guard()));
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

#[test]
fn a_destructor_that_waits_during_drop_is_told_it_cannot() {
    // try_await in a destructor of a dropped coroutine finds no executor to wait with.
    struct TriesToWait(std::rc::Rc<std::cell::Cell<Option<bool>>>);
    impl Drop for TriesToWait {
        fn drop(&mut self) {
            let pending = future::pending::<()>();
            self.0.set(Some(corona::try_await(pending).is_err()));
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
