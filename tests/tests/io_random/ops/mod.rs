//! One `std::io` call of the io coroutine: running it and checking what it returned against
//! the stream and the writer (`read.rs` has the reading calls, `write.rs` the writing ones and
//! `std::io::copy`).

mod read;
mod write;

use std::io::{self, ErrorKind};

use crate::plan::{Layer, Plan};
use crate::sides::{ReadSide, WriteSide};

/// One `std::io` call of the io coroutine.
pub enum Op {
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
    pub fn describe(&self) -> String {
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

    fn reads(&self) -> bool {
        matches!(
            self,
            Op::Read(_)
                | Op::ReadVectored(..)
                | Op::ReadExact(_)
                | Op::ReadToEnd
                | Op::ReadLine
                | Op::Lines(_)
                | Op::FillConsume(_)
                | Op::Copy
        )
    }

    fn writes(&self) -> bool {
        !self.reads() || matches!(self, Op::Copy)
    }

    /// Whether the call is a single `Blocking` call, not a loop of them or a buffer's.
    pub fn is_one_call(&self, plan: &Plan) -> bool {
        match self {
            Op::Read(_) | Op::ReadVectored(..) => plan.read_layer == Layer::Bare,
            Op::Write(_) | Op::WriteVectored(_) | Op::Flush => plan.write_layer == Layer::Bare,
            _ => false,
        }
    }
}

/// Runs `op` and checks what it returned; skipped if it would read from a stream whose
/// position was lost, or write to a writer that failed.
pub fn run_op(op: &Op, ctx: &str, read: &mut ReadSide, write: &mut WriteSide, plan: &Plan) {
    if (op.reads() && read.lost) || (op.writes() && write.failed) {
        return;
    }
    // The interrupt's `WouldBlock` or a `TimedOut`: what moved is known for some calls.
    let cut_short = |err: &io::Error| was_cut_short(ctx, err, plan);
    match op {
        Op::Read(len) => read::read_once(ctx, read, *len, cut_short),
        Op::ReadVectored(a, b) => read::read_vectored(ctx, read, (*a, *b), cut_short),
        Op::ReadExact(len) => read::read_exact(ctx, read, *len, cut_short),
        Op::ReadToEnd => read::read_to_end(ctx, read, cut_short),
        Op::ReadLine => read::read_line(ctx, read, cut_short),
        Op::Lines(n) => read::lines(ctx, read, *n, cut_short),
        Op::FillConsume(amount) => read::fill_consume(ctx, read, *amount, cut_short),
        Op::Copy => write::copy(ctx, read, write, cut_short),
        Op::Write(bytes) => write::write_once(ctx, write, bytes, cut_short),
        Op::WriteAll(bytes) => write::write_all(ctx, write, bytes, cut_short),
        Op::WriteVectored(parts) => write::write_vectored(ctx, write, parts, cut_short),
        Op::Flush => write::flush(ctx, write, cut_short),
    }
}

/// Whether `err` says the call was cut short, having transferred nothing: the `WouldBlock`
/// of the raised interrupt (lowered here for the next call), or a timeout's `TimedOut`.
fn was_cut_short(ctx: &str, err: &io::Error, plan: &Plan) -> bool {
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
