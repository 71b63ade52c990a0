//! The mock reader and writer, each both a tokio and a futures-io type, answering every poll
//! from their seeded generator: a chunk of random size, `Pending` (woken at once from inside
//! the poll, or later by the driver), `Interrupted`, and at the planned point the end.

mod reader;
mod writer;

use std::cell::{Cell, RefMut};
use std::io::{self, ErrorKind};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

pub use reader::MockReader;
pub use writer::MockWriter;

use corona_tests::Rng;

use crate::plan::Plan;
use crate::stats::Stats;

/// What both mocks share: the generator of their answers, and the wake they owe the test.
pub struct Core {
    rng: Rng,
    /// The waker of a `Pending` that the test's driver is to wake.
    later: Option<Waker>,
    /// Polls of both mocks of the case.
    pub polls: Rc<Cell<usize>>,
    /// When a mock of the case first answered `Pending` in the current step.
    first_wait: Rc<Cell<Option<tokio::time::Instant>>>,
    stats: Stats,
}

impl Core {
    fn new(seed: u64, plan: &Plan) -> Self {
        Core {
            rng: Rng(seed),
            later: None,
            polls: plan.mock_polls.clone(),
            first_wait: plan.first_wait.clone(),
            stats: Stats::default(),
        }
    }

    fn waits<T>(&self) -> Option<Poll<T>> {
        if self.first_wait.get().is_none() {
            self.first_wait.set(Some(tokio::time::Instant::now()));
        }
        Some(Poll::Pending)
    }

    /// Sometimes, before answering: `Pending` (woken at once, or owed) or `Interrupted`.
    fn stall<T>(&mut self, cx: &mut Context<'_>) -> Option<Poll<io::Result<T>>> {
        self.polls.set(self.polls.get() + 1);
        match self.rng.below(10) {
            0 => {
                self.stats.woken_at_once += 1;
                cx.waker().wake_by_ref();
                self.waits()
            }
            1 | 2 => {
                self.stats.woken_later += 1;
                self.later = Some(cx.waker().clone());
                self.waits()
            }
            3 => {
                self.stats.interrupted += 1;
                Some(Poll::Ready(Err(ErrorKind::Interrupted.into())))
            }
            _ => None,
        }
    }
}

/// What the driver asks of either mock. Each borrow ends inside the method, so that the
/// wake taken can be paid with no mock borrowed.
pub trait Mock {
    fn core(&self) -> RefMut<'_, Core>;

    /// Whether it answered `Pending` and owes the test the wake.
    fn owes_wake(&self) -> bool {
        self.core().later.is_some()
    }

    /// Takes the wake it owes (the caller wakes it, once the mock is no longer borrowed).
    fn take_owed_wake(&self) -> Option<Waker> {
        self.core().later.take()
    }

    /// What it counted of its answers.
    fn stats(&self) -> Stats {
        self.core().stats
    }
}
