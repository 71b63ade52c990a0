//! Sync I/O over async I/O: [`Blocking`] runs `std::io` consumers over async sockets, pipes
//! and files without a thread per connection.
//!
//! Most of the Rust ecosystem reads and writes through `std::io::{Read, Write, BufRead,
//! Seek}`: `serde_json::from_reader`, `flate2`, `csv`, `tar`, `BufRead::lines`, hand-written
//! protocol code. [`Blocking<T>`] implements those traits for an async `T` (tokio's
//! `AsyncRead`, `AsyncWrite`, `AsyncBufRead`, `AsyncSeek`) by waiting inside the current
//! coroutine: when the socket is not ready, only that coroutine is suspended and the thread
//! serves the others.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use std::io::{BufRead, Write};
//! use corona::io::Blocking;
//!
//! corona::run(|| {
//!     let (client, server) = tokio::io::duplex(64);
//!     // A sync line-protocol handler, in its own coroutine.
//!     let handler = corona::spawn_local(move || {
//!         let mut conn = Blocking::new(tokio::io::BufStream::new(server));
//!         let mut line = String::new();
//!         while conn.read_line(&mut line).unwrap() > 0 {
//!             write!(conn, "echo: {line}").unwrap();
//!             conn.flush().unwrap();
//!             line.clear();
//!         }
//!     });
//!     let mut client = Blocking::new(tokio::io::BufStream::new(client));
//!     client.write_all(b"hello\n").unwrap();
//!     client.flush().unwrap();
//!     let mut answer = String::new();
//!     client.read_line(&mut answer).unwrap();
//!     assert_eq!(answer, "echo: hello\n");
//!     drop(client); // EOF for the handler
//!     corona::co_await!(handler).unwrap();
//! });
//! ```
//!
//! # Design
//!
//! * **One call, one wait.** Each `read`, `write`, `fill_buf`, `flush` and `seek` polls the
//!   inner type until it is ready, once, and returns what that poll produced: a short read or
//!   write is returned as the std contracts allow, and std's `read_exact`, `write_all`,
//!   `read_line`, ... loop on top. Nothing is buffered or copied by the adapter; wrap the
//!   inner type in a `tokio::io::BufReader` / `BufStream` for buffering.
//! * **No extra copy for `BufRead`.** `fill_buf` hands out the inner `AsyncBufRead`'s own
//!   buffer and `consume` forwards to it. (It waits for readiness keeping only the length,
//!   then borrows the buffer with a second poll that a ready `AsyncBufRead` answers at once.)
//! * **Never blocks the thread.** Outside of a coroutine (or while the thread unwinds from a
//!   panic, when nothing could resume a wait) every call returns an [`io::Error`]
//!   of kind `Other` whose message says what happened; the inner type is not touched. It
//!   does not panic, so a `BufWriter` flushing in its destructor during a panic is safe.
//! * **`Interrupted` is retried.** An `ErrorKind::Interrupted` from the inner type is polled
//!   again, as std's own loops expect of a `Read`/`Write`.
//! * **Dropping does not flush or shut down.** A `Blocking` is a thin view: dropping it drops
//!   the inner value, nothing more (a socket or pipe end then closes as it always does, but
//!   bytes still in a `BufStream`/`BufWriter` are lost). Call `flush`, and shut a writer down
//!   explicitly with [`Blocking::shutdown`], from inside the coroutine.
//!
//! With the `futures-io` feature, `BlockingFutures<T>` does the same for the
//! `futures::io` traits (smol, async-std). It is a separate type because one type cannot
//! implement `Read` both for every tokio reader and for every futures reader (a value could be
//! both).

// Without `tokio` or `futures-io` the types exist but implement nothing yet.
#![cfg_attr(not(any(feature = "tokio", feature = "futures-io")), allow(dead_code))]

use std::io;
use std::task::{Context, Poll};

#[cfg(feature = "futures-io")]
mod with_futures;
#[cfg(feature = "tokio")]
mod with_tokio;

