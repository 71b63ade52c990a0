//! Randomised scopes: trees of borrowing children, each waiting on gates the test opens in a
//! random order, yielding, spawning, joining early or late, detaching, opening nested scopes
//! in its body, and some panicking. The test polls the enclosing coroutine only after a wake,
//! as an executor does, so a lost wake shows up as a stall; every value, every caught panic
//! and every guard is checked, and every stack must come back to the pool. Some plans drop
//! the enclosing coroutine part way through instead (then gates open after the drop, as late
//! wakers do).
//!
//! Deterministic: a seeded generator plans each tree, and all polling happens on this thread.
//! `CORONA_SCOPE_SEED=<n>` runs another seed.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use corona::{Coroutine, Scope};
use corona_tests::{panic_message, DropCounter, Rng, WakeCounter};

/// Each child's stack: small, so hundreds stay cheap.
const STACK: usize = 64 * 1024;
/// How deep children (and nested scopes) may nest.
const MAX_DEPTH: u32 = 4;

/// What one coroutine (the enclosing one, or a child) does in its scope.
struct Plan {
    id: u64,
    steps: Vec<Step>,
    /// Panics after its scope returned: its parent joins it and expects `node <id>`.
    panics: bool,
    /// Its handle is dropped at once: the scope still waits for it (never panics).
    detached: bool,
}

enum Step {
    Spawn(Plan),
    /// Waits until the test opens this gate.
    Gate(usize),
    Yield,
    /// Joins the oldest child not joined yet.
    JoinOldest,
    /// Opens a scope inside this body, spawns these children there and joins them; if
    /// `adopts`, first joins the oldest child of the outer scope not joined yet, from inside
    /// the inner scope (whose waits must drive the outer scope's children too).
    Nested {
        children: Vec<Plan>,
        adopts: bool,
    },
}

struct Planner {
    rng: Rng,
    ids: u64,
    gates: usize,
}

impl Planner {
    fn plan(&mut self, depth: u32, may_panic: bool) -> Plan {
        self.ids += 1;
        let id = self.ids;
        let detached = may_panic && self.rng.below(5) == 0;
        let panics = may_panic && !detached && self.rng.below(6) == 0;
        let mut steps = Vec::new();
        // The enclosing coroutine always does something; children sometimes nothing.
        let steps_at_most = if depth == 0 { 10 } else { 7 };
        for _ in 0..self.rng.below(steps_at_most) + usize::from(depth == 0) * 3 {
            let step = match self.rng.below(10) {
                0..=2 if depth < MAX_DEPTH => Step::Spawn(self.plan(depth + 1, true)),
                3 if depth < MAX_DEPTH => Step::Nested {
                    children: (0..1 + self.rng.below(3))
                        .map(|_| self.plan(depth + 1, true))
                        .map(|plan| Plan {
                            detached: false,
                            ..plan
                        })
                        .collect(),
                    adopts: self.rng.below(2) == 0,
                },
                4..=6 => {
                    self.gates += 1;
                    Step::Gate(self.gates - 1)
                }
                7 => Step::Yield,
                _ => Step::JoinOldest,
            };
            steps.push(step);
        }
        Plan {
            id,
            steps,
            panics,
            detached,
        }
    }
}

/// What a plan returns: its id plus what its joined, non-panicking children return.
fn expected(plan: &Plan) -> u64 {
    let children = plan.steps.iter().flat_map(|step| match step {
        Step::Spawn(child) => std::slice::from_ref(child),
        Step::Nested { children, .. } => children.as_slice(),
        _ => &[],
    });
    plan.id
        + children
            .filter(|child| !child.detached && !child.panics)
            .map(expected)
            .sum::<u64>()
}

/// The gates, opened by the test, and the waker of whoever waits on each.
#[derive(Default)]
struct Gates(RefCell<Vec<(bool, Option<Waker>)>>);

