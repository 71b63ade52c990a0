//! The plan of a case, drawn from its seed: the stream and how it ends, the writer's limit and
//! how it ends, the layers, the calls, and when to panic; and the cells through which the io
//! coroutine, the mocks and the driver tell each other where the case stands.

use std::cell::Cell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use corona::io::Interrupt;
use corona_tests::Rng;

use crate::ops::Op;

/// The read and write timeout of the cases that have one.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The planned failures. Readers and writers fail with different kinds, so that an error out
/// of `std::io::copy` says whose it is.
pub const READ_FAILURES: [ErrorKind; 3] = [
    ErrorKind::ConnectionReset,
    ErrorKind::InvalidData,
    ErrorKind::PermissionDenied,
];
const WRITE_FAILURES: [ErrorKind; 3] = [
    ErrorKind::BrokenPipe,
    ErrorKind::ConnectionAborted,
    ErrorKind::NotConnected,
];
pub const READ_FAILURE: &str = "mock reader: planned failure";
pub const WRITE_FAILURE: &str = "mock writer: planned failure";

/// How the reader's stream ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadEnd {
    Eof,
    Fail(ErrorKind),
}

/// How the writer ends once it has accepted its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteEnd {
    /// Accepts nothing more (`Ok(0)`).
    Zero,
    Fail(ErrorKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Tokio,
    Futures,
}

/// Where the buffer goes, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Bare,
    /// std's `BufReader` / `BufWriter` around the `Blocking`.
    StdOutside,
    /// tokio's or futures' `BufReader` / `BufWriter` inside the `Blocking`.
    AsyncInside,
}

/// How the io coroutine and the ticker run side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Two coroutines under `futures::future::join`.
    Join,
    /// A coroutine running a `corona::scope`: io in the body, the ticker a child.
    ScopeIoInBody,
    /// The same, io in a child, the ticker in the body.
    ScopeIoInChild,
}

pub struct Plan {
    pub seed: u64,
    pub flavour: Flavour,
    pub shape: Shape,
    pub data: Rc<[u8]>,
    pub read_end: ReadEnd,
    pub read_layer: Layer,
    pub read_capacity: usize,
    pub read_chunk: usize,
    pub write_limit: usize,
    pub write_end: WriteEnd,
    pub write_layer: Layer,
    pub write_capacity: usize,
    pub write_chunk: usize,
    pub vectored: bool,
    pub ops: Vec<Op>,
    /// The io coroutine panics after this call, with its writer still there.
    pub panic_after: Option<usize>,
    pub ticks: usize,
    pub reader_seed: u64,
    pub writer_seed: u64,
    /// Attached to the reader and the writer; the test raises it while the io coroutine waits.
    pub interrupt: Option<Interrupt>,
    /// The io coroutine is inside a call: suspended there when the test is to wake it (it
    /// waits on nothing else).
    pub in_call: Cell<bool>,
    /// Polls of both mocks, and their number when the test last raised the interrupt.
    pub mock_polls: Rc<Cell<usize>>,
    pub polls_at_raise: Cell<usize>,
    /// Their number when the test last advanced the clock.
    pub polls_at_advance: Cell<usize>,
    /// The read and the write timeout (tokio only; the test's clock moves only when it
    /// advances it), when the step began, and how many calls timed out.
    pub timeout: Option<Duration>,
    pub call_started: Cell<Option<tokio::time::Instant>>,
    /// When a mock first waited in this step (see `Core`), and whether the step is one
    /// `Blocking` call: then its timer started there.
    pub first_wait: Rc<Cell<Option<tokio::time::Instant>>>,
    pub one_call: Cell<bool>,
    pub timeouts: Cell<usize>,
    /// What the writer saw when the io coroutine was dropped (see `WriteSide`'s `Drop`).
    pub unwound: Rc<Cell<Option<bool>>>,
}

impl Plan {
    /// The plan of case `seed`, drawn from `rng` (which the driver goes on using).
    pub fn random(seed: u64, rng: &mut Rng) -> Plan {
        let data = text(rng);
        let layers = [Layer::Bare, Layer::StdOutside, Layer::AsyncInside];
        let read_layer = rng.pick(&layers);
        let ops = calls(rng, read_layer);
        let flavour = rng.pick(&[Flavour::Tokio, Flavour::Futures]);
        let panic_after = match rng.below(8) {
            0 => Some(rng.below(ops.len())),
            _ => None,
        };
        // Drawn in the order written: reordering changes the case each seed names.
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
            reader_seed: rng.next_u64(),
            writer_seed: rng.next_u64(),
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
}

/// The reader's stream: text with lines of some typical length, so that `read_line` and
/// `lines` see whole lines, short ones and a last one without a newline.
fn text(rng: &mut Rng) -> Rc<[u8]> {
    let line = 2 + rng.below(40);
    let len = match rng.below(8) {
        0 => 0,
        1 => rng.below(4000),
        _ => rng.below(400),
    };
    (0..len)
        .map(|_| {
            if rng.below(line) == 0 {
                b'\n'
            } else {
                b'a' + rng.below(26) as u8
            }
        })
        .collect()
}

/// The io coroutine's calls, ending in a flush. The calls of `BufRead` only over a buffer.
fn calls(rng: &mut Rng, read_layer: Layer) -> Vec<Op> {
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
    ops
}

/// Random bytes, fewer than `under`.
fn bytes(rng: &mut Rng, under: usize) -> Vec<u8> {
    let n = rng.below(under);
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// The most a mock hands out or takes per poll.
fn chunk(rng: &mut Rng) -> usize {
    let max = rng.pick(&[1, 8, 200]);
    rng.size(max)
}
