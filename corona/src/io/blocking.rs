//! [`Blocking<T>`]: the type, its accessors and its settings. The `std::io` impls are in
//! `with_tokio.rs`.

use std::io;
use std::time::Duration;

use super::wait_io::Limits;
use super::Interrupt;

/// A `std::io` view of an async reader, writer or file, for code running in a coroutine.
///
/// Implements [`Read`](std::io::Read) for `T: tokio::io::AsyncRead + Unpin`,
/// [`Write`](std::io::Write) for `AsyncWrite`, [`BufRead`](std::io::BufRead) for
/// `AsyncBufRead` and [`Seek`](std::io::Seek) for `AsyncSeek`. Each call waits inside the
/// current coroutine: see the [io guide](super) for the design, timeouts, interrupts and
/// which buffering to use.
///
/// # Errors
///
/// Besides the inner type's own errors:
///
/// * outside of a coroutine (or inside the `Future::poll` of a future that `co_await!`
///   drives), every call returns an error of kind [`Other`](std::io::ErrorKind::Other) whose
///   [`get_ref`](std::io::Error::get_ref) downcasts to [`NotInCoroutine`](crate::NotInCoroutine);
/// * while its coroutine unwinds (a panic, or a drop while suspended), to [`Unwinding`](super::Unwinding);
/// * a call that would wait longer than its [timeout](Blocking::set_read_timeout) fails with
///   [`TimedOut`](std::io::ErrorKind::TimedOut);
/// * while an attached [`Interrupt`] is raised, a call that would wait returns
///   [`WouldBlock`](std::io::ErrorKind::WouldBlock).
///
/// ```
/// use std::io::Read;
///
/// // Outside of a coroutine: an error, no blocking, no panic.
/// let (_a, b) = tokio::io::duplex(8);
/// let err = corona::io::Blocking::new(b).read(&mut [0; 8]).unwrap_err();
/// let cause = err.get_ref().and_then(|e| e.downcast_ref::<corona::NotInCoroutine>());
/// assert_eq!(cause, Some(&corona::NotInCoroutine));
/// ```
///
/// # Cancel safety
///
/// Dropping a coroutine that is suspended inside a call drops the wait. Each call is a single
/// poll-to-readiness of the inner type, so for tokio's sockets and pipes no data has been
/// transferred by a call that never returned.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use tokio::io::AsyncWriteExt;
///
/// corona::run(|| {
///     let (mut tx, rx) = tokio::io::duplex(16);
///     corona::spawn_local(move || {
///         corona::co_await!(tx.write_all(b"sync reads over an async pipe")).unwrap();
///     });
///     let mut text = String::new();
///     corona::io::Blocking::new(rx).read_to_string(&mut text).unwrap();
///     assert_eq!(text, "sync reads over an async pipe");
/// });
/// ```
#[derive(Debug, Default)]
pub struct Blocking<T> {
    pub(super) inner: T,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    interrupt: Option<Interrupt>,
}

impl<T> Blocking<T> {
    /// Wraps an async reader, writer or file, with no timeouts and no interrupt.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = corona::io::Blocking::new(&b"bytes"[..]);
    /// assert_eq!(*reader.get_ref(), b"bytes");
    /// ```
    pub const fn new(inner: T) -> Self {
        Blocking {
            inner,
            read_timeout: None,
            write_timeout: None,
            interrupt: None,
        }
    }

    /// The inner value.
    ///
    /// # Examples
    ///
    /// ```
    /// let file = corona::io::Blocking::new(std::io::Cursor::new(vec![1, 2, 3]));
    /// assert_eq!(file.get_ref().get_ref().len(), 3);
    /// ```
    pub const fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The inner value, mutably: for its async API, for example
    /// `co_await!(blocking.get_mut().shutdown())`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cursor = corona::io::Blocking::new(std::io::Cursor::new(Vec::<u8>::new()));
    /// cursor.get_mut().set_position(2);
    /// assert_eq!(cursor.get_ref().position(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the inner value. Nothing is flushed or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let blocking = corona::io::Blocking::new(String::from("inner"));
    /// assert_eq!(blocking.into_inner(), "inner");
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Sets the read timeout: a `read` or `fill_buf` (and so `read_line`, `lines`, ... one
    /// underlying call at a time) that would wait longer than `timeout` fails with
    /// [`TimedOut`](std::io::ErrorKind::TimedOut) and consumes nothing: data arriving later
    /// is read whole. `None` waits without limit (the default). As on
    /// [`std::net::TcpStream::set_read_timeout`].
    ///
    /// The timer is tokio's: the runtime needs time enabled (as [`corona::run`](crate::run)'s
    /// is; on one without, a call that waits panics with tokio's message saying so); without
    /// a runtime a call that waits returns an error saying so. A timeout too long for the
    /// clock to represent is no timeout, as on std's sockets.
    ///
    /// # Errors
    ///
    /// A zero duration is refused with [`InvalidInput`](std::io::ErrorKind::InvalidInput),
    /// as std does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Read};
    /// use std::time::Duration;
    ///
    /// corona::run(|| {
    ///     let (_client, server) = tokio::io::duplex(64); // a client that says nothing
    ///     let mut conn = corona::io::Blocking::new(server);
    ///     conn.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    ///     let err = conn.read(&mut [0; 64]).unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::TimedOut); // drop the idle client
    /// });
    /// ```
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.read_timeout = nonzero(timeout)?;
        Ok(())
    }

