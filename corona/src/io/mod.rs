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
//!   `read_line`, ... loop on top. Nothing is buffered or copied by the adapter: see
//!   [Buffering](#buffering-which-layout) for where a buffer goes.
//! * **No extra copy for `BufRead`.** `fill_buf` hands out the inner `AsyncBufRead`'s own
//!   buffer and `consume` forwards to it. (It waits for readiness keeping only the length,
//!   then borrows the buffer with a second poll that a ready `AsyncBufRead` answers at once.)
//! * **Never blocks the thread.** Outside of a coroutine (or while its coroutine unwinds,
//!   when nothing could resume a wait) every call returns an
//!   [`io::Error`](std::io::Error) and the inner type is not touched: see [Errors](#errors).
//!   It does not panic, so a `BufWriter` flushing in its destructor during a panic is safe.
//!   (One exception: a timeout on a tokio runtime built without time, where tokio's timer
//!   panics, saying to enable it.)
//! * **`Interrupted` is retried.** An `ErrorKind::Interrupted` from the inner type is polled
//!   again, as std's own loops expect of a `Read`/`Write`.
//! * **Dropping does not flush or shut down.** A `Blocking` is a thin view: dropping it drops
//!   the inner value, nothing more (a socket or pipe end then closes as it always does, but
//!   bytes still in a `BufStream`/`BufWriter` are lost). Call `flush`, and shut a writer down
//!   explicitly with [`Blocking::shutdown`], from inside the coroutine.
//!
//! # Timeouts
//!
//! [`Blocking::set_read_timeout`] and [`set_write_timeout`](Blocking::set_write_timeout)
//! work as on [`std::net::TcpStream`], per call: the read timeout covers `read` and
//! `fill_buf`, the write timeout `write`, `flush` and `shutdown`. A call that would wait
//! longer fails with [`TimedOut`](std::io::ErrorKind::TimedOut) and consumes nothing: a
//! timed-out read returns no bytes and loses none, data arriving later is read whole. That
//! is how a sync keep-alive server drops idle or slow clients:
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use std::io::{BufRead, ErrorKind, Write};
//! use std::time::Duration;
//! use corona::io::Blocking;
//!
//! /// Answers each line; returns when the client leaves or stays silent for 50 ms.
//! fn serve(conn: &mut (impl BufRead + Write)) -> std::io::Result<()> {
//!     let mut line = String::new();
//!     loop {
//!         line.clear();
//!         match conn.read_line(&mut line) {
//!             Ok(0) => return Ok(()),
//!             Ok(_) => writeln!(conn, "ok {}", line.trim())?,
//!             Err(e) if e.kind() == ErrorKind::TimedOut => return Ok(()), // idle: close
//!             Err(e) => return Err(e),
//!         }
//!         conn.flush()?;
//!     }
//! }
//!
//! corona::run(|| {
//!     let (client, server) = tokio::io::duplex(64);
//!     let mut conn = Blocking::new(tokio::io::BufStream::new(server));
//!     conn.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
//!     let _client = client; // connected, but never says anything
//!     serve(&mut conn).unwrap(); // returns after 50 ms
//! });
//! ```
//!
//! The timer is tokio's, so timeouts need a tokio runtime with time enabled
//! ([`corona::run`](crate::run)'s is). "Per call" means per underlying call: `read_line`
//! makes one `fill_buf` call per chunk, so a client that trickles a byte at a time within the
//! timeout keeps its connection; the write timeout is the backstop for peers that stop
//! reading.
//!
//! # Interrupts: full duplex on one coroutine
//!
//! A coroutine blocked in `read` cannot send. A server that must push (chat, ticks,
//! broadcasts) attaches an [`Interrupt`] with [`Blocking::set_interrupt`]; whoever has
//! something for the connection queues it and raises the interrupt. **While it is raised**,
//! every call that would wait returns [`WouldBlock`](std::io::ErrorKind::WouldBlock) at
//! once; a call that can make progress without waiting (data already there, a write the
//! socket accepts) is not affected. The owner's loop:
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use std::io::{ErrorKind, Read, Write};
//! use corona::io::{Blocking, Interrupt};
//!
//! corona::run(|| {
//!     let (mut client, server) = tokio::io::duplex(64);
//!     let (queue, mut pending) = tokio::sync::mpsc::unbounded_channel::<&str>();
//!     let interrupt = Interrupt::new();
//!
//!     // Someone else pushes: queue first, then raise.
//!     let push = interrupt.clone();
//!     corona::spawn_local(move || {
//!         queue.send("pushed\n").unwrap();
//!         push.interrupt();
//!     });
//!
//!     let mut conn = Blocking::new(server);
//!     conn.set_interrupt(Some(interrupt.clone()));
//!     let mut buf = [0; 64];
//!     match conn.read(&mut buf) {
//!         Err(e) if e.kind() == ErrorKind::WouldBlock => {
//!             interrupt.clear(); // first clear, then drain: a push after this raises it again
//!             while let Ok(message) = pending.try_recv() {
//!                 conn.write_all(message.as_bytes()).unwrap();
//!             }
//!         }
//!         other => panic!("expected the interrupt, got {other:?}"),
//!     }
//!     // ...then read again.
//!     let mut got = [0; 7];
//!     corona::co_await!(tokio::io::AsyncReadExt::read_exact(&mut client, &mut got)).unwrap();
//!     assert_eq!(&got, b"pushed\n");
//! });
//! ```
//!
//! * **It stays raised until the owner clears it.** A protocol library may swallow one
//!   `WouldBlock` (tungstenite's `read` first flushes pending output and ignores the
//!   `WouldBlock` of that flush); a raised interrupt makes its next wait return too. The
//!   other side of this: **a loop that never clears it spins**, every call returning
//!   `WouldBlock` at once.
//! * **No data is lost, per call.** A call that returns `WouldBlock` transferred nothing.
//!   But `read_exact`, `write_all` and `read_line` loop over several calls, and report
//!   `WouldBlock` without saying how much moved before it (as std does with socket
//!   timeouts): interrupt a framing layer that keeps its own state (tungstenite does), or
//!   plain `read`/`write` calls.
//! * One interrupt may be attached to several `Blocking`s (the two halves of a split
//!   socket): raising it wakes every one that waits. It can be raised from any thread.
//! * `BlockingFutures::set_interrupt` (feature `futures-io`) does the same for
//!   `futures::io` types.
//!
//! `examples/ws_push.rs` is a WebSocket server built this way: sync `tungstenite` over
//! `Blocking<TcpStream>`, one coroutine per connection, echoing and pushing broadcasts.
//!
//! # Buffering: which layout
//!
//! A `Blocking` adds no buffer, and a parser that reads a byte at a time (`serde_json::
//! from_reader`, `byteorder`, most `Read`-based decoders) makes one `Blocking` call per
//! byte unless something buffers below it. Where the buffer goes:
//!
//! * **std's [`BufReader`](std::io::BufReader) outside** —
//!   `std::io::BufReader<Blocking<TcpStream>>` — for byte-at-a-time parsers and anything
//!   that only reads. A byte then costs a slice index in `BufReader`; only a refill goes
//!   through the coroutine machinery. `serde_json::from_reader` over loopback TCP runs
//!   clearly faster this way than with the buffer inside, and close to reading the whole
//!   document first and parsing the slice (`cargo bench -p corona --bench io`; the figures
//!   are in the repository's `BENCHMARKS.md`).
//! * **tokio's `BufStream` (or `BufReader`) inside** —
//!   `Blocking<tokio::io::BufStream<TcpStream>>` — when one value must be both `BufRead` and
//!   `Write` (a line or HTTP server answering on the same connection), or for `read_line`
//!   and `lines`, which consume whole chunks of the buffer per call anyway.
//!
//! Writers follow the same rule: `std::io::BufWriter` outside for many small writes, and
//! remember to `flush` before the coroutine waits for an answer.
//!
//! # Errors
//!
//! Besides the inner type's own errors, a call returns:
//!
//! * outside of a coroutine (or from inside the `Future::poll` of a future that `co_await!`
//!   drives), an error of kind `Other` whose [`get_ref`](std::io::Error::get_ref) downcasts to
//!   [`NotInCoroutine`](crate::NotInCoroutine);
//! * while its coroutine unwinds (a panic, or a drop while suspended), one that downcasts to
//!   [`Unwinding`];
//! * `TimedOut` past a [timeout](#timeouts), `WouldBlock` while an
//!   [interrupt](#interrupts-full-duplex-on-one-coroutine) is raised.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use std::io::Read;
//!
//! let (_a, b) = tokio::io::duplex(8);
//! let err = corona::io::Blocking::new(b).read(&mut [0; 8]).unwrap_err(); // no coroutine
//! match err.get_ref().and_then(|e| e.downcast_ref::<corona::NotInCoroutine>()) {
//!     Some(corona::NotInCoroutine) => {} // run it inside one
//!     None => panic!("another error: {err}"),
//! }
//! ```
//!
//! With the `futures-io` feature, `BlockingFutures<T>` does the same for the
//! `futures::io` traits (smol, async-std), interrupts included (timeouts are tokio's). It is
//! a separate type because one type cannot implement `Read` both for every tokio reader and
//! for every futures reader (a value could be both).

mod errors;
mod interrupt;
mod wait_io;

#[cfg(feature = "tokio")]
mod blocking;
#[cfg(feature = "futures-io")]
mod with_futures;
#[cfg(feature = "tokio")]
mod with_tokio;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use blocking::Blocking;
pub use errors::Unwinding;
pub use interrupt::Interrupt;
#[cfg(feature = "futures-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures-io")))]
pub use with_futures::BlockingFutures;
