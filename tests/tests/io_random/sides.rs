//! The reader and the writer as the io coroutine's calls see them, with what they must see:
//! every byte received is the stream's next, every byte the caller was told was written reached
//! the mock, and ends and errors come only where and as planned.

use std::cell::Cell;
use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::rc::Rc;

use crate::layers::{reader, writer, Reader};
use crate::mocks::{MockReader, MockWriter};
use crate::plan::{Layer, Plan, ReadEnd, WriteEnd, READ_FAILURE, WRITE_FAILURE};

/// The reader as the caller sees it, and what it must see.
pub struct ReadSide {
    reader: Reader,
    pub data: Rc<[u8]>,
    pub end: ReadEnd,
    /// How many bytes the caller has received.
    pub pos: usize,
    /// `std::io::copy` failed on the writer side: how much it read is unknown.
    pub lost: bool,
}

impl ReadSide {
    /// Its reads count against `calls`, the budget of a step (see `Counted`).
    pub fn new(plan: &Plan, mock: MockReader, calls: &Rc<Cell<usize>>) -> Self {
        ReadSide {
            reader: reader(plan, mock, calls),
            data: plan.data.clone(),
            end: plan.read_end,
            pos: 0,
            lost: false,
        }
    }

    pub fn read(&mut self) -> &mut dyn Read {
        match &mut self.reader {
            Reader::Plain(reader) => reader,
            Reader::Buffered(reader) => reader,
        }
    }

    pub fn buf_read(&mut self) -> &mut dyn BufRead {
        match &mut self.reader {
            Reader::Buffered(reader) => reader,
            Reader::Plain(_) => unreachable!("planned for buffered readers only"),
        }
    }

    /// The caller got `got`: the stream's next bytes.
    pub fn receive(&mut self, ctx: &str, got: &[u8]) {
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

    pub fn at_eof(&self) -> bool {
        self.pos == self.data.len() && self.end == ReadEnd::Eof
    }

    /// A call that reads `n` bytes and found the stream's end must be at its real end.
    pub fn check_end(&self, ctx: &str, n: usize, asked: usize) {
        assert!(
            n > 0 || asked == 0 || self.at_eof(),
            "{ctx}: Ok(0), the end of the stream, at byte {} of {} (the plan ends in {:?})",
            self.pos,
            self.data.len(),
            self.end
        );
    }

    /// A call failed: only at the end, with the planned failure unchanged.
    pub fn expect_failure(&self, ctx: &str, err: &io::Error) {
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

/// The writer as the caller sees it, and what the mock must have received.
pub struct WriteSide {
    pub writer: Box<dyn Write>,
    pub mock: MockWriter,
    buffered: bool,
    /// Every byte the caller was told was written, in order.
    pub sent: Vec<u8>,
    pub failed: bool,
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
    pub fn new(plan: &Plan, mock: MockWriter) -> Self {
        WriteSide {
            writer: writer(plan, mock.clone()),
            mock,
            buffered: plan.write_layer != Layer::Bare,
            sent: Vec::new(),
            failed: false,
            unwound: plan.unwound.clone(),
        }
    }

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
    pub fn resync(&mut self, ctx: &str, in_flight: &[u8]) {
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

    pub fn sent(&mut self, ctx: &str, bytes: &[u8]) {
        self.sent.extend_from_slice(bytes);
        self.check(ctx);
    }

    /// `Ok(n)` of a write of `asked` bytes.
    pub fn check_written(&self, ctx: &str, n: usize, asked: usize) {
        assert!(n <= asked, "{ctx}: wrote {n} of {asked} bytes");
        let mock = self.mock.0.borrow();
        assert!(
            n > 0 || asked == 0 || (mock.at_limit() && mock.end == WriteEnd::Zero),
            "{ctx}: Ok(0) from a writer that takes more"
        );
    }

    /// A call failed: only at the writer's planned end, with its planned failure; the mock got
    /// nothing but what was sent before and part of `in_flight`.
    pub fn expect_failure(&mut self, ctx: &str, err: &io::Error, in_flight: &[u8]) {
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