    /// Sets the write timeout: a `write`, `flush` or [`shutdown`](Blocking::shutdown) that
    /// would wait longer than `timeout` fails with [`TimedOut`](std::io::ErrorKind::TimedOut)
    /// having written nothing (a `write_all` may have written earlier parts). `None` waits
    /// without limit (the default). The timer needs a tokio runtime, as for
    /// [`set_read_timeout`](Blocking::set_read_timeout).
    ///
    /// # Errors
    ///
    /// A zero duration is refused with [`InvalidInput`](std::io::ErrorKind::InvalidInput).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Write};
    /// use std::time::Duration;
    ///
    /// corona::run(|| {
    ///     let (_client, server) = tokio::io::duplex(4); // a client that never reads
    ///     let mut conn = corona::io::Blocking::new(server);
    ///     conn.set_write_timeout(Some(Duration::from_millis(10))).unwrap();
    ///     assert_eq!(conn.write(b"12345678").unwrap(), 4); // fits in the pipe
    ///     let err = conn.write(b"5678").unwrap_err(); // would wait for the reader
    ///     assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// });
    /// ```
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.write_timeout = nonzero(timeout)?;
        Ok(())
    }

    /// The read timeout, `None` when reads wait without limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut conn = corona::io::Blocking::new(tokio::io::empty());
    /// assert_eq!(conn.read_timeout(), None);
    /// conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    /// assert_eq!(conn.read_timeout(), Some(Duration::from_secs(30)));
    /// assert!(conn.set_read_timeout(Some(Duration::ZERO)).is_err());
    /// ```
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }

    /// The write timeout, `None` when writes wait without limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut conn = corona::io::Blocking::new(tokio::io::sink());
    /// conn.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    /// assert_eq!(conn.write_timeout(), Some(Duration::from_secs(5)));
    /// conn.set_write_timeout(None).unwrap();
    /// assert_eq!(conn.write_timeout(), None);
    /// ```
    pub fn write_timeout(&self) -> Option<Duration> {
        self.write_timeout
    }

    /// Attaches an [`Interrupt`] (or detaches it with `None`): while it is raised, every call
    /// that would wait returns [`WouldBlock`](std::io::ErrorKind::WouldBlock) at once, having
    /// transferred nothing. See [`Interrupt`] and the
    /// [io guide](super#interrupts-full-duplex-on-one-coroutine) for the owner's loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Read};
    ///
    /// corona::run(|| {
    ///     let (_client, server) = tokio::io::duplex(64);
    ///     let interrupt = corona::io::Interrupt::new();
    ///     let mut conn = corona::io::Blocking::new(server);
    ///     conn.set_interrupt(Some(interrupt.clone()));
    ///     interrupt.interrupt();
    ///     let err = conn.read(&mut [0; 64]).unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::WouldBlock);
    /// });
    /// ```
    pub fn set_interrupt(&mut self, interrupt: Option<Interrupt>) {
        self.interrupt = interrupt;
    }

    /// The inner value and what may cut a read short.
    pub(super) fn for_read(&mut self) -> (&mut T, Limits<'_>) {
        let limits = Limits {
            timeout: self.read_timeout,
            interrupt: self.interrupt.as_ref(),
        };
        (&mut self.inner, limits)
    }

    /// The inner value and what may cut a write, flush or shutdown short.
    pub(super) fn for_write(&mut self) -> (&mut T, Limits<'_>) {
        let limits = Limits {
            timeout: self.write_timeout,
            interrupt: self.interrupt.as_ref(),
        };
        (&mut self.inner, limits)
    }

    /// The inner value and what may cut a seek short before it starts: the interrupt only
    /// (a seek, once started, is waited for to its end).
    pub(super) fn for_seek(&mut self) -> (&mut T, Limits<'_>) {
        let limits = Limits {
            timeout: None,
            interrupt: self.interrupt.as_ref(),
        };
        (&mut self.inner, limits)
    }
}

impl<T> From<T> for Blocking<T> {
    fn from(inner: T) -> Self {
        Blocking::new(inner)
    }
}

/// std's rule: `Some(Duration::ZERO)` is an error, not "no timeout".
fn nonzero(timeout: Option<Duration>) -> io::Result<Option<Duration>> {
    if timeout == Some(Duration::ZERO) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        ));
    }
    Ok(timeout)
}