/// A `std::io` view of an async reader, writer or file, for code running in a coroutine.
///
/// Implements [`Read`](std::io::Read) for `T: tokio::io::AsyncRead + Unpin`,
/// [`Write`](std::io::Write) for `AsyncWrite`, [`BufRead`](std::io::BufRead) for
/// `AsyncBufRead` and [`Seek`](std::io::Seek) for `AsyncSeek` (these need the default
/// `tokio` feature). Each call waits inside the current coroutine: see the
/// [module documentation](self) for the design.
///
/// # Errors
///
/// Besides the inner type's own errors, every call returns an error of kind
/// [`Other`](std::io::ErrorKind::Other) when it is made outside of a coroutine (the message
/// contains `outside of a coroutine`) or while the thread unwinds from a panic.
///
/// # Cancel safety
///
/// Dropping a coroutine that is suspended inside a call drops the wait. Each call is a single
/// poll-to-readiness of the inner type, so for tokio's sockets and pipes no data has been
/// transferred by a call that never returned.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
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
    inner: T,
}

impl<T> Blocking<T> {
    /// Wraps an async reader, writer or file.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = corona::io::Blocking::new(&b"bytes"[..]);
    /// assert_eq!(*reader.get_ref(), b"bytes");
    /// ```
    pub const fn new(inner: T) -> Self {
        Blocking { inner }
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
}

impl<T> From<T> for Blocking<T> {
    fn from(inner: T) -> Self {
        Blocking::new(inner)
    }
}

/// A `std::io` view of a `futures::io` reader, writer or file (smol, async-std, or tokio's
/// types through `tokio_util::compat`), for code running in a coroutine.
///
/// The twin of [`Blocking`] for the [`futures::io`](futures_io) traits: implements
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
#[cfg(feature = "futures-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-io")))]
#[derive(Debug, Default)]
pub struct BlockingFutures<T> {
    inner: T,
}

#[cfg(feature = "futures-io")]
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
        BlockingFutures { inner }
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
}

#[cfg(feature = "futures-io")]
impl<T> From<T> for BlockingFutures<T> {
    fn from(inner: T) -> Self {
        BlockingFutures::new(inner)
    }
}

/// Polls `poll` to readiness inside the current coroutine, retrying `Interrupted`.
///
/// `op` names the call (`"Blocking::read"`) for the error message.
fn wait_io<R>(
    op: &str,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<io::Result<R>>,
) -> io::Result<R> {
    // A pending wait would suspend the coroutine while it unwinds, which corona turns into a
    // second panic (an abort). Fail the call instead: destructors ignore such errors.
    if std::thread::panicking() {
        return Err(unwinding(op));
    }
    // Checked first so that outside a coroutine the inner value is not even polled, and
    // inside the `poll` of a future that `co_await!` drives this is an error, not a panic.
    if !crate::in_coroutine() {
        return Err(outside_of_a_coroutine(op));
    }
    loop {
        match crate::try_await(std::future::poll_fn(&mut poll)) {
            Ok(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
            Ok(result) => return result,
            Err(crate::NotInCoroutine) => return Err(outside_of_a_coroutine(op)),
        }
    }
}

#[cold]
#[inline(never)]
fn outside_of_a_coroutine(op: &str) -> io::Error {
    io::Error::other(format!(
        "corona: {op} was called outside of a coroutine, where it cannot wait for the async \
         I/O without blocking the thread. Call it from code that runs in a coroutine \
         (corona::run, #[corona::coroutine], corona::spawn_local, corona::Coroutine::new), \
         and not from inside a Future::poll, or use the inner value's async API directly."
    ))
}

#[cold]
#[inline(never)]
fn unwinding(op: &str) -> io::Error {
    io::Error::other(format!(
        "corona: {op} was called while the thread unwinds from a panic (or drops a suspended \
         coroutine), when nothing could resume a wait, so it did no I/O. Flush and shut down \
         explicitly before the coroutine ends."
    ))
}

/// `poll_fill_buf` was `Ready` and then `Pending` without a `consume` in between.
#[cold]
#[inline(never)]
fn lost_buffer(op: &str) -> io::Error {
    io::Error::other(format!(
        "corona: {op}: the inner AsyncBufRead returned Pending right after it returned a \
         non-empty buffer, with no consume in between; its buffered data should still be \
         there. Wrap the inner reader in a tokio::io::BufReader (or futures::io::BufReader)."
    ))
}
