//! `std::io` traits of [`BlockingFutures`] for the `futures::io` traits (feature
//! `futures-io`). The twin of `with_tokio.rs`; see there for the reasoning.

use std::io::{self, BufRead, IoSlice, IoSliceMut, Read, Seek, SeekFrom, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

use super::{lost_buffer, wait_io, BlockingFutures};

impl<T: AsyncRead + Unpin> Read for BlockingFutures<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        wait_io("BlockingFutures::read", |cx| {
            Pin::new(&mut self.inner).poll_read(cx, buf)
        })
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        wait_io("BlockingFutures::read_vectored", |cx| {
            Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
        })
    }
}

impl<T: AsyncWrite + Unpin> Write for BlockingFutures<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        wait_io("BlockingFutures::write", |cx| {
            Pin::new(&mut self.inner).poll_write(cx, buf)
        })
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        wait_io("BlockingFutures::write_vectored", |cx| {
            Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        wait_io("BlockingFutures::flush", |cx| {
            Pin::new(&mut self.inner).poll_flush(cx)
        })
    }
}

impl<T: AsyncBufRead + Unpin> BufRead for BlockingFutures<T> {
    /// Waits until the inner reader has data (or is at its end) and returns the inner
    /// reader's own buffer: no copy.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // As in `Blocking::fill_buf`: wait keeping only the length, then borrow the buffer,
        // which a ready `AsyncBufRead` returns again at once without registering a waker.
        let available = wait_io("BlockingFutures::fill_buf", |cx| {
            Pin::new(&mut self.inner)
                .poll_fill_buf(cx)
                .map_ok(<[u8]>::len)
        })?;
        if available == 0 {
            return Ok(&[]);
        }
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut self.inner).poll_fill_buf(&mut cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(lost_buffer("BlockingFutures::fill_buf")),
        }
    }

    fn consume(&mut self, amt: usize) {
        Pin::new(&mut self.inner).consume(amt);
    }
}

impl<T: AsyncSeek + Unpin> Seek for BlockingFutures<T> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        wait_io("BlockingFutures::seek", |cx| {
            Pin::new(&mut self.inner).poll_seek(cx, pos)
        })
    }
}

impl<T: AsyncWrite + Unpin> BlockingFutures<T> {
    /// Closes the writer (`poll_close`), waiting in the current coroutine. Dropping a
    /// `BlockingFutures` does not do this.
    ///
    /// # Errors
    ///
    /// The inner type's errors, and the errors of every call (outside of a coroutine, while
    /// unwinding).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// # futures::executor::block_on(async {
    /// let written = corona::Coroutine::new(|| {
    ///     let mut out = corona::io::BlockingFutures::new(futures::io::Cursor::new(Vec::new()));
    ///     out.write_all(b"done").unwrap();
    ///     out.close().unwrap();
    ///     out.into_inner().into_inner()
    /// });
    /// assert_eq!(written.await, b"done");
    /// # });
    /// ```
    pub fn close(&mut self) -> io::Result<()> {
        wait_io("BlockingFutures::close", |cx| {
            Pin::new(&mut self.inner).poll_close(cx)
        })
    }
}
