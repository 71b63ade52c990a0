//! The two coroutines of a case: the io coroutine, which runs the plan's calls (and perhaps
//! panics part way), and the ticker, which passes a gate the driver opens; and how they run side
//! by side (the plan's `Shape`).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Once;
use std::task::{Poll, Waker};

use corona::{co_await, Coroutine};
use corona_tests::{DropCounter, Guard};

use crate::layers::CALLS_PER_STEP;
use crate::mocks::{MockReader, MockWriter};
use crate::ops::{run_op, Op};
use crate::plan::{Plan, Shape};
use crate::sides::{ReadSide, WriteSide};

/// Guards that count how many were made.
#[derive(Clone, Default)]
pub struct Guards {
    pub dropped: DropCounter,
    pub made: Rc<Cell<usize>>,
}

impl Guards {
    fn guard(&self) -> Guard {
        self.made.set(self.made.get() + 1);
        self.dropped.guard()
    }
}

/// A case as the driver polls it; its output is how many calls the io coroutine ran.
pub type Case = Pin<Box<dyn Future<Output = usize>>>;

/// The io coroutine and the ticker, side by side as the plan's shape says.
pub fn spawn_case(
    plan: &Rc<Plan>,
    reader: &MockReader,
    writer: &MockWriter,
    gate: &Rc<RefCell<Gate>>,
    guards: &Guards,
) -> Case {
    let (plan, reader, writer, gate, guards) = (
        plan.clone(),
        reader.clone(),
        writer.clone(),
        gate.clone(),
        guards.clone(),
    );
    match plan.shape {
        Shape::Join => {
            let ticks = plan.ticks;
            let ticker_guards = guards.clone();
            let io = Coroutine::new(move || io_body(&plan, reader, writer, &guards));
            let ticks = Coroutine::new(move || ticker(&gate, ticks, &ticker_guards));
            Box::pin(async move { futures::future::join(io, ticks).await.0 })
        }
        Shape::ScopeIoInBody => Box::pin(Coroutine::new(move || {
            corona::scope(|s| {
                let ticks = s.spawn(|| ticker(&gate, plan.ticks, &guards));
                let ran = io_body(&plan, reader, writer, &guards);
                ticks.join();
                ran
            })
        })),
        Shape::ScopeIoInChild => Box::pin(Coroutine::new(move || {
            corona::scope(|s| {
                let io = s.spawn(|| io_body(&plan, reader, writer, &guards));
                ticker(&gate, plan.ticks, &guards);
                io.join()
            })
        })),
    }
}

/// The io coroutine: runs the plan's calls and checks each. Returns how many it ran.
fn io_body(
    plan: &Plan,
    reader_mock: MockReader,
    writer_mock: MockWriter,
    guards: &Guards,
) -> usize {
    let _guard = guards.guard();
    let calls = Rc::new(Cell::new(0));
    let mut read = ReadSide::new(plan, reader_mock, &calls);
    let mut write = WriteSide::new(plan, writer_mock);
    for (i, op) in plan.ops.iter().enumerate() {
        let _guard = guards.guard();
        calls.set(CALLS_PER_STEP);
        let ctx = format!(
            "seed {}, call {i} {} ({:?}, reader {:?}, writer {:?})",
            plan.seed,
            op.describe(),
            plan.flavour,
            plan.read_layer,
            plan.write_layer
        );
        begin_call(plan, op);
        run_op(op, &ctx, &mut read, &mut write, plan);
        plan.in_call.set(false);
        if plan.panic_after == Some(i) {
            panic!("{}", planned_panic(plan.seed));
        }
    }
    plan.ops.len()
}

/// Tells the driver and the mocks that a call begins: the io coroutine now waits only inside
/// it, and its timeout counts from here (or, for a single `Blocking` call, its first wait).
fn begin_call(plan: &Plan, op: &Op) {
    plan.in_call.set(true);
    plan.call_started.set(Some(tokio::time::Instant::now()));
    plan.first_wait.set(None);
    plan.one_call.set(op.is_one_call(plan));
}

const PLANNED_PANIC: &str = "the planned panic of the io coroutine";

pub fn planned_panic(seed: u64) -> String {
    format!("seed {seed}: {PLANNED_PANIC}")
}

/// Keeps the planned panics out of the output (other panics are printed as usual).
pub fn quiet_planned_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info
                .payload_as_str()
                .is_some_and(|m| m.ends_with(PLANNED_PANIC))
            {
                print(info);
            }
        }));
    });
}

/// A gate the test opens, and how often the ticker passed it.
#[derive(Default)]
pub struct Gate {
    open: bool,
    waker: Option<Waker>,
    pub ticks: usize,
}

impl Gate {
    pub fn waited_on(&self) -> bool {
        !self.open && self.waker.is_some()
    }
}

pub fn open(gate: &RefCell<Gate>) {
    let waker = {
        let mut gate = gate.borrow_mut();
        gate.open = true;
        gate.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The second coroutine: passes its gate `ticks` times.
fn ticker(gate: &RefCell<Gate>, ticks: usize, guards: &Guards) {
    let _guard = guards.guard();
    for _ in 0..ticks {
        co_await!(std::future::poll_fn(|cx| {
            let mut gate = gate.borrow_mut();
            if gate.open {
                gate.open = false;
                Poll::Ready(())
            } else {
                gate.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }));
        gate.borrow_mut().ticks += 1;
    }
}
