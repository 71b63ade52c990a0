//! Waiting for the first of many streams or futures: `futures::stream::select_all`,
//! `futures::select!`, `future::select` and `tokio::time::timeout` compose with `co_await!`
//! and `co_iter`.

use std::time::Duration;

use corona::prelude::*;
use corona::{co_await, Coroutine, Generator};
use corona_tests::DropCounter;
use futures::future::{self, Either};
use futures::{stream, FutureExt, StreamExt};

/// `name` and an index, `count` times, letting other tasks run before each item.
fn ticker(name: &'static str, count: u32) -> Generator<String> {
    corona::generator(move |y| {
        for i in 0..count {
            corona::yield_now();
            y.yield_(format!("{name}{i}"));
        }
    })
}

#[test]
fn select_all_merges_generators_and_channels() {
    let got: Vec<String> = corona::run(|| {
        let (tx, rx) = futures::channel::mpsc::unbounded::<String>();
        let sender = corona::spawn_local(move || {
            for i in 0..2 {
                corona::yield_now();
                tx.unbounded_send(format!("c{i}")).unwrap();
            }
        });
        let sources = vec![
            ticker("a", 3).boxed_local(),
            ticker("b", 2).boxed_local(),
            rx.boxed_local(),
        ];
        let got = stream::select_all(sources).co_iter().collect();
        co_await!(sender).unwrap();
        got
    });
    // Items of each source keep their order; the merge holds them all.
    let of = |prefix: char, got: &[String]| -> Vec<String> {
        got.iter()
            .filter(|s| s.starts_with(prefix))
            .cloned()
            .collect()
    };
    assert_eq!(of('a', &got), ["a0", "a1", "a2"]);
    assert_eq!(of('b', &got), ["b0", "b1"]);
    assert_eq!(of('c', &got), ["c0", "c1"]);
    assert_eq!(got.len(), 7);
    // A merge, not one source after another: every source delivered its first item before
    // any delivered its last.
    let at = |item: &str| got.iter().position(|s| s == item).unwrap();
    let firsts = [at("a0"), at("b0"), at("c0")];
    let lasts = [at("a2"), at("b1"), at("c1")];
    assert!(
        firsts.iter().max() < lasts.iter().min(),
        "not interleaved: {got:?}"
    );
}

#[test]
fn futures_select_macro_drains_two_generators() {
    let (lefts, rights, order) = corona::run(|| {
        let mut left = ticker("l", 3);
        let mut right = ticker("r", 4);
        let (mut lefts, mut rights, mut order) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            let next = co_await!(async {
                futures::select! {
                    l = left.next() => Some(Either::Left(l)),
                    r = right.next() => Some(Either::Right(r)),
                    complete => None,
                }
            });
            match next {
                // One ended; `select!` skips it from now on (generators are fused).
                Some(Either::Left(None) | Either::Right(None)) => {}
                Some(Either::Left(Some(l))) => {
                    order.push(l.clone());
                    lefts.push(l);
                }
                Some(Either::Right(Some(r))) => {
                    order.push(r.clone());
                    rights.push(r);
                }
                None => break,
            }
        }
        (lefts, rights, order)
    });
    assert_eq!(lefts, ["l0", "l1", "l2"]);
    assert_eq!(rights, ["r0", "r1", "r2", "r3"]);
    // Taken as they came, not one generator drained after the other.
    let at = |item: &str| order.iter().position(|s| s == item).unwrap();
    assert!(at("r0") < at("l2") && at("l0") < at("r3"), "{order:?}");
}

#[test]
fn futures_select_macro_takes_whichever_is_ready_first() {
    let got = corona::run(|| {
        let (tx, rx) = tokio::sync::oneshot::channel::<&str>();
        let _sender = corona::spawn_local(move || tx.send("message").unwrap());
        let mut silent = stream::pending::<&str>();
        co_await!(async {
            futures::select! {
                m = rx.fuse() => m.unwrap(),
                s = silent.next() => s.unwrap_or("silent ended"),
            }
        })
    });
    assert_eq!(got, "message");
}

#[test]
fn future_select_returns_the_winner_and_the_loser_stays_usable() {
    let (winner, loser_output) = corona::run(|| {
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let waits = Coroutine::new(move || co_await!(rx).unwrap() + 1);
        let quick = Coroutine::new(|| "quick");
        match co_await!(future::select(waits, quick)) {
            Either::Right((winner, waits)) => {
                tx.send(41).unwrap();
                (winner, co_await!(waits))
            }
            Either::Left(..) => panic!("the waiting coroutine won"),
        }
    });
    assert_eq!((winner, loser_output), ("quick", 42));
}

#[test]
fn timeout_around_co_next_of_a_silent_stream_elapses() {
    corona::run(|| {
        let mut silent = stream::pending::<u32>();
        let next = co_await!(tokio::time::timeout(
            Duration::from_millis(5),
            silent.next()
        ));
        assert!(
            next.is_err(),
            "a stream that never yields produced {next:?}"
        );

        let mut one = corona::generator(|y| y.yield_(1));
        let next = co_await!(tokio::time::timeout(Duration::from_secs(10), one.next()));
        assert_eq!(next, Ok(Some(1)));
    });
}

#[test]
fn timeout_cancels_a_coroutine_stuck_in_co_iter_and_unwinds_it() {
    let drops = DropCounter::new();
    let (consumer_drops, generator_drops) = (drops.clone(), drops.clone());
    let (outcome, seen) = corona::run(|| {
        let seen = std::rc::Rc::new(std::cell::Cell::new(0));
        let counted = std::rc::Rc::clone(&seen);
        let stalls = corona::generator(move |y| {
            let _guard = generator_drops.guard();
            y.yield_(1);
            y.yield_(2);
            co_await!(future::pending::<()>());
        });
        let consumer = Coroutine::new(move || {
            let _guard = consumer_drops.guard();
            for _ in stalls.co_iter() {
                counted.set(counted.get() + 1);
            }
        });
        let outcome = co_await!(tokio::time::timeout(Duration::from_millis(5), consumer));
        (outcome, seen.get())
    });
    assert!(outcome.is_err(), "the stalled consumer finished");
    assert_eq!(seen, 2);
    assert_eq!(
        drops.dropped(),
        2,
        "the consumer and the generator it held were unwound"
    );
}
