//! The test as the executor of a case: it polls only after a wake, and while the case waits it
//! pays, one at a time and in a random order, the wakes that are owed (a mock's `Pending`, the
//! ticker's gate) or that it may cause (raising the interrupt, moving the paused clock past a
//! timeout), so that a lost wake shows up as a stall. It checks each poll, the planned panic,
//! the drop of a case part way, and that nothing was lost at the end.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corona::io::Interrupt;
use corona_tests::{panic_message, Rng, WakeCounter};
use tokio::runtime::Runtime;

use crate::coroutines::{open, planned_panic, spawn_case, Case, Gate, Guards};
use crate::mocks::{Mock, MockReader, MockWriter};
use crate::plan::{Plan, TIMEOUT};
use crate::stats::Stats;

/// Runs one case; drops it after `cancel_after` polls if given.
pub fn run_case(runtime: &Runtime, seed: u64, cancel_after: Option<usize>) -> Stats {
    // The timers of the timeouts are this runtime's, its clock paused: it moves only when the
    // driver advances it.
    let _runtime = runtime.enter();
    let mut driver = Driver::new(runtime, seed);
    let stacks_before = corona::__private::stacks_in_use();
    // Kept until the end also once finished: a finished case must hold no stack.
    let mut case = spawn_case(
        &driver.plan,
        &driver.reader,
        &driver.writer,
        &driver.gate,
        &driver.guards,
    );
    let waker = Waker::from(driver.wakes.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if cancel_after == Some(driver.stats.polls) {
            driver.cancel(case);
            break;
        }
        let ready = match driver.poll(&mut case, &mut cx) {
            Ok(ready) => ready,
            Err(payload) => {
                driver.check_planned_panic(&*payload);
                drop(case); // cancels the ticker, if still there
                break;
            }
        };
        if let Poll::Ready(ran) = ready {
            driver.check_finished(ran);
            break;
        }
        driver.wait_for_wake();
        assert!(
            driver.stats.polls < 100_000,
            "seed {seed}: no end after {} polls",
            driver.stats.polls
        );
    }
    driver.check_nothing_lost(stacks_before);
    driver.into_stats()
}

/// A wake the driver can pay a waiting case.
#[derive(Clone, Copy)]
enum Debt {
    /// A mock answered `Pending` and owes the wake.
    Reader,
    Writer,
    /// The ticker waits on its closed gate.
    Gate,
    /// The io coroutine waits in a call with an interrupt attached: raise it.
    Interrupt,
    /// The io coroutine waits in a call with a timeout: move the clock.
    Timeout,
}

struct Driver<'r> {
    runtime: &'r Runtime,
    seed: u64,
    /// The generator that drew the plan, going on to choose which debt to pay.
    rng: Rng,
    plan: Rc<Plan>,
    reader: MockReader,
    writer: MockWriter,
    gate: Rc<RefCell<Gate>>,
    guards: Guards,
    wakes: Arc<WakeCounter>,
    stats: Stats,
    /// The ticker's count after the next poll: the driver opened its gate.
    tick_due: Option<usize>,
}

impl<'r> Driver<'r> {
    fn new(runtime: &'r Runtime, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let plan = Rc::new(Plan::random(seed, &mut rng));
        Driver {
            runtime,
            seed,
            rng,
            reader: MockReader::new(&plan),
            writer: MockWriter::new(&plan),
            plan,
            gate: Rc::default(),
            guards: Guards::default(),
            wakes: Arc::default(),
            stats: Stats::default(),
            tick_due: None,
        }
    }

    fn io_waits(&self) -> bool {
        self.plan.in_call.get()
    }

    fn woken(&self) -> bool {
        self.wakes.woken()
    }

    /// Polls the case once, catching a panic; a gate opened before must have been passed.
    fn poll(
        &mut self,
        case: &mut Case,
        cx: &mut Context<'_>,
    ) -> Result<Poll<usize>, Box<dyn Any + Send>> {
        self.wakes.take();
        self.stats.polls += 1;
        let ready = catch_unwind(AssertUnwindSafe(|| case.as_mut().poll(cx)))?;
        if let Some(due) = self.tick_due.take() {
            assert_eq!(
                self.gate.borrow().ticks,
                due,
                "seed {}: the ticker did not pass its open gate in the next poll",
                self.seed
            );
        }
        Ok(ready)
    }

    /// The io coroutine panicked as planned, and its writer's flush while it unwound failed at
    /// once.
    fn check_planned_panic(&mut self, payload: &(dyn Any + Send)) {
        let seed = self.seed;
        assert_eq!(
            panic_message(payload),
            planned_panic(seed),
            "seed {seed}: a panic"
        );
        assert_eq!(
            self.plan.unwound.get(),
            Some(true),
            "seed {seed}: a flush while the io coroutine unwound from its panic did not fail at \
             once with Unwinding"
        );
        self.stats.panics += 1;
    }

    fn check_finished(&self, ran: usize) {
        let seed = self.seed;
        assert_eq!(ran, self.plan.ops.len(), "seed {seed}");
        assert_eq!(
            self.gate.borrow().ticks,
            self.plan.ticks,
            "seed {seed}: ticks"
        );
    }

