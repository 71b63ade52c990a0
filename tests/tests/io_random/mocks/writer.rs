//! The mock writer: takes chunks of random size up to its planned limit, then ends.

use std::cell::{RefCell, RefMut};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{Core, Mock};
use crate::plan::{Plan, WriteEnd, WRITE_FAILURE};

pub struct WriteState {
    pub core: Core,
    pub accepted: Vec<u8>,
    limit: usize,
    pub end: WriteEnd,
    max_chunk: usize,
    /// Takes bytes from several buffers of a vectored write, else from the first non-empty.
    vectored: bool,
    pub flushes: usize,
}

impl WriteState {
    pub fn at_limit(&self) -> bool {
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

/// The writer; `WriteSide` reads what it accepted through `.0`.
#[derive(Clone)]
pub struct MockWriter(pub Rc<RefCell<WriteState>>);

impl MockWriter {
    pub fn new(plan: &Plan) -> Self {
        MockWriter(Rc::new(RefCell::new(WriteState {
            core: Core::new(plan.writer_seed, plan),
            accepted: Vec::new(),
            limit: plan.write_limit,
            end: plan.write_end,
            max_chunk: plan.write_chunk,
            vectored: plan.vectored,
            flushes: 0,
        })))
    }
}

impl Mock for MockWriter {
    fn core(&self) -> RefMut<'_, Core> {
        RefMut::map(self.0.borrow_mut(), |state| &mut state.core)
    }
}

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
