//! [`BlockingFutures`]: `std::io` over the `futures::io` traits (feature `futures-io`). The
//! twin of `blocking.rs` and `with_tokio.rs`; see there for the reasoning.

use std::io::{self, BufRead, IoSlice, IoSliceMut, Read, Seek, SeekFrom, Write};
use std::pin::Pin;
use std::task::Poll;

use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

use super::wait_io::{self, wait_io, Limits};
use super::Interrupt;

/// A `std::io` view of a `futures::io` reader, writer or file (smol, async-std, or tokio's
/// types through `tokio_util::compat`), for code running in a coroutine.
///
/// The twin of [`Blocking`](super::Blocking) for the [`futures::io`](futures_io) traits: implements
/// [`Read`](std::io::Read) for `T: futures::io::AsyncRead + Unpin`, [`Write`](std::io::Write)
/// for `AsyncWrite`, [`BufRead`](std::io::BufRead) for `AsyncBufRead` and
/// [`Seek`](std::io::Seek) for `AsyncSeek`, with the same design, errors and cancel safety.
///
/// # Examples
///
/// ```
/// use std::io::BufRead;
///
/// # futures::executor::block_on(async {
/// let lines = corona::Coroutine::new(|| {
///     let text = futures::io::Cursor::new(b"one\ntwo\n".to_vec());
///     let reader = corona::io::BlockingFutures::new(futures::io::BufReader::new(text));
///     reader.lines().collect::<Result<Vec<_>, _>>().unwrap()
/// });
/// assert_eq!(lines.await, ["one", "two"]);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct BlockingFutures<T> {
    inner: T,
    interrupt: Option<Interrupt>,
}

impl<T> BlockingFutures<T> {
    /// Wraps a `futures::io` reader, writer or file.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = corona::io::BlockingFutures::new(&b"bytes"[..]);
    /// assert_eq!(*reader.get_ref(), b"bytes");
    /// ```
    pub const fn new(inner: T) -> Self {
        BlockingFutures {
            inner,
            interrupt: None,
        }
    }

    /// The inner value.
    ///
    /// # Examples
    ///
    /// ```
    /// let file = corona::io::BlockingFutures::new(futures::io::Cursor::new(vec![1, 2, 3]));
    /// assert_eq!(file.get_ref().get_ref().len(), 3);
    /// ```
    pub const fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The inner value, mutably, for its async API.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut file = corona::io::BlockingFutures::new(futures::io::Cursor::new(vec![0u8; 4]));
    /// file.get_mut().set_position(2);
    /// assert_eq!(file.get_ref().position(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the inner value. Nothing is flushed or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let blocking = corona::io::BlockingFutures::new(String::from("inner"));
    /// assert_eq!(blocking.into_inner(), "inner");
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Attaches an [`Interrupt`] (or detaches it with `None`), as
    /// [`Blocking::set_interrupt`](super::Blocking::set_interrupt) does: while it is raised,
    /// every call that would wait returns [`WouldBlock`](std::io::ErrorKind::WouldBlock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Read};
    /// use futures::TryStreamExt;
    ///
    /// # futures::executor::block_on(async {
    /// let kind = corona::Coroutine::new(|| {
    ///     let (_tx, rx) = futures::channel::mpsc::channel::<std::io::Result<Vec<u8>>>(1);
    ///     let interrupt = corona::io::Interrupt::new();
    ///     let mut reader = corona::io::BlockingFutures::new(rx.into_async_read());
    ///     reader.set_interrupt(Some(interrupt.clone()));
    ///     interrupt.interrupt();
    ///     reader.read(&mut [0; 8]).unwrap_err().kind()
    /// });
    /// assert_eq!(kind.await, ErrorKind::WouldBlock);
    /// # });
    /// ```
    pub fn set_interrupt(&mut self, interrupt: Option<Interrupt>) {
        self.interrupt = interrupt;
    }

    /// The inner value and what may cut a call short: the interrupt (no timeouts here).
    fn with_limits(&mut self) -> (&mut T, Limits<'_>) {
        let limits = Limits {
            timeout: None,
            interrupt: self.interrupt.as_ref(),
        };
        (&mut self.inner, limits)
    }
}

impl<T> From<T> for BlockingFutures<T> {
    fn from(inner: T) -> Self {
        BlockingFutures::new(inner)
    }
}

impl<T: AsyncRead + Unpin> Read for BlockingFutures<T> {
    /// Reads what the inner reader has, waiting until it has something. An empty `buf`
    /// returns `Ok(0)` at once, as std's sockets and files do, where the inner reader might
    /// wait for data it has no room to return.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (inner, limits) = self.with_limits();
        wait_io(limits, |cx| {
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            Pin::new(&mut *inner).poll_read(cx, buf)
        })
    }

    /// Like [`read`](Self::read): buffers that are all empty return `Ok(0)` at once.
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let (inner, limits) = self.with_limits();
        wait_io(limits, |cx| {
            if bufs.iter().all(|buf| buf.is_empty()) {
                return Poll::Ready(Ok(0));
            }
            Pin::new(&mut *inner).poll_read_vectored(cx, bufs)
        })
    }
}

impl<T: AsyncWrite + Unpin> Write for BlockingFutures<T> {
    /// Writes what the inner writer accepts, waiting until it accepts something. An empty
    /// `buf` returns `Ok(0)` at once, as std's sockets and files do, where the inner writer
    /// might wait for room it does not need.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (inner, limits) = self.with_limits();
        wait_io(limits, |cx| {
            if buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            Pin::new(&mut *inner).poll_write(cx, buf)
        })
    }

    /// Like [`write`](Self::write): buffers that are all empty return `Ok(0)` at once.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let (inner, limits) = self.with_limits();
        wait_io(limits, |cx| {
            if bufs.iter().all(|buf| buf.is_empty()) {
                return Poll::Ready(Ok(0));
            }
            Pin::new(&mut *inner).poll_write_vectored(cx, bufs)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        let (inner, limits) = self.with_limits();
        wait_io(limits, |cx| Pin::new(&mut *inner).poll_flush(cx))
    }
}

impl<T: AsyncBufRead + Unpin> BufRead for BlockingFutures<T> {
    /// Waits until the inner reader has data (or is at its end) and returns the inner
    /// reader's own buffer: no copy.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let (inner, limits) = self.with_limits();
        wait_io::fill_buf(inner, limits, T::poll_fill_buf)
    }

    fn consume(&mut self, amt: usize) {
        Pin::new(&mut self.inner).consume(amt);
    }
}

impl<T: AsyncSeek + Unpin> Seek for BlockingFutures<T> {
    /// Waits for `poll_seek` to its end whatever the interrupt says: a seek that returned
    /// `Pending` may already be under way, and a relative one retried would move twice.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        wait_io(Limits::default(), |cx| {
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
        let (inner, limits) = self.with_limits();
        wait_io(limits, |cx| Pin::new(&mut *inner).poll_close(cx))
    }
}