impl Gates {
    fn wait(&self, gate: usize) {
        corona::co_await!(std::future::poll_fn(|cx| {
            let mut gates = self.0.borrow_mut();
            if gates[gate].0 {
                Poll::Ready(())
            } else {
                gates[gate].1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }));
    }

    /// The closed gates someone waits on.
    fn awaited(&self) -> Vec<usize> {
        let gates = self.0.borrow();
        (0..gates.len())
            .filter(|&g| !gates[g].0 && gates[g].1.is_some())
            .collect()
    }

    fn open(&self, gate: usize) {
        let waker = {
            let mut gates = self.0.borrow_mut();
            gates[gate].0 = true;
            gates[gate].1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// What every coroutine of the tree borrows from the enclosing one's stack.
struct Env<'a> {
    gates: &'a Gates,
    guards: &'a DropCounter,
    made: &'a Cell<usize>,
}

fn run(plan: &Plan, env: &Env<'_>) -> u64 {
    let _guard = env.guards.guard();
    env.made.set(env.made.get() + 1);
    let total = corona::scope(|s| run_steps(s, &plan.steps, env));
    if plan.panics {
        panic!("node {}", plan.id);
    }
    plan.id + total
}

fn run_steps<'scope>(
    s: &'scope Scope<'scope, '_>,
    steps: &'scope [Step],
    env: &'scope Env<'_>,
) -> u64 {
    let mut total = 0;
    let mut handles = VecDeque::new();
    for step in steps {
        match step {
            Step::Spawn(child) => {
                let handle = corona::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(s, move || run(child, env));
                if !child.detached {
                    handles.push_back((child, handle));
                }
            }
            Step::Gate(gate) => env.gates.wait(*gate),
            Step::Yield => corona::yield_now(),
            Step::JoinOldest => {
                if let Some((child, handle)) = handles.pop_front() {
                    total += join(child, handle);
                }
            }
            Step::Nested { children, adopts } => {
                let adopted = if *adopts { handles.pop_front() } else { None };
                total += corona::scope(|inner| {
                    let handles: Vec<_> = children
                        .iter()
                        .map(|child| {
                            let handle = corona::Builder::new()
                                .stack_size(STACK)
                                .spawn_scoped(inner, move || run(child, env));
                            (child, handle)
                        })
                        .collect();
                    let adopted = adopted.map_or(0, |(child, handle)| join(child, handle));
                    adopted
                        + handles
                            .into_iter()
                            .map(|(child, handle)| join(child, handle))
                            .sum::<u64>()
                });
            }
        }
    }
    total
        + handles
            .into_iter()
            .map(|(child, handle)| join(child, handle))
            .sum::<u64>()
}

fn join(child: &Plan, handle: corona::ScopedJoinHandle<'_, u64>) -> u64 {
    match catch_unwind(AssertUnwindSafe(|| handle.join())) {
        Ok(value) => {
            assert!(
                !child.panics,
                "node {} returned instead of panicking",
                child.id
            );
            assert_eq!(value, expected(child), "node {}", child.id);
            value
        }
        // The enclosing coroutine is being dropped: its unwinding goes on.
        Err(payload) if !payload.is::<String>() => std::panic::resume_unwind(payload),
        Err(payload) => {
            assert!(
                child.panics,
                "node {}: {}",
                child.id,
                panic_message(&*payload)
            );
            assert_eq!(panic_message(&*payload), format!("node {}", child.id));
            0
        }
    }
}

/// Runs one tree; drops it after `cancel_after` polls if given. Returns the polls it took.
fn run_tree(seed: u64, cancel_after: Option<usize>) -> usize {
    let mut planner = Planner {
        rng: Rng(seed),
        ids: 0,
        gates: 0,
    };
    let plan = Rc::new(planner.plan(0, false));
    let mut rng = planner.rng;
    let gates = Rc::new(Gates::default());
    gates
        .0
        .borrow_mut()
        .resize_with(planner.gates, || (false, None));
    let guards = DropCounter::new();
    let made = Rc::new(Cell::new(0));
    let stacks_before = corona::__private::stacks_in_use();

    let mut enclosing = {
        let (plan, gates, guards, made) =
            (plan.clone(), gates.clone(), guards.clone(), made.clone());
        Coroutine::new(move || {
            let env = Env {
                gates: &gates,
                guards: &guards,
                made: &made,
            };
            run(&plan, &env)
        })
    };
    let wakes = Arc::new(WakeCounter::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut polls = 0;
    loop {
        if cancel_after == Some(polls) {
            drop(enclosing);
            // Late wakes, into a scope that is gone.
            for gate in 0..planner.gates {
                gates.open(gate);
            }
            break;
        }
        wakes.take();
        polls += 1;
        if let Poll::Ready(value) = Pin::new(&mut enclosing).poll(&mut cx) {
            assert_eq!(value, expected(&plan), "seed {seed}");
            break;
        }
        // Poll again only once woken: open awaited gates until a wake comes.
        while !wakes.woken() {
            let awaited = gates.awaited();
            assert!(
                !awaited.is_empty(),
                "seed {seed}: pending after {polls} polls, nothing woke it and nobody waits on a gate"
            );
            gates.open(rng.pick(&awaited));
        }
        assert!(polls < 10_000, "seed {seed}: no end after {polls} polls");
    }
    assert_eq!(guards.dropped(), made.get(), "seed {seed}: guards dropped");
    assert_eq!(
        corona::__private::stacks_in_use(),
        stacks_before,
        "seed {seed}: stacks lost from the pool"
    );
    polls
}

fn base_seed() -> u64 {
    std::env::var("CORONA_SCOPE_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5_C09E)
}

#[test]
fn random_scope_trees_finish_with_every_value_panic_and_guard() {
    let base = base_seed();
    let polls: usize = (0..300).map(|i| run_tree(base + i, None)).sum();
    assert!(polls > 300, "the trees never waited ({polls} polls)");
}

#[test]
fn random_scope_trees_dropped_part_way_drop_every_guard_once() {
    let base = base_seed();
    for i in 0..300 {
        let seed = base + 1_000_000 + i;
        let polls = run_tree(seed, None);
        run_tree(seed, Some(Rng(seed).below(polls)));
    }
}
