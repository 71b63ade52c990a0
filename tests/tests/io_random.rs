//! Randomised `corona::io`: a mock reader and a mock writer (each both a tokio and a
//! futures-io type) answer every poll from a seeded plan: a chunk of random size, `Pending`
//! (woken at once from inside the poll, or later by the test), `Interrupted`, and at a planned
//! point the end of the stream or a planned error. A coroutine runs random `std::io` calls
//! over them through `Blocking` or `BlockingFutures`, bare or under std's, tokio's or futures'
//! buffers: `read`, `read_vectored`, `read_exact`, `read_to_end`, `read_line`, `lines`,
//! `fill_buf` + `consume`, `std::io::copy`, `write`, `write_all`, `write_vectored`, `flush`.
//! Every byte is checked (content and order), a short read is fine but the end or an error
//! comes exactly at the planned point, errors keep their kind and message, and `Interrupted`
//! never reaches the caller.
//!
//! The test is the executor: it polls only after a wake, so a lost wake shows up as a stall.
//! A second coroutine (joined beside the first, or its sibling in a `corona::scope`) waits on
//! a gate the test opens, and must advance as soon as it is opened, also while the first
//! waits on a mock. While the io coroutine waits, the test may also raise an attached
//! `Interrupt` (the call must poll, then return `WouldBlock`) or, for some tokio cases, move a
//! paused clock past their read and write timeouts (the timer must wake it; `TimedOut` only
//! after the timeout, having polled first). Some io coroutines panic part way, and some cases
//! are dropped part way (the io coroutine waiting inside a read or write): a flush while it
//! unwinds fails at once with `Unwinding`, every guard is dropped once, no stack is lost, the
//! drop polls no mock, and the wakes the mocks and timers still owe are harmless.
//!
//! Deterministic: a seeded generator plans each case, and all polling happens on this thread.
//! `CORONA_IO_SEED=<n>` runs other seeds, `CORONA_IO_CASES=<n>` another number of cases.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{self, BufRead, BufReader, BufWriter, ErrorKind, IoSlice, IoSliceMut, Read, Write};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::task::{ready, Context, Poll, Wake, Waker};
use std::time::Duration;

use corona::io::{Blocking, BlockingFutures, Interrupt};
use corona::{co_await, Coroutine};
use corona_tests::{panic_message, DropCounter, Guard};
use tokio::runtime::Runtime;

/// SplitMix64: a tiny, well-mixed, seedable generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `1..=n`.
    fn size(&mut self, n: usize) -> usize {
        1 + self.below(n)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The read and write timeout of the cases that have one.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The planned failures. Readers and writers fail with different kinds, so that an error out
/// of `std::io::copy` says whose it is.
const READ_FAILURES: [ErrorKind; 3] = [
    ErrorKind::ConnectionReset,
    ErrorKind::InvalidData,
    ErrorKind::PermissionDenied,
];
const WRITE_FAILURES: [ErrorKind; 3] = [
    ErrorKind::BrokenPipe,
    ErrorKind::ConnectionAborted,
    ErrorKind::NotConnected,
];
const READ_FAILURE: &str = "mock reader: planned failure";
const WRITE_FAILURE: &str = "mock writer: planned failure";

/// What both mocks share: the generator of their answers, and the wake they owe the test.
struct Core {
    rng: Rng,
    /// The waker of a `Pending` that the test's driver is to wake.
    later: Option<Waker>,
    /// Polls of both mocks of the case.
    polls: Rc<Cell<usize>>,
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

/// How the reader's stream ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadEnd {
    Eof,
    Fail(ErrorKind),
}

struct ReadState {
    core: Core,
    data: Rc<[u8]>,
    /// How much of `data` it has handed out.
    pos: usize,
    end: ReadEnd,
    max_chunk: usize,
}

impl ReadState {
    /// The range of `data` to hand out now, at most `room` bytes.
    fn poll_chunk(&mut self, cx: &mut Context<'_>, room: usize) -> Poll<io::Result<Range<usize>>> {
        if let Some(stall) = self.core.stall(cx) {
            return stall;
        }
        let left = self.data.len() - self.pos;
        if left == 0 {
            return Poll::Ready(match self.end {
                ReadEnd::Eof => Ok(self.pos..self.pos),
                ReadEnd::Fail(kind) => Err(io::Error::new(kind, READ_FAILURE)),
            });
        }
        // corona answers an empty buffer itself; an empty read here would look like the end.
        assert!(room > 0, "the mock reader was polled with no room");
        let n = self.core.rng.size(room.min(left).min(self.max_chunk));
        self.pos += n;
        Poll::Ready(Ok(self.pos - n..self.pos))
    }
}

#[derive(Clone)]
struct MockReader(Rc<RefCell<ReadState>>);

impl tokio::io::AsyncRead for MockReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut state = self.0.borrow_mut();
        let range = ready!(state.poll_chunk(cx, buf.remaining()))?;
        buf.put_slice(&state.data[range]);
        Poll::Ready(Ok(()))
    }
}

impl futures::io::AsyncRead for MockReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.0.borrow_mut();
        let range = ready!(state.poll_chunk(cx, buf.len()))?;
        buf[..range.len()].copy_from_slice(&state.data[range.clone()]);
        Poll::Ready(Ok(range.len()))
    }
}

/// How the writer ends once it has accepted its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteEnd {
    /// Accepts nothing more (`Ok(0)`).
    Zero,
    Fail(ErrorKind),
}

