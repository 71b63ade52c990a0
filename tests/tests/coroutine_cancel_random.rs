//! Randomised cancellation: thousands of coroutines, each suspended at a random depth through
//! plain frames, nested coroutines, generators, `select` and `join` (some never started),
//! dropped in a random order, with a guard at every level. Every guard must be dropped
//! exactly once, every destructor must still be able to await a ready future, and every
//! stack must come back to the pool.
//!
//! Deterministic: a seeded generator plans each coroutine, and all polling happens on this
//! thread with a no-op waker. `CORONA_CANCEL_SEED=<n>` runs another seed.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use corona::prelude::*;
use corona::{co_await, Coroutine, Generator, Yielder};
use corona_tests::Rng;
use futures::future::{self, Either};
use futures::FutureExt;

/// Each coroutine's stack: small, so thousands stay cheap.
const STACK: usize = 64 * 1024;
/// How deep the plan may nest coroutines and frames.
const MAX_DEPTH: u32 = 6;

/// Every guard ever made, how often each was dropped, and what went wrong in a destructor.
#[derive(Clone, Default)]
struct Ledger(Rc<RefCell<Book>>);

#[derive(Default)]
struct Book {
    drops: Vec<u32>,
    failures: Vec<String>,
}

impl Ledger {
    fn guard(&self) -> Guard {
        let mut book = self.0.borrow_mut();
        book.drops.push(0);
        Guard {
            ledger: self.clone(),
            id: book.drops.len() - 1,
        }
    }

    fn guards(&self) -> usize {
        self.0.borrow().drops.len()
    }
}

/// Counts its drop in the ledger, and checks on the way that a destructor, wherever it runs
/// (a returning body, a cancelled one, an unstarted one's captures), can await a ready
/// future.
struct Guard {
    ledger: Ledger,
    id: usize,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let awaited = corona::try_await(async { self.id });
        let mut book = self.ledger.0.borrow_mut();
        book.drops[self.id] += 1;
        if awaited != Ok(self.id) {
            let failure = format!("guard {}: try_await gave {awaited:?}", self.id);
            book.failures.push(failure);
        }
    }
}

