//! Dropping a generator early unwinds its stack: every destructor on it runs, at every depth,
//! including the future it was waiting for, and code after the suspension point never runs.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use corona::{co_await, Yielder};
use corona_tests::DropCounter;
use futures::{Stream, StreamExt};

fn nested_yielder(drops: &DropCounter, y: &Yielder<u32>, after: &Cell<bool>) {
    let _nested_guard = drops.guard();
    for i in 0.. {
        y.yield_(i);
    }
    after.set(true);
}

#[test]
fn early_drop_at_a_yield_runs_destructors_at_every_depth() {
    let drops = DropCounter::new();
    let ran_past = Rc::new(Cell::new(false));
    let (body_drops, body_ran_past) = (drops.clone(), Rc::clone(&ran_past));
    let mut gen = corona::generator(move |y| {
        let _body_guard = body_drops.guard();
        nested_yielder(&body_drops, y, &body_ran_past);
        body_ran_past.set(true);
    });
    let first_three: Vec<u32> = futures::executor::block_on((&mut gen).take(3).collect());
    assert_eq!(first_three, [0, 1, 2]);
    assert_eq!(
        drops.dropped(),
        0,
        "destructors ran while the generator was alive"
    );

    drop(gen);
    assert_eq!(
        drops.dropped(),
        2,
        "the body's and the nested function's guards"
    );
    assert!(
        !ran_past.get(),
        "code after the yield ran during the unwind"
    );
}

#[test]
fn early_drop_while_waiting_drops_the_awaited_future_too() {
    let drops = DropCounter::new();
    let body_drops = drops.clone();
    let mut gen = corona::generator(move |y: &Yielder<u8>| {
        let _guard = body_drops.guard();
        co_await!(corona_tests::PendingForever(body_drops.guard()));
        y.yield_(1);
    });
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(Pin::new(&mut gen).poll_next(&mut cx), Poll::Pending);
    assert_eq!(drops.dropped(), 0);
    drop(gen);
    assert_eq!(
        drops.dropped(),
        2,
        "the body's guard and the awaited future's guard"
    );
}

#[test]
fn dropping_an_unstarted_generator_drops_what_the_body_captured() {
    let drops = DropCounter::new();
    let captured = drops.guard();
    let started = Rc::new(Cell::new(false));
    let body_started = Rc::clone(&started);
    let gen = corona::generator(move |y: &Yielder<u8>| {
        body_started.set(true);
        let _keep = &captured;
        y.yield_(1);
    });
    drop(gen);
    assert_eq!(drops.dropped(), 1);
    assert!(!started.get(), "dropping ran the body");
}

#[test]
fn a_finished_generator_dropped_its_body_already() {
    let drops = DropCounter::new();
    let captured = drops.guard();
    let mut gen = corona::generator(move |y| {
        let _keep = &captured;
        y.yield_(1);
    });
    futures::executor::block_on(async {
        assert_eq!(gen.next().await, Some(1));
        assert_eq!(drops.dropped(), 0);
        assert_eq!(gen.next().await, None);
    });
    assert_eq!(drops.dropped(), 1, "the body's captures outlived the body");
    drop(gen);
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn many_early_drops_reuse_stacks_and_unwind_each_one() {
    let drops = DropCounter::new();
    let stacks = std::rc::Rc::new(std::cell::RefCell::new(std::collections::HashSet::new()));
    for round in 0..1_000u32 {
        let body_drops = drops.clone();
        let stacks = stacks.clone();
        let mut gen = corona::generator(move |y| {
            let _guard = body_drops.guard();
            stacks
                .borrow_mut()
                .insert(corona::stack_usage().unwrap().range());
            loop {
                y.yield_(round);
            }
        });
        assert_eq!(futures::executor::block_on(gen.next()), Some(round));
    }
    assert_eq!(drops.dropped(), 1_000);
    // Each dropped generator gave its stack back, and the next one took that same stack.
    assert_eq!(
        stacks.borrow().len(),
        1,
        "1,000 generators used {:?}",
        stacks.borrow()
    );
}

#[test]
fn each_yielded_item_is_moved_out_once_and_dropped_once() {
    let drops = DropCounter::new();
    let guards: Vec<_> = (0..3).map(|_| drops.guard()).collect();
    let mut gen = corona::generator(move |y| {
        for guard in guards {
            y.yield_(guard);
        }
        y.yield_(DropCounter::new().guard()); // a fourth, never taken: the generator is dropped
    });
    futures::executor::block_on(async {
        let first = gen.next().await.expect("an item");
        assert_eq!(
            drops.dropped(),
            0,
            "taking an item out of the generator dropped it"
        );
        drop(first);
        assert_eq!(drops.dropped(), 1);
        drop(gen.next().await.expect("an item"));
        assert_eq!(drops.dropped(), 2);
    });
    // The third is still in the body's iterator: unwinding the suspended body drops it, once.
    drop(gen);
    assert_eq!(drops.dropped(), 3);
}
