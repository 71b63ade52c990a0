//! The mock reader: hands out the planned stream in chunks of random size, then its end.

use std::cell::{RefCell, RefMut};
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use super::{Core, Mock};
use crate::plan::{Plan, ReadEnd, READ_FAILURE};

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
pub struct MockReader(Rc<RefCell<ReadState>>);

impl MockReader {
    pub fn new(plan: &Plan) -> Self {
        MockReader(Rc::new(RefCell::new(ReadState {
            core: Core::new(plan.reader_seed, plan),
            data: plan.data.clone(),
            pos: 0,
            end: plan.read_end,
            max_chunk: plan.read_chunk,
        })))
    }
}

impl Mock for MockReader {
    fn core(&self) -> RefMut<'_, Core> {
        RefMut::map(self.0.borrow_mut(), |state| &mut state.core)
    }
}

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