/// Pending forever, holding a guard.
struct Forever(#[allow(dead_code)] Guard);

impl Future for Forever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

/// The body of every coroutine and generator in the test: one random step of the plan, with
/// a guard in this frame, then deeper.
fn descend(plan: &mut Rng, depth: u32, ledger: &Ledger) {
    let _guard = ledger.guard();
    if depth == 0 || plan.below(8) == 0 {
        return leaf(plan, ledger);
    }
    match plan.below(7) {
        // A plain frame.
        0 | 1 => descend(plan, depth - 1, ledger),
        // A nested coroutine, awaited.
        2 => co_await!(child(plan, depth - 1, ledger)),
        // A generator, drained.
        3 => {
            let mut items = child_generator(plan, depth - 1, ledger);
            while items.co_next().is_some() {}
        }
        // The first of two coroutines; the loser is cancelled there and then.
        4 => {
            let (a, b) = (
                child(plan, depth - 1, ledger),
                child(plan, depth - 1, ledger),
            );
            match co_await!(future::select(a, b)) {
                Either::Left(((), loser)) => drop(loser),
                Either::Right(((), loser)) => drop(loser),
            }
            descend(plan, depth - 1, ledger);
        }
        // Both of two coroutines.
        5 => {
            let (a, b) = (
                child(plan, depth - 1, ledger),
                child(plan, depth - 1, ledger),
            );
            co_await!(future::join(a, b));
        }
        // A coroutine that is never started, held across everything below.
        _ => {
            let _unstarted = child(plan, depth - 1, ledger);
            descend(plan, depth - 1, ledger);
        }
    }
}

/// The bottom of a plan: a few turns, then return or wait forever.
fn leaf(plan: &mut Rng, ledger: &Ledger) {
    let _guard = ledger.guard();
    for _ in 0..plan.below(4) {
        corona::yield_now();
    }
    if plan.below(3) != 0 {
        co_await!(Forever(ledger.guard()));
    }
}

/// A coroutine with a plan of its own, and a guard among its captures.
fn child(plan: &mut Rng, depth: u32, ledger: &Ledger) -> Coroutine<()> {
    let seed = plan.next_u64();
    let captured = ledger.guard();
    let ledger = ledger.clone();
    corona::Builder::new().stack_size(STACK).build(move || {
        let _captured = captured;
        descend(&mut Rng(seed), depth, &ledger);
    })
}

/// A generator that yields a few items between steps of its own plan.
fn child_generator(plan: &mut Rng, depth: u32, ledger: &Ledger) -> Generator<u64> {
    let seed = plan.next_u64();
    let captured = ledger.guard();
    let ledger = ledger.clone();
    Generator::with_stack_size(STACK, move |y: &Yielder<u64>| {
        let _captured = captured;
        let mut plan = Rng(seed);
        for item in 0..plan.below(3) {
            y.yield_(item as u64);
        }
        descend(&mut plan, depth, &ledger);
        y.yield_(99);
    })
}

fn cancel_at_random(seed: u64, coroutines: usize) {
    let stacks_before = corona::__private::stacks_in_use();
    let ledger = Ledger::default();
    let mut plan = Rng(seed);
    let mut all: Vec<(Coroutine<()>, usize)> = (0..coroutines)
        .map(|_| (child(&mut plan, MAX_DEPTH, &ledger), plan.below(4)))
        .collect();

    // Poll in rounds, in a random order each round; a coroutine planned for 0 polls is
    // never started.
    let mut cx = Context::from_waker(Waker::noop());
    let mut order: Vec<usize> = (0..all.len()).collect();
    for round in 0..3 {
        plan.shuffle(&mut order);
        for &i in &order {
            let (c, polls) = &mut all[i];
            if *polls > round && !c.is_finished() {
                let _ = c.poll_unpin(&mut cx);
            }
        }
    }
    let suspended = all
        .iter()
        .filter(|(c, _)| format!("{c:?}").contains("suspended"))
        .count();
    let unstarted = all.iter().filter(|(_, polls)| *polls == 0).count();
    assert!(suspended > coroutines / 4, "only {suspended} suspended");
    assert!(unstarted > coroutines / 8, "only {unstarted} never started");
    let stacks_held = corona::__private::stacks_in_use() - stacks_before;
    assert!(stacks_held >= coroutines, "{stacks_held} stacks held");

    plan.shuffle(&mut all);
    drop(all);

    let book = ledger.0.borrow();
    assert!(book.failures.is_empty(), "{:?}", &book.failures[..]);
    let wrong: Vec<(usize, u32)> = book
        .drops
        .iter()
        .enumerate()
        .filter(|&(_, &n)| n != 1)
        .map(|(id, &n)| (id, n))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} guards not dropped exactly once (id, drops): {:?}",
        wrong.len(),
        book.drops.len(),
        &wrong[..wrong.len().min(20)]
    );
    assert!(
        ledger.guards() > 4 * coroutines,
        "{} guards",
        ledger.guards()
    );
    assert_eq!(
        corona::__private::stacks_in_use(),
        stacks_before,
        "stacks lost from the pool"
    );
    println!(
        "seed {seed}: {coroutines} coroutines ({suspended} suspended, {unstarted} never \
         started), {stacks_held} stacks, {} guards",
        ledger.guards()
    );
}

#[test]
fn thousands_of_coroutines_cancelled_at_random_drop_every_guard_once() {
    let seeds: Vec<u64> = match std::env::var("CORONA_CANCEL_SEED") {
        Ok(seed) => vec![seed.parse().expect("CORONA_CANCEL_SEED is a number")],
        Err(_) => vec![1, 2, 3],
    };
    for seed in seeds {
        cancel_at_random(seed, 1000);
    }
}