    /// Drops the case part way: if the io coroutine was inside a call, its writer's flush while
    /// it unwound failed at once; the drop polled no mock; and the wakes still owed, into
    /// coroutines that are gone, are harmless.
    fn cancel(&mut self, case: Case) {
        let seed = self.seed;
        if self.io_waits() {
            self.stats.cancelled_while_io_waited += 1;
        }
        let polled = self.plan.mock_polls.get();
        drop(case);
        if self.plan.in_call.get() {
            assert_eq!(
                self.plan.unwound.get(),
                Some(true),
                "seed {seed}: a flush while the io coroutine unwound did not fail at once \
                 with Unwinding"
            );
        }
        assert_eq!(
            self.plan.mock_polls.get(),
            polled,
            "seed {seed}: the drop polled a mock"
        );
        // The wakes still owed, into coroutines that are gone.
        let owed = [self.reader.take_owed_wake(), self.writer.take_owed_wake()];
        owed.into_iter().flatten().for_each(Waker::wake);
        open(&self.gate);
        if let Some(interrupt) = &self.plan.interrupt {
            interrupt.interrupt();
        }
        self.runtime.block_on(tokio::time::advance(2 * TIMEOUT)); // timers are gone too
    }

    /// Poll again only once woken: pays a debt, picked at random, until a wake comes.
    fn wait_for_wake(&mut self) {
        while !self.woken() {
            let raised = self
                .plan
                .interrupt
                .as_ref()
                .is_some_and(Interrupt::is_raised);
            assert!(
                !(raised && self.io_waits()),
                "seed {}: the io coroutine waits while its interrupt is raised",
                self.seed
            );
            let debts = self.debts();
            assert!(
                !debts.is_empty(),
                "seed {}: pending after {} polls, nothing woke it and no mock or gate owes \
                 a wake: a lost wake",
                self.seed,
                self.stats.polls
            );
            match self.rng.pick(&debts) {
                Debt::Reader => self
                    .reader
                    .take_owed_wake()
                    .into_iter()
                    .for_each(Waker::wake),
                Debt::Writer => self
                    .writer
                    .take_owed_wake()
                    .into_iter()
                    .for_each(Waker::wake),
                Debt::Gate => self.open_gate(),
                Debt::Interrupt => self.raise_interrupt(),
                Debt::Timeout => self.advance_clock(),
            }
        }
    }

    /// What can wake the case, in a fixed order, since the generator picks one by its index.
    fn debts(&self) -> Vec<Debt> {
        let mut debts = Vec::new();
        if self.reader.owes_wake() {
            debts.push(Debt::Reader);
        }
        if self.writer.owes_wake() {
            debts.push(Debt::Writer);
        }
        if self.gate.borrow().waited_on() {
            debts.push(Debt::Gate);
        }
        if self.plan.interrupt.is_some() && self.io_waits() {
            debts.push(Debt::Interrupt);
        }
        if self.plan.timeout.is_some() && self.io_waits() {
            debts.push(Debt::Timeout);
        }
        debts
    }

    /// Opens the ticker's gate: it must pass it in the next poll.
    fn open_gate(&mut self) {
        if self.io_waits() {
            self.stats.ticks_while_io_waited += 1;
        }
        self.tick_due = Some(self.gate.borrow().ticks + 1);
        open(&self.gate);
    }

    /// Raises the interrupt: it must wake the io coroutine waiting on a mock.
    fn raise_interrupt(&mut self) {
        self.stats.interrupts_raised += 1;
        self.plan.polls_at_raise.set(self.plan.mock_polls.get());
        self.plan.interrupt.as_ref().unwrap().interrupt();
        assert!(
            self.woken(),
            "seed {}: raising the interrupt did not wake the io coroutine waiting on a mock",
            self.seed
        );
    }

    /// Moves the clock half the timeout, or past it: the call's clock started no later than
    /// the mock's `Pending` it waits on, so past it its timer must fire.
    fn advance_clock(&mut self) {
        let plan = &self.plan;
        let past = self.rng.below(2) == 0;
        let step = if past {
            TIMEOUT + Duration::from_millis(1)
        } else {
            TIMEOUT / 2
        };
        plan.polls_at_advance.set(plan.mock_polls.get());
        self.runtime.block_on(tokio::time::advance(step));
        // A step that is one call: its clock started at its first wait, and holds across
        // `Interrupted`.
        let first_wait = plan.first_wait.get().filter(|_| plan.one_call.get());
        if past || first_wait.is_some_and(|at| at.elapsed() >= TIMEOUT) {
            assert!(
                self.woken(),
                "seed {}: the timeout passed and did not wake the io coroutine",
                self.seed
            );
        }
    }

    /// Every guard made was dropped once, and every stack went back to the pool.
    fn check_nothing_lost(&self, stacks_before: usize) {
        let seed = self.seed;
        assert_eq!(
            self.guards.dropped.dropped(),
            self.guards.made.get(),
            "seed {seed}: guards made and dropped"
        );
        assert_eq!(
            corona::__private::stacks_in_use(),
            stacks_before,
            "seed {seed}: stacks lost from the pool"
        );
    }

    /// The driver's counts, and the mocks'.
    fn into_stats(mut self) -> Stats {
        for mock in [self.reader.stats(), self.writer.stats()] {
            self.stats.add(mock.of_mock());
        }
        self.stats.timeouts = self.plan.timeouts.get();
        self.stats
    }
}