struct WriteState {
    core: Core,
    accepted: Vec<u8>,
    limit: usize,
    end: WriteEnd,
    max_chunk: usize,
    /// Takes bytes from several buffers of a vectored write, else from the first non-empty.
    vectored: bool,
    flushes: usize,
}

impl WriteState {
    fn at_limit(&self) -> bool {
        self.accepted.len() >= self.limit
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>, bufs: &[&[u8]]) -> Poll<io::Result<usize>> {
        if let Some(stall) = self.core.stall(cx) {
            return stall;
        }
        if self.at_limit() {
            return Poll::Ready(match self.end {
                WriteEnd::Zero => Ok(0),
                WriteEnd::Fail(kind) => Err(io::Error::new(kind, WRITE_FAILURE)),
            });
        }
        let first = bufs.iter().position(|buf| !buf.is_empty());
        let bufs = match first {
            Some(first) if !self.vectored => &bufs[first..=first],
            _ => bufs,
        };
        let total: usize = bufs.iter().map(|buf| buf.len()).sum();
        // corona answers empty writes itself.
        assert!(
            total > 0,
            "the mock writer was polled with nothing to write"
        );
        let took = self.core.rng.size(
            total
                .min(self.max_chunk)
                .min(self.limit - self.accepted.len()),
        );
        let mut left = took;
        for buf in bufs {
            let n = left.min(buf.len());
            self.accepted.extend_from_slice(&buf[..n]);
            left -= n;
        }
        Poll::Ready(Ok(took))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(stall) = self.core.stall(cx) {
            return stall;
        }
        if let (true, WriteEnd::Fail(kind)) = (self.at_limit(), self.end) {
            return Poll::Ready(Err(io::Error::new(kind, WRITE_FAILURE)));
        }
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }
}

#[derive(Clone)]
struct MockWriter(Rc<RefCell<WriteState>>);

impl tokio::io::AsyncWrite for MockWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.borrow_mut().poll_accept(cx, &[buf])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs: Vec<&[u8]> = bufs.iter().map(|buf| &**buf).collect();
        self.0.borrow_mut().poll_accept(cx, &bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.borrow().vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.borrow_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.borrow_mut().poll_flush(cx)
    }
}

impl futures::io::AsyncWrite for MockWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.borrow_mut().poll_accept(cx, &[buf])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs: Vec<&[u8]> = bufs.iter().map(|buf| &**buf).collect();
        self.0.borrow_mut().poll_accept(cx, &bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.borrow_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.borrow_mut().poll_flush(cx)
    }
}

/// One `std::io` call of the io coroutine.
enum Op {
    Read(usize),
    ReadVectored(usize, usize),
    ReadExact(usize),
    ReadToEnd,
    ReadLine,
    Lines(usize),
    FillConsume(usize),
    /// `std::io::copy` from the reader to the writer.
    Copy,
    Write(Vec<u8>),
    WriteAll(Vec<u8>),
    WriteVectored(Vec<Vec<u8>>),
    Flush,
}

