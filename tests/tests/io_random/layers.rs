//! The io coroutine's reader and writer: a mock behind `Blocking` or `BlockingFutures`, bare or
//! under the buffer the plan chose, and `Counted` on top of the reader.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, BufWriter, IoSliceMut, Read, Write};
use std::rc::Rc;

use corona::io::{Blocking, BlockingFutures};

use crate::mocks::{MockReader, MockWriter};
use crate::plan::{Flavour, Layer, Plan};

/// The io coroutine's reader, behind whichever layers the plan chose.
pub enum Reader {
    Plain(Box<dyn Read>),
    Buffered(Box<dyn BufRead>),
}

pub fn reader(plan: &Plan, mock: MockReader, calls: &Rc<Cell<usize>>) -> Reader {
    let capacity = plan.read_capacity;
    match (plan.flavour, plan.read_layer) {
        (Flavour::Tokio, Layer::Bare) => Reader::Plain(Box::new(Counted::new(
            plan.seed,
            calls,
            blocking(plan, mock),
        ))),
        (Flavour::Futures, Layer::Bare) => Reader::Plain(Box::new(Counted::new(
            plan.seed,
            calls,
            blocking_futures(plan, mock),
        ))),
        (Flavour::Tokio, Layer::StdOutside) => Reader::Buffered(Box::new(Counted::new(
            plan.seed,
            calls,
            BufReader::with_capacity(capacity, blocking(plan, mock)),
        ))),
        (Flavour::Futures, Layer::StdOutside) => Reader::Buffered(Box::new(Counted::new(
            plan.seed,
            calls,
            BufReader::with_capacity(capacity, blocking_futures(plan, mock)),
        ))),
        (Flavour::Tokio, Layer::AsyncInside) => Reader::Buffered(Box::new(Counted::new(
            plan.seed,
            calls,
            blocking(plan, tokio::io::BufReader::with_capacity(capacity, mock)),
        ))),
        (Flavour::Futures, Layer::AsyncInside) => Reader::Buffered(Box::new(Counted::new(
            plan.seed,
            calls,
            blocking_futures(plan, futures::io::BufReader::with_capacity(capacity, mock)),
        ))),
    }
}

pub fn writer(plan: &Plan, mock: MockWriter) -> Box<dyn Write> {
    let capacity = plan.write_capacity;
    match (plan.flavour, plan.write_layer) {
        (Flavour::Tokio, Layer::Bare) => Box::new(blocking(plan, mock)),
        (Flavour::Futures, Layer::Bare) => Box::new(blocking_futures(plan, mock)),
        (Flavour::Tokio, Layer::StdOutside) => {
            Box::new(BufWriter::with_capacity(capacity, blocking(plan, mock)))
        }
        (Flavour::Futures, Layer::StdOutside) => Box::new(BufWriter::with_capacity(
            capacity,
            blocking_futures(plan, mock),
        )),
        (Flavour::Tokio, Layer::AsyncInside) => Box::new(blocking(
            plan,
            tokio::io::BufWriter::with_capacity(capacity, mock),
        )),
        (Flavour::Futures, Layer::AsyncInside) => Box::new(blocking_futures(
            plan,
            futures::io::BufWriter::with_capacity(capacity, mock),
        )),
    }
}

/// A `Blocking` with the plan's interrupt, if any.
fn blocking<T>(plan: &Plan, inner: T) -> Blocking<T> {
    let mut blocking = Blocking::new(inner);
    blocking.set_interrupt(plan.interrupt.clone());
    blocking.set_read_timeout(plan.timeout).unwrap();
    blocking.set_write_timeout(plan.timeout).unwrap();
    blocking
}

fn blocking_futures<T>(plan: &Plan, inner: T) -> BlockingFutures<T> {
    let mut blocking = BlockingFutures::new(inner);
    blocking.set_interrupt(plan.interrupt.clone());
    blocking
}

/// How many `read` and `fill_buf` calls one step of the plan may make: far more than any
/// needs, few enough that a loop making no progress (a lost `consume`, say) fails quickly.
pub const CALLS_PER_STEP: usize = 100_000;

/// Passes reads through, counting them against a budget, so that std's loops (`read_line`,
/// `read_to_end`, `copy`, ...) over a reader that makes no progress fail instead of spinning.
/// Only the required methods are forwarded (and `read_vectored`), so that those loops call
/// them through here.
struct Counted<R> {
    inner: R,
    seed: u64,
    calls_left: Rc<Cell<usize>>,
}

impl<R> Counted<R> {
    fn new(seed: u64, calls_left: &Rc<Cell<usize>>, inner: R) -> Self {
        Counted {
            inner,
            seed,
            calls_left: calls_left.clone(),
        }
    }

    fn spend(&self) {
        let left = self.calls_left.get();
        assert!(
            left > 0,
            "seed {}: {CALLS_PER_STEP} reads in one step: a loop that makes no progress",
            self.seed
        );
        self.calls_left.set(left - 1);
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.spend();
        self.inner.read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.spend();
        self.inner.read_vectored(bufs)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.spend();
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
    }
}
