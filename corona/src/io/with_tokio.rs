//! `std::io` traits of [`Blocking`] for tokio's async I/O traits (feature `tokio`).

use std::io::{self, BufRead, IoSlice, Read, Seek, SeekFrom, Write};
use std::pin::Pin;
use std::task::{ready, Poll};

use tokio::io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::wait_io::{self, wait_io, Limits};
use super::Blocking;

impl<T: AsyncRead + Unpin> Read for Blocking<T> {
    /// Reads what the inner reader has, waiting until it has something. An empty `buf`
    /// returns `Ok(0)` at once, as std's sockets and files do, where the inner reader might
    /// wait for data it has no room to return.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (inner, limits) = self.for_read();
        wait_io(limits, |cx| {
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            let mut read_buf = ReadBuf::new(&mut *buf);
            ready!(Pin::new(&mut *inner).poll_read(cx, &mut read_buf))?;
            Poll::Ready(Ok(read_buf.filled().len()))
        })
    }
}

impl<T: AsyncWrite + Unpin> Write for Blocking<T> {
    /// Writes what the inner writer accepts, waiting until it accepts something. An empty
    /// `buf` returns `Ok(0)` at once, as std's sockets and files do, where the inner writer
    /// might wait for room it does not need.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (inner, limits) = self.for_write();
        wait_io(limits, |cx| {
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            Pin::new(&mut *inner).poll_write(cx, buf)
        })
    }

    /// Forwards to `poll_write_vectored`; an inner type without vectored writes (see
    /// [`Blocking::is_write_vectored`]) writes the first non-empty buffer. Buffers that are
    /// all empty return `Ok(0)` at once, like [`write`](Self::write).
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let (inner, limits) = self.for_write();
        wait_io(limits, |cx| {
            if bufs.iter().all(|buf| buf.is_empty()) {
                return Poll::Ready(Ok(0));
            }
            Pin::new(&mut *inner).poll_write_vectored(cx, bufs)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        let (inner, limits) = self.for_write();
        wait_io(limits, |cx| Pin::new(&mut *inner).poll_flush(cx))
    }
}

impl<T: AsyncBufRead + Unpin> BufRead for Blocking<T> {
    /// Waits until the inner reader has data (or is at its end) and returns the inner
    /// reader's own buffer: no copy.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let (inner, limits) = self.for_read();
        wait_io::fill_buf(inner, limits, T::poll_fill_buf)
    }

    fn consume(&mut self, amt: usize) {
        Pin::new(&mut self.inner).consume(amt);
    }
}

impl<T: AsyncSeek + Unpin> Seek for Blocking<T> {
    /// `start_seek`, then waits for `poll_complete`. Waits for a seek (or, for
    /// `tokio::fs::File`, a write) still in flight first, because `start_seek` fails then.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let (inner, limits) = self.for_seek();
        wait_io(limits, |cx| Pin::new(&mut *inner).poll_complete(cx))?;
        loop {
            match Pin::new(&mut self.inner).start_seek(pos) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                started => started?,
            }
            break;
        }
        // Started: wait for the end whatever the interrupt says, or a relative seek retried
        // after a `WouldBlock` would move twice.
        wait_io(Limits::default(), |cx| {
            Pin::new(&mut self.inner).poll_complete(cx)
        })
    }
}

impl<T: AsyncWrite + Unpin> Blocking<T> {
    /// Shuts the writer down (`poll_shutdown`), waiting in the current coroutine: for a
    /// socket, the peer then reads the end of the stream. Dropping a `Blocking` does not do
    /// this.
    ///
    /// # Errors
    ///
    /// The inner type's errors, and the errors of every `Blocking` call (outside of a
    /// coroutine, while unwinding).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// corona::run(|| {
    ///     let (a, b) = tokio::io::duplex(64);
    ///     let mut writer = corona::io::Blocking::new(a);
    ///     writer.write_all(b"last words").unwrap();
    ///     writer.shutdown().unwrap(); // `b` sees the end of the stream
    ///     let mut text = String::new();
    ///     corona::io::Blocking::new(b).read_to_string(&mut text).unwrap();
    ///     assert_eq!(text, "last words");
    /// });
    /// ```
    pub fn shutdown(&mut self) -> io::Result<()> {
        let (inner, limits) = self.for_write();
        wait_io(limits, |cx| Pin::new(&mut *inner).poll_shutdown(cx))
    }

    /// Whether the inner writer has an efficient `write_vectored` (tokio's
    /// `AsyncWrite::is_write_vectored`; std's own method is unstable).
    ///
    /// # Examples
    ///
    /// ```
    /// // tokio's `Vec<u8>` writer has vectored writes.
    /// assert!(corona::io::Blocking::new(Vec::<u8>::new()).is_write_vectored());
    /// ```
    pub fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