impl Op {
    fn describe(&self) -> String {
        match self {
            Op::Read(n) => format!("read({n})"),
            Op::ReadVectored(a, b) => format!("read_vectored({a}, {b})"),
            Op::ReadExact(n) => format!("read_exact({n})"),
            Op::ReadToEnd => "read_to_end".into(),
            Op::ReadLine => "read_line".into(),
            Op::Lines(n) => format!("lines().take({n})"),
            Op::FillConsume(n) => format!("fill_buf + consume({n})"),
            Op::Copy => "std::io::copy".into(),
            Op::Write(bytes) => format!("write({} bytes)", bytes.len()),
            Op::WriteAll(bytes) => format!("write_all({} bytes)", bytes.len()),
            Op::WriteVectored(parts) => {
                let lens: Vec<usize> = parts.iter().map(Vec::len).collect();
                format!("write_vectored({lens:?})")
            }
            Op::Flush => "flush".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavour {
    Tokio,
    Futures,
}

/// Where the buffer goes, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    Bare,
    /// std's `BufReader` / `BufWriter` around the `Blocking`.
    StdOutside,
    /// tokio's or futures' `BufReader` / `BufWriter` inside the `Blocking`.
    AsyncInside,
}

/// How the io coroutine and the ticker run side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Two coroutines under `futures::future::join`.
    Join,
    /// A coroutine running a `corona::scope`: io in the body, the ticker a child.
    ScopeIoInBody,
    /// The same, io in a child, the ticker in the body.
    ScopeIoInChild,
}

struct Plan {
    seed: u64,
    flavour: Flavour,
    shape: Shape,
    data: Rc<[u8]>,
    read_end: ReadEnd,
    read_layer: Layer,
    read_capacity: usize,
    read_chunk: usize,
    write_limit: usize,
    write_end: WriteEnd,
    write_layer: Layer,
    write_capacity: usize,
    write_chunk: usize,
    vectored: bool,
    ops: Vec<Op>,
    /// The io coroutine panics after this call, with its writer still there.
    panic_after: Option<usize>,
    ticks: usize,
    reader_seed: u64,
    writer_seed: u64,
    /// Attached to the reader and the writer; the test raises it while the io coroutine waits.
    interrupt: Option<Interrupt>,
    /// The io coroutine is inside a call: suspended there when the test is to wake it (it
    /// waits on nothing else).
    in_call: Cell<bool>,
    /// Polls of both mocks, and their number when the test last raised the interrupt.
    mock_polls: Rc<Cell<usize>>,
    polls_at_raise: Cell<usize>,
    /// Their number when the test last advanced the clock.
    polls_at_advance: Cell<usize>,
    /// The read and the write timeout (tokio only; the test's clock moves only when it
    /// advances it), when the step began, and how many calls timed out.
    timeout: Option<Duration>,
    call_started: Cell<Option<tokio::time::Instant>>,
    /// When a mock first waited in this step (see `Core`), and whether the step is one
    /// `Blocking` call: then its timer started there.
    first_wait: Rc<Cell<Option<tokio::time::Instant>>>,
    one_call: Cell<bool>,
    timeouts: Cell<usize>,
    /// What the writer saw when the io coroutine was dropped (see `WriteSide`'s `Drop`).
    unwound: Rc<Cell<Option<bool>>>,
}

/// Random bytes, fewer than `under`.
fn bytes(rng: &mut Rng, under: usize) -> Vec<u8> {
    let n = rng.below(under);
    (0..n).map(|_| rng.next() as u8).collect()
}

/// The most a mock hands out or takes per poll.
fn chunk(rng: &mut Rng) -> usize {
    let max = rng.pick(&[1, 8, 200]);
    rng.size(max)
}

fn plan(seed: u64, rng: &mut Rng) -> Plan {
    // Text with lines of some typical length, so that `read_line` and `lines` see whole
    // lines, short ones and a last one without a newline.
    let line = 2 + rng.below(40);
    let len = match rng.below(8) {
        0 => 0,
        1 => rng.below(4000),
        _ => rng.below(400),
    };
    let data: Rc<[u8]> = (0..len)
        .map(|_| {
            if rng.below(line) == 0 {
                b'\n'
            } else {
                b'a' + rng.below(26) as u8
            }
        })
        .collect();
    let layers = [Layer::Bare, Layer::StdOutside, Layer::AsyncInside];
    let read_layer = rng.pick(&layers);
    let mut ops: Vec<Op> = (0..rng.size(10))
        .map(|_| match rng.below(14) {
            0 | 1 => Op::Read(rng.below(80)),
            2 => Op::ReadVectored(rng.below(40), rng.below(40)),
            3 => Op::ReadExact(rng.below(120)),
            4 => Op::ReadToEnd,
            5 if read_layer != Layer::Bare => Op::ReadLine,
            6 if read_layer != Layer::Bare => Op::Lines(rng.size(6)),
            7 if read_layer != Layer::Bare => Op::FillConsume(rng.below(80)),
            5..=7 => Op::Read(rng.size(20)),
            8 => Op::Copy,
            9 => Op::Write(bytes(rng, 100)),
            10 | 11 => Op::WriteAll(bytes(rng, 300)),
            12 => Op::WriteVectored((0..rng.size(4)).map(|_| bytes(rng, 60)).collect()),
            _ => Op::Flush,
        })
        .collect();
    ops.push(Op::Flush); // what the writer was told it got must arrive
    let flavour = rng.pick(&[Flavour::Tokio, Flavour::Futures]);
    let panic_after = match rng.below(8) {
        0 => Some(rng.below(ops.len())),
        _ => None,
    };
    Plan {
        seed,
        flavour,
        shape: rng.pick(&[Shape::Join, Shape::ScopeIoInBody, Shape::ScopeIoInChild]),
        data,
        read_end: if rng.below(2) == 0 {
            ReadEnd::Eof
        } else {
            ReadEnd::Fail(rng.pick(&READ_FAILURES))
        },
        read_layer,
        read_capacity: rng.size(64),
        read_chunk: chunk(rng),
        write_limit: if rng.below(2) == 0 {
            usize::MAX
        } else {
            rng.below(600)
        },
        write_end: if rng.below(3) == 0 {
            WriteEnd::Zero
        } else {
            WriteEnd::Fail(rng.pick(&WRITE_FAILURES))
        },
        write_layer: rng.pick(&layers),
        write_capacity: rng.size(64),
        write_chunk: chunk(rng),
        vectored: rng.below(2) == 0,
        ops,
        panic_after,
        ticks: rng.below(6),
        reader_seed: rng.next(),
        writer_seed: rng.next(),
        interrupt: (rng.below(3) == 0).then(Interrupt::new),
        in_call: Cell::new(false),
        timeout: (flavour == Flavour::Tokio && rng.below(3) == 0).then_some(TIMEOUT),
        call_started: Cell::new(None),
        first_wait: Rc::default(),
        one_call: Cell::new(false),
        timeouts: Cell::new(0),
        mock_polls: Rc::default(),
        polls_at_raise: Cell::new(0),
        polls_at_advance: Cell::new(0),
        unwound: Rc::default(),
    }
}

/// The io coroutine's reader, behind whichever layers the plan chose.
enum Reader {
    Plain(Box<dyn Read>),
    Buffered(Box<dyn BufRead>),
}

fn reader(plan: &Plan, mock: MockReader, calls: &Rc<Cell<usize>>) -> Reader {
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

/// How many `read` and `fill_buf` calls one step of the plan may make: far more than any
/// needs, few enough that a loop making no progress (a lost `consume`, say) fails quickly.
const CALLS_PER_STEP: usize = 100_000;

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

fn writer(plan: &Plan, mock: MockWriter) -> Box<dyn Write> {
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

/// The reader as the caller sees it, and what it must see.
struct ReadSide {
    reader: Reader,
    data: Rc<[u8]>,
    end: ReadEnd,
    /// How many bytes the caller has received.
    pos: usize,
    /// `std::io::copy` failed on the writer side: how much it read is unknown.
    lost: bool,
}

impl ReadSide {
    fn read(&mut self) -> &mut dyn Read {
        match &mut self.reader {
            Reader::Plain(reader) => reader,
            Reader::Buffered(reader) => reader,
        }
    }

    fn buf_read(&mut self) -> &mut dyn BufRead {
        match &mut self.reader {
            Reader::Buffered(reader) => reader,
            Reader::Plain(_) => unreachable!("planned for buffered readers only"),
        }
    }

    /// The caller got `got`: the stream's next bytes.
    fn receive(&mut self, ctx: &str, got: &[u8]) {
        let want = self.data.get(self.pos..self.pos + got.len());
        assert!(
            want == Some(got),
            "{ctx}: {} bytes received at {} of {} are not the stream's",
            got.len(),
            self.pos,
            self.data.len()
        );
        self.pos += got.len();
    }

    fn at_eof(&self) -> bool {
        self.pos == self.data.len() && self.end == ReadEnd::Eof
    }

    /// A call that reads `n` bytes and found the stream's end must be at its real end.
    fn check_end(&self, ctx: &str, n: usize, asked: usize) {
        assert!(
            n > 0 || asked == 0 || self.at_eof(),
            "{ctx}: Ok(0), the end of the stream, at byte {} of {} (the plan ends in {:?})",
            self.pos,
            self.data.len(),
            self.end
        );
    }

    /// A call failed: only at the end, with the planned failure unchanged.
    fn expect_failure(&self, ctx: &str, err: &io::Error) {
        assert_ne!(
            err.kind(),
            ErrorKind::Interrupted,
            "{ctx}: Interrupted reached the caller"
        );
        assert_eq!(
            self.pos,
            self.data.len(),
            "{ctx}: failed before the end: {err}"
        );
        assert_eq!(
            self.end,
            ReadEnd::Fail(err.kind()),
            "{ctx}: a failure other than the planned one: {err}"
        );
        assert_eq!(err.to_string(), READ_FAILURE, "{ctx}: the error changed");
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

/// The writer as the caller sees it, and what the mock must have received.
struct WriteSide {
    writer: Box<dyn Write>,
    mock: MockWriter,
    buffered: bool,
    /// Every byte the caller was told was written, in order.
    sent: Vec<u8>,
    failed: bool,
    /// Set when dropped by an unwinding coroutine: whether a flush then failed at once with
    /// `Unwinding`.
    unwound: Rc<Cell<Option<bool>>>,
}

impl Drop for WriteSide {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let polls = self.mock.0.borrow().core.polls.get();
            let unwinding = self.writer.flush().is_err_and(|err| {
                err.get_ref()
                    .is_some_and(|cause| cause.is::<corona::io::Unwinding>())
            });
            let polled = self.mock.0.borrow().core.polls.get() != polls;
            self.unwound.set(Some(unwinding && !polled));
        }
    }
}

impl WriteSide {
    /// What the mock accepted is what was sent (a prefix of it while a buffer holds some).
    fn check(&self, ctx: &str) {
        let mock = self.mock.0.borrow();
        if self.buffered {
            assert!(
                self.sent.starts_with(&mock.accepted),
                "{ctx}: the writer got {} bytes that are not the {} sent",
                mock.accepted.len(),
                self.sent.len()
            );
        } else {
            assert!(
                mock.accepted == self.sent,
                "{ctx}: the writer got {} bytes, the caller was told {} were written",
                mock.accepted.len(),
                self.sent.len()
            );
        }
    }

    /// A call that loops (`write_all`, `copy`) returned the interrupt's `WouldBlock` part
    /// way through `in_flight`: a bare writer says how far it got; behind a buffer, that is
    /// unknown and this writer is not used again.
    fn resync(&mut self, ctx: &str, in_flight: &[u8]) {
        if self.buffered {
            self.failed = true;
            return;
        }
        let accepted = self.mock.0.borrow().accepted.clone();
        let mut could = self.sent.clone();
        could.extend_from_slice(in_flight);
        assert!(
            accepted.starts_with(&self.sent) && could.starts_with(&accepted),
            "{ctx}: WouldBlock, and the writer got bytes that were not sent"
        );
        self.sent = accepted;
    }

    fn sent(&mut self, ctx: &str, bytes: &[u8]) {
        self.sent.extend_from_slice(bytes);
        self.check(ctx);
    }

    /// `Ok(n)` of a write of `asked` bytes.
    fn check_written(&self, ctx: &str, n: usize, asked: usize) {
        assert!(n <= asked, "{ctx}: wrote {n} of {asked} bytes");
        let mock = self.mock.0.borrow();
        assert!(
            n > 0 || asked == 0 || (mock.at_limit() && mock.end == WriteEnd::Zero),
            "{ctx}: Ok(0) from a writer that takes more"
        );
    }

    /// A call failed: only at the writer's planned end, with its planned failure; the mock got
    /// nothing but what was sent before and part of `in_flight`.
    fn expect_failure(&mut self, ctx: &str, err: &io::Error, in_flight: &[u8]) {
        assert_ne!(
            err.kind(),
            ErrorKind::Interrupted,
            "{ctx}: Interrupted reached the caller"
        );
        let mock = self.mock.0.borrow();
        assert!(mock.at_limit(), "{ctx}: failed before the end: {err}");
        match mock.end {
            WriteEnd::Zero => assert_eq!(err.kind(), ErrorKind::WriteZero, "{ctx}: {err}"),
            WriteEnd::Fail(kind) => {
                assert_eq!(err.kind(), kind, "{ctx}: not the planned failure: {err}");
                assert_eq!(err.to_string(), WRITE_FAILURE, "{ctx}: the error changed");
            }
        }
        let mut could = self.sent.clone();
        could.extend_from_slice(in_flight);
        assert!(
            could.starts_with(&mock.accepted),
            "{ctx}: the writer got bytes that were not sent"
        );
        self.failed = true;
    }
}

/// Whether `err` says the call was cut short, having transferred nothing: the `WouldBlock`
/// of the raised interrupt (lowered here for the next call), or a timeout's `TimedOut`.
fn cut_short(ctx: &str, err: &io::Error, plan: &Plan) -> bool {
    if err.kind() == ErrorKind::TimedOut {
        let timeout = plan
            .timeout
            .unwrap_or_else(|| panic!("{ctx}: TimedOut, no timeout"));
        let started = plan.call_started.get().expect("set before each call");
        // Its clock started at its first wait, inside this step.
        assert!(
            started.elapsed() >= timeout,
            "{ctx}: TimedOut {:?} into the step",
            started.elapsed()
        );
        // A call polls first and looks at its timer only when it would wait.
        assert!(
            plan.mock_polls.get() > plan.polls_at_advance.get(),
            "{ctx}: TimedOut without polling the mock since the clock moved"
        );
        plan.timeouts.set(plan.timeouts.get() + 1);
        return true;
    }
    if err.kind() != ErrorKind::WouldBlock {
        return false;
    }
    let interrupt = plan.interrupt.as_ref();
    let interrupt = interrupt.unwrap_or_else(|| panic!("{ctx}: WouldBlock with no interrupt"));
    assert!(
        interrupt.clear(),
        "{ctx}: WouldBlock, the interrupt not raised"
    );
    // A call polls first and looks at the interrupt only when it would wait.
    assert!(
        plan.mock_polls.get() > plan.polls_at_raise.get(),
        "{ctx}: WouldBlock without polling the mock since the interrupt was raised"
    );
    true
}

/// Guards that count how many were made.
#[derive(Clone, Default)]
struct Guards {
    dropped: DropCounter,
    made: Rc<Cell<usize>>,
}

impl Guards {
    fn guard(&self) -> Guard {
        self.made.set(self.made.get() + 1);
        self.dropped.guard()
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
    let mut read = ReadSide {
        reader: reader(plan, reader_mock, &calls),
        data: plan.data.clone(),
        end: plan.read_end,
        pos: 0,
        lost: false,
    };
    let mut write = WriteSide {
        writer: writer(plan, writer_mock.clone()),
        mock: writer_mock,
        buffered: plan.write_layer != Layer::Bare,
        sent: Vec::new(),
        failed: false,
        unwound: plan.unwound.clone(),
    };
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
        plan.in_call.set(true);
        plan.call_started.set(Some(tokio::time::Instant::now()));
        plan.first_wait.set(None);
        plan.one_call.set(match op {
            Op::Read(_) | Op::ReadVectored(..) => plan.read_layer == Layer::Bare,
            Op::Write(_) | Op::WriteVectored(_) | Op::Flush => plan.write_layer == Layer::Bare,
            _ => false,
        });
        run_op(op, &ctx, &mut read, &mut write, plan);
        plan.in_call.set(false);
        if plan.panic_after == Some(i) {
            panic!("{}", planned_panic(plan.seed));
        }
    }
    plan.ops.len()
}

const PLANNED_PANIC: &str = "the planned panic of the io coroutine";

fn planned_panic(seed: u64) -> String {
    format!("seed {seed}: {PLANNED_PANIC}")
}

/// Keeps the planned panics out of the output (other panics are printed as usual).
fn quiet_planned_panics() {
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

fn run_op(op: &Op, ctx: &str, read: &mut ReadSide, write: &mut WriteSide, plan: &Plan) {
    // The interrupt's `WouldBlock` or a `TimedOut`: what moved is known for some calls.
    let would_block = |err: &io::Error| cut_short(ctx, err, plan);
    let reading = matches!(
        op,
        Op::Read(_)
            | Op::ReadVectored(..)
            | Op::ReadExact(_)
            | Op::ReadToEnd
            | Op::ReadLine
            | Op::Lines(_)
            | Op::FillConsume(_)
            | Op::Copy
    );
    let writing = !reading || matches!(op, Op::Copy);
    if (reading && read.lost) || (writing && write.failed) {
        return;
    }
    match op {
        Op::Read(len) => {
            let mut buf = vec![0; *len];
            match read.read().read(&mut buf) {
                Ok(n) => {
                    assert!(n <= *len, "{ctx}: read {n}");
                    read.check_end(ctx, n, *len);
                    read.receive(ctx, &buf[..n]);
                }
                Err(err) if would_block(&err) => {}
                Err(err) => read.expect_failure(ctx, &err),
            }
        }
        Op::ReadVectored(a, b) => {
            let (mut x, mut y) = (vec![0; *a], vec![0; *b]);
            let result = read
                .read()
                .read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)]);
            match result {
                Ok(n) => {
                    assert!(n <= a + b, "{ctx}: read {n}");
                    read.check_end(ctx, n, a + b);
                    x.extend_from_slice(&y);
                    read.receive(ctx, &x[..n]);
                }
                Err(err) if would_block(&err) => {}
                Err(err) => read.expect_failure(ctx, &err),
            }
        }
        Op::ReadExact(len) => {
            let mut buf = vec![0; *len];
            match read.read().read_exact(&mut buf) {
                Ok(()) => read.receive(ctx, &buf),
                Err(err) if would_block(&err) => read.lost = true, // what it read is unspecified
                Err(err) => {
                    let left = read.data.len() - read.pos;
                    assert!(*len > left, "{ctx}: failed with {left} bytes left: {err}");
                    read.pos = read.data.len(); // what it read is unspecified
                    if read.end == ReadEnd::Eof {
                        assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{ctx}: {err}");
                    } else {
                        read.expect_failure(ctx, &err);
                    }
                }
            }
        }
        Op::ReadToEnd => {
            let mut got = Vec::new();
            let result = read.read().read_to_end(&mut got);
            read.receive(ctx, &got); // kept on failure too
            match result {
                Ok(n) => {
                    assert_eq!(n, got.len(), "{ctx}");
                    assert!(read.at_eof(), "{ctx}: Ok before the end");
                }
                Err(err) if would_block(&err) => {}
                Err(err) => read.expect_failure(ctx, &err),
            }
        }
        Op::ReadLine => {
            let mut line = String::new();
            let result = read.buf_read().read_line(&mut line);
            read.receive(ctx, line.as_bytes()); // kept on failure too
            match result {
                Ok(n) => {
                    assert_eq!(n, line.len(), "{ctx}");
                    if !line.ends_with('\n') {
                        assert!(read.at_eof(), "{ctx}: a line cut short before the end");
                    }
                }
                Err(err) if would_block(&err) => {}
                Err(err) => {
                    assert!(!line.contains('\n'), "{ctx}: a whole line and {err}");
                    read.expect_failure(ctx, &err);
                }
            }
        }
        Op::Lines(n) => {
            for item in read.buf_read().lines().take(*n).collect::<Vec<_>>() {
                match item {
                    Ok(line) => {
                        read.receive(ctx, line.as_bytes());
                        if read.pos < read.data.len() {
                            read.receive(ctx, b"\n");
                        } else {
                            assert!(read.at_eof(), "{ctx}: a last line before the end");
                        }
                    }
                    Err(err) if would_block(&err) => {
                        read.lost = true; // with the line it was reading
                        break;
                    }
                    Err(err) => {
                        // The bytes of the line it was reading are dropped with it: they
                        // must be the rest of the stream, with no newline.
                        let rest = &read.data[read.pos..];
                        assert!(!rest.contains(&b'\n'), "{ctx}: a whole line lost to {err}");
                        read.pos = read.data.len();
                        read.expect_failure(ctx, &err);
                    }
                }
            }
        }
        Op::FillConsume(amount) => match read.buf_read().fill_buf() {
            Ok(buf) => {
                let buf = buf.to_vec();
                read.check_end(ctx, buf.len(), 1);
                let amount = (*amount).min(buf.len());
                read.buf_read().consume(amount);
                read.receive(ctx, &buf[..amount]);
                // What was not consumed comes again.
                let again = read.buf_read().fill_buf().map(<[u8]>::to_vec);
                if amount < buf.len() {
                    let again = again.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                    assert!(
                        again.starts_with(&buf[amount..]),
                        "{ctx}: the unconsumed bytes did not come again"
                    );
                } else if let Err(err) = again {
                    if !would_block(&err) {
                        read.expect_failure(ctx, &err);
                    }
                }
            }
            Err(err) if would_block(&err) => {}
            Err(err) => read.expect_failure(ctx, &err),
        },
        Op::Copy => {
            let rest = read.data[read.pos..].to_vec();
            let result = std::io::copy(read.read(), &mut write.writer);
            match result {
                Ok(n) => {
                    assert_eq!(n, rest.len() as u64, "{ctx}: copied");
                    read.pos = read.data.len();
                    assert!(read.at_eof(), "{ctx}: Ok before the end");
                    write.sent(ctx, &rest);
                }
                Err(err) if would_block(&err) => {
                    read.lost = true;
                    write.resync(ctx, &rest);
                }
                Err(err) if READ_FAILURES.contains(&err.kind()) => {
                    read.pos = read.data.len();
                    read.expect_failure(ctx, &err);
                    write.sent(ctx, &rest); // all it read, it wrote
                }
                Err(err) => {
                    write.expect_failure(ctx, &err, &rest);
                    read.lost = true;
                }
            }
        }
        Op::Write(bytes) => match write.writer.write(bytes) {
            Ok(n) => {
                write.check_written(ctx, n, bytes.len());
                write.sent(ctx, &bytes[..n]);
            }
            Err(err) if would_block(&err) => {}
            Err(err) => write.expect_failure(ctx, &err, bytes),
        },
        Op::WriteAll(bytes) => match write.writer.write_all(bytes) {
            Ok(()) => write.sent(ctx, bytes),
            Err(err) if would_block(&err) => write.resync(ctx, bytes),
            Err(err) => write.expect_failure(ctx, &err, bytes),
        },
        Op::WriteVectored(parts) => {
            let slices: Vec<IoSlice<'_>> = parts.iter().map(|part| IoSlice::new(part)).collect();
            let all = parts.concat();
            match write.writer.write_vectored(&slices) {
                Ok(n) => {
                    write.check_written(ctx, n, all.len());
                    write.sent(ctx, &all[..n]);
                }
                Err(err) if would_block(&err) => {}
                Err(err) => write.expect_failure(ctx, &err, &all),
            }
        }
        Op::Flush => {
            let flushes = write.mock.0.borrow().flushes;
            match write.writer.flush() {
                Ok(()) => {
                    let mock = write.mock.0.borrow();
                    assert!(
                        mock.flushes > flushes,
                        "{ctx}: the flush did not reach the mock"
                    );
                    assert!(
                        mock.accepted == write.sent,
                        "{ctx}: after a flush the writer has {} bytes, {} were sent",
                        mock.accepted.len(),
                        write.sent.len()
                    );
                }
                Err(err) if would_block(&err) => {}
                Err(err) => write.expect_failure(ctx, &err, &[]),
            }
        }
    }
}

/// A gate the test opens, and how often the ticker passed it.
#[derive(Default)]
struct Gate {
    open: bool,
    waker: Option<Waker>,
    ticks: usize,
}

impl Gate {
    fn waited_on(&self) -> bool {
        !self.open && self.waker.is_some()
    }
}

fn open(gate: &RefCell<Gate>) {
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

/// Counts wakes of the test's waker.
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Takes the wake a mock owes (the caller wakes it, once the mock is no longer borrowed).
fn wake_later(core: &mut Core) -> Option<Waker> {
    core.later.take()
}

#[derive(Clone, Copy, Default, Debug)]
struct Stats {
    polls: usize,
    woken_at_once: usize,
    woken_later: usize,
    interrupted: usize,
    /// Times the ticker advanced while the io coroutine waited on a mock.
    ticks_while_io_waited: usize,
    cancelled_while_io_waited: usize,
    interrupts_raised: usize,
    panics: usize,
    timeouts: usize,
}

impl Stats {
    fn add(&mut self, other: Stats) {
        self.polls += other.polls;
        self.woken_at_once += other.woken_at_once;
        self.woken_later += other.woken_later;
        self.interrupted += other.interrupted;
        self.ticks_while_io_waited += other.ticks_while_io_waited;
        self.cancelled_while_io_waited += other.cancelled_while_io_waited;
        self.interrupts_raised += other.interrupts_raised;
        self.panics += other.panics;
        self.timeouts += other.timeouts;
    }
}

/// Runs one case; drops it after `cancel_after` polls if given.
fn run_case(runtime: &Runtime, seed: u64, cancel_after: Option<usize>) -> Stats {
    // The timers of the timeouts are this runtime's, its clock paused: it moves only when the
    // driver advances it.
    let _runtime = runtime.enter();
    let mut rng = Rng(seed);
    let plan = Rc::new(plan(seed, &mut rng));
    let reader = MockReader(Rc::new(RefCell::new(ReadState {
        core: Core::new(plan.reader_seed, &plan),
        data: plan.data.clone(),
        pos: 0,
        end: plan.read_end,
        max_chunk: plan.read_chunk,
    })));
    let writer = MockWriter(Rc::new(RefCell::new(WriteState {
        core: Core::new(plan.writer_seed, &plan),
        accepted: Vec::new(),
        limit: plan.write_limit,
        end: plan.write_end,
        max_chunk: plan.write_chunk,
        vectored: plan.vectored,
        flushes: 0,
    })));
    let gate = Rc::new(RefCell::new(Gate::default()));
    let guards = Guards::default();
    let stacks_before = corona::__private::stacks_in_use();

    let mut case: Pin<Box<dyn Future<Output = usize>>> = {
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
    };

    let io_waits = || plan.in_call.get();
    let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut stats = Stats::default();
    let mut tick_due = None;
    loop {
        if cancel_after == Some(stats.polls) {
            if io_waits() {
                stats.cancelled_while_io_waited += 1;
            }
            let polled = plan.mock_polls.get();
            drop(case);
            if plan.in_call.get() {
                assert_eq!(
                    plan.unwound.get(),
                    Some(true),
                    "seed {seed}: a flush while the io coroutine unwound did not fail at once \
                     with Unwinding"
                );
            }
            assert_eq!(
                plan.mock_polls.get(),
                polled,
                "seed {seed}: the drop polled a mock"
            );
            // The wakes still owed, into coroutines that are gone.
            let owed = [
                wake_later(&mut reader.0.borrow_mut().core),
                wake_later(&mut writer.0.borrow_mut().core),
            ];
            owed.into_iter().flatten().for_each(Waker::wake);
            open(&gate);
            if let Some(interrupt) = &plan.interrupt {
                interrupt.interrupt();
            }
            runtime.block_on(tokio::time::advance(2 * TIMEOUT)); // timers are gone too
            break;
        }
        wakes.0.store(0, Ordering::Relaxed);
        stats.polls += 1;
        let ready = match catch_unwind(AssertUnwindSafe(|| case.as_mut().poll(&mut cx))) {
            Ok(ready) => ready,
            Err(payload) => {
                assert_eq!(
                    panic_message(&*payload),
                    planned_panic(seed),
                    "seed {seed}: a panic"
                );
                assert_eq!(
                    plan.unwound.get(),
                    Some(true),
                    "seed {seed}: a flush while the io coroutine unwound from its panic did not \
                     fail at once with Unwinding"
                );
                stats.panics += 1;
                drop(case); // cancels the ticker, if still there
                break;
            }
        };
        if let Some(due) = tick_due.take() {
            assert_eq!(
                gate.borrow().ticks,
                due,
                "seed {seed}: the ticker did not pass its open gate in the next poll"
            );
        }
        if let Poll::Ready(ran) = ready {
            assert_eq!(ran, plan.ops.len(), "seed {seed}");
            assert_eq!(gate.borrow().ticks, plan.ticks, "seed {seed}: ticks");
            break;
        }
        // Poll again only once woken: pay a wake owed until one comes.
        while wakes.0.load(Ordering::Relaxed) == 0 {
            let raised = plan.interrupt.as_ref().is_some_and(Interrupt::is_raised);
            assert!(
                !(raised && io_waits()),
                "seed {seed}: the io coroutine waits while its interrupt is raised"
            );
            let mut owed = Vec::new();
            if reader.0.borrow().core.later.is_some() {
                owed.push(0);
            }
            if writer.0.borrow().core.later.is_some() {
                owed.push(1);
            }
            if gate.borrow().waited_on() {
                owed.push(2);
            }
            if plan.interrupt.is_some() && io_waits() {
                owed.push(3);
            }
            if plan.timeout.is_some() && io_waits() {
                owed.push(4);
            }
            assert!(
                !owed.is_empty(),
                "seed {seed}: pending after {} polls, nothing woke it and no mock or gate owes \
                 a wake: a lost wake",
                stats.polls
            );
            let waker = match rng.pick(&owed) {
                0 => wake_later(&mut reader.0.borrow_mut().core),
                1 => wake_later(&mut writer.0.borrow_mut().core),
                4 => {
                    // Half the timeout, or past it: the call's clock started no later than
                    // the mock's `Pending` it waits on, so past it its timer must fire.
                    let past = rng.below(2) == 0;
                    let step = if past {
                        TIMEOUT + Duration::from_millis(1)
                    } else {
                        TIMEOUT / 2
                    };
                    plan.polls_at_advance.set(plan.mock_polls.get());
                    runtime.block_on(tokio::time::advance(step));
                    // A step that is one call: its clock started at its first wait, and holds
                    // across `Interrupted`.
                    let first_wait = plan.first_wait.get().filter(|_| plan.one_call.get());
                    if past || first_wait.is_some_and(|at| at.elapsed() >= TIMEOUT) {
                        assert_ne!(
                            wakes.0.load(Ordering::Relaxed),
                            0,
                            "seed {seed}: the timeout passed and did not wake the io coroutine"
                        );
                    }
                    None
                }
                3 => {
                    stats.interrupts_raised += 1;
                    plan.polls_at_raise.set(plan.mock_polls.get());
                    plan.interrupt.as_ref().unwrap().interrupt();
                    assert_ne!(
                        wakes.0.load(Ordering::Relaxed),
                        0,
                        "seed {seed}: raising the interrupt did not wake the io coroutine \
                         waiting on a mock"
                    );
                    None
                }
                _ => {
                    if io_waits() {
                        stats.ticks_while_io_waited += 1;
                    }
                    tick_due = Some(gate.borrow().ticks + 1);
                    open(&gate);
                    None
                }
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        assert!(
            stats.polls < 100_000,
            "seed {seed}: no end after {} polls",
            stats.polls
        );
    }
    assert_eq!(
        guards.dropped.dropped(),
        guards.made.get(),
        "seed {seed}: guards made and dropped"
    );
    assert_eq!(
        corona::__private::stacks_in_use(),
        stacks_before,
        "seed {seed}: stacks lost from the pool"
    );
    for core in [&reader.0.borrow().core.stats, &writer.0.borrow().core.stats] {
        stats.add(Stats {
            polls: 0,
            ticks_while_io_waited: 0,
            cancelled_while_io_waited: 0,
            interrupts_raised: 0,
            panics: 0,
            timeouts: 0,
            ..*core
        });
    }
    stats.timeouts = plan.timeouts.get();
    stats
}

fn paused_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

fn base_seed() -> u64 {
    std::env::var("CORONA_IO_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x10_5EED)
}

/// How many cases each test runs: `CORONA_IO_CASES`, or `default`.
fn cases(default: u64) -> u64 {
    std::env::var("CORONA_IO_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_std_io_over_mock_async_io_delivers_every_byte_end_and_error() {
    quiet_planned_panics();
    let runtime = paused_runtime();
    let base = base_seed();
    let mut stats = Stats::default();
    for i in 0..cases(1000) {
        stats.add(run_case(&runtime, base + i, None));
    }
    println!("{stats:?}");
    // Not vacuous: the mocks made the calls wait, both ways, and be interrupted, and the
    // ticker advanced while the io coroutine waited.
    assert!(stats.woken_at_once > 100, "{stats:?}");
    assert!(stats.woken_later > 100, "{stats:?}");
    assert!(stats.interrupted > 100, "{stats:?}");
    assert!(stats.ticks_while_io_waited > 20, "{stats:?}");
    assert!(stats.interrupts_raised > 20, "{stats:?}");
    assert!(stats.panics > 20, "{stats:?}");
    assert!(stats.timeouts > 20, "{stats:?}");
}

#[test]
fn random_std_io_dropped_part_way_drops_every_guard_once() {
    quiet_planned_panics();
    let runtime = paused_runtime();
    let base = base_seed();
    let mut stats = Stats::default();
    for i in 0..cases(1000) / 2 {
        let seed = base + 1_000_000 + i;
        let polls = run_case(&runtime, seed, None).polls;
        stats.add(run_case(&runtime, seed, Some(Rng(seed).below(polls))));
    }
    println!("{stats:?}");
    assert!(stats.cancelled_while_io_waited > 100, "{stats:?}");
}
