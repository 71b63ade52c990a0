//! The contract of `corona::io::Blocking` with scripted async types: errors outside of a
//! coroutine, `Interrupted` retried, one wait per call, waits that let others run, no copy in
//! `fill_buf`, vectored writes, no abort when a panic unwinds through a `BufWriter`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, BufRead, BufWriter, IoSlice, Read, Seek, SeekFrom, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use corona::io::Blocking;
use corona_tests::{finish_within, panic_message};
use futures::FutureExt;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, AsyncWriteExt, ReadBuf};

/// What the next poll of a [`Probe`] does.
enum Step {
    /// `Pending`, after waking itself.
    Pending,
    /// `Err(Interrupted)`.
    Interrupted,
    /// Ready: reads these bytes, or accepts this many bytes of a write.
    Bytes(&'static [u8]),
}

/// A scripted async reader, writer, buffered reader and seeker that counts its polls. When
/// its script runs out it is pending forever (without waking anyone).
#[derive(Default)]
struct Probe {
    script: VecDeque<Step>,
    polls: Arc<AtomicUsize>,
    buffer: &'static [u8],
}

impl Probe {
    fn new(script: impl IntoIterator<Item = Step>) -> (Self, Arc<AtomicUsize>) {
        let probe = Probe {
            script: script.into_iter().collect(),
            ..Probe::default()
        };
        let polls = probe.polls.clone();
        (probe, polls)
    }

    fn next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&'static [u8]>> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        match self.script.pop_front() {
            None => Poll::Pending,
            Some(Step::Pending) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Interrupted) => Poll::Ready(Err(io::ErrorKind::Interrupted.into())),
            Some(Step::Bytes(bytes)) => Poll::Ready(Ok(bytes)),
        }
    }
}

impl AsyncRead for Probe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let bytes = std::task::ready!(self.next(cx))?;
        buf.put_slice(&bytes[..bytes.len().min(buf.remaining())]);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Probe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.next(cx)
            .map_ok(|accepted| accepted.len().min(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.next(cx).map_ok(drop)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.next(cx).map_ok(drop)
    }
}

impl AsyncBufRead for Probe {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.buffer.is_empty() {
            this.buffer = std::task::ready!(this.next(cx))?;
        }
        Poll::Ready(Ok(this.buffer))
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        self.buffer = &self.buffer[amt..];
    }
}

impl AsyncSeek for Probe {
    fn start_seek(self: Pin<&mut Self>, _: SeekFrom) -> io::Result<()> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.next(cx).map_ok(|bytes| bytes.len() as u64)
    }
}

fn assert_outside(result: io::Result<impl std::fmt::Debug>, op: &str) {
    let err = result.expect_err("a call outside of a coroutine must fail");
    assert_eq!(err.kind(), io::ErrorKind::Other, "{op}");
    let message = err.to_string();
    assert!(
        message.contains("outside of a coroutine"),
        "{op}: {message}"
    );
    assert!(
        err.get_ref()
            .is_some_and(|e| e.is::<corona::NotInCoroutine>()),
        "{op}: {err:?} does not carry corona::NotInCoroutine"
    );
}

#[test]
fn every_call_outside_a_coroutine_is_an_error_and_polls_nothing() {
    // The probe never becomes ready: a blocking adapter would hang into the watchdog.
    let polls = finish_within(Duration::from_secs(10), || {
        let (probe, polls) = Probe::new([]);
        let mut io = Blocking::new(probe);
        assert_outside(io.read(&mut [0; 8]), "Blocking::read");
        assert_outside(io.read_exact(&mut [0; 8]), "Blocking::read");
        assert_outside(io.fill_buf().map(<[u8]>::len), "Blocking::fill_buf");
        assert_outside(io.write(b"x"), "Blocking::write");
        assert_outside(
            io.write_vectored(&[IoSlice::new(b"x")]),
            "Blocking::write_vectored",
        );
        assert_outside(io.flush(), "Blocking::flush");
        assert_outside(io.seek(SeekFrom::Start(1)), "Blocking::seek");
        assert_outside(io.shutdown(), "Blocking::shutdown");
        polls.load(Ordering::Relaxed)
    });
    assert_eq!(polls, 0);
}

#[test]
fn inside_the_poll_of_an_awaited_future_it_is_an_error_not_a_panic() {
    let (probe, polls) = Probe::new([Step::Bytes(b"never read")]);
    let result = corona::run(|| {
        let mut io = Blocking::new(probe);
        corona::co_await!(futures::future::poll_fn(|_| Poll::Ready(
            io.read(&mut [0; 8])
        )))
    });
    assert_outside(result, "Blocking::read");
    assert_eq!(polls.load(Ordering::Relaxed), 0);
}

#[test]
fn interrupted_from_the_inner_type_is_retried() {
    let (reader, read_polls) =
        Probe::new([Step::Interrupted, Step::Interrupted, Step::Bytes(b"data")]);
    let (writer, write_polls) = Probe::new([
        Step::Interrupted,
        Step::Bytes(b"123"),
        Step::Interrupted,
        Step::Bytes(b""),
    ]);
    // Any executor: a bare futures executor here.
    // A probe polled past its script stays pending: the watchdog turns that into a failure.
    let (read, wrote) = finish_within(Duration::from_secs(10), || {
        futures::executor::block_on(corona::Coroutine::new(move || {
            let mut buf = [0; 16];
            let n = Blocking::new(reader).read(&mut buf).unwrap();
            let mut writer = Blocking::new(writer);
            let wrote = writer.write(b"hello").unwrap(); // short write: 3 accepted
            writer.flush().unwrap();
            (buf[..n].to_vec(), wrote)
        }))
    });
    assert_eq!(read, b"data");
    assert_eq!(read_polls.load(Ordering::Relaxed), 3);
    assert_eq!(wrote, 3);
    assert_eq!(write_polls.load(Ordering::Relaxed), 4);
}

#[test]
fn one_call_is_one_wait_and_short_reads_are_returned() {
    let (probe, polls) = Probe::new([
        Step::Pending,
        Step::Bytes(b"abc"),
        Step::Pending,
        Step::Pending,
        Step::Bytes(b"de"),
        Step::Bytes(b"fgh"),
    ]);
    let (first, exact) = finish_within(Duration::from_secs(10), || {
        futures::executor::block_on(corona::Coroutine::new(move || {
            let mut io = Blocking::new(probe);
            let mut buf = [0; 100];
            let n = io.read(&mut buf).unwrap();
            let mut exact = [0; 5];
            io.read_exact(&mut exact).unwrap(); // std loops over two short reads
            (buf[..n].to_vec(), exact)
        }))
    });
    assert_eq!(first, b"abc");
    assert_eq!(&exact, b"defgh");
    assert_eq!(polls.load(Ordering::Relaxed), 6);
}

#[test]
fn a_waiting_read_lets_another_coroutine_run() {
    let log = finish_within(Duration::from_secs(10), || {
        let log = Rc::new(RefCell::new(Vec::new()));
        corona::run(|| {
            let (mut tx, rx) = tokio::io::duplex(64);
            let reader = corona::spawn_local({
                let log = log.clone();
                move || {
                    log.borrow_mut().push(String::from("reader: waiting"));
                    let mut buf = [0; 16];
                    let n = Blocking::new(rx).read(&mut buf).unwrap();
                    let got = String::from_utf8_lossy(&buf[..n]).into_owned();
                    log.borrow_mut().push(format!("reader: got {got}"));
                }
            });
            let writer = corona::spawn_local({
                let log = log.clone();
                move || {
                    log.borrow_mut().push(String::from("writer: writing"));
                    corona::co_await!(tx.write_all(b"hello")).unwrap();
                }
            });
            corona::co_await!(writer).unwrap();
            corona::co_await!(reader).unwrap();
        });
        log.take()
    });
    assert_eq!(
        log,
        ["reader: waiting", "writer: writing", "reader: got hello"]
    );
}

#[test]
fn fill_buf_hands_out_the_inner_buffer_without_copying() {
    static TEXT: &[u8] = b"first line\nsecond line\n";
    let (addresses, lines) = finish_within(Duration::from_secs(10), || {
        let (probe, _) = Probe::new([Step::Pending, Step::Bytes(TEXT), Step::Bytes(b"")]);
        futures::executor::block_on(corona::Coroutine::new(move || {
            let mut io = Blocking::new(probe);
            let first = io.fill_buf().unwrap().as_ptr() as usize;
            io.consume(6);
            let second = io.fill_buf().unwrap().as_ptr() as usize;
            let lines = io.lines().collect::<Result<Vec<_>, _>>().unwrap();
            ((first, second), lines)
        }))
    });
    assert_eq!(
        addresses,
        (TEXT.as_ptr() as usize, TEXT.as_ptr() as usize + 6)
    );
    assert_eq!(lines, ["line", "second line"]);
}

#[test]
fn write_vectored_is_forwarded() {
    #[derive(Default)]
    struct Vectored(Vec<usize>);
    impl AsyncWrite for Vectored {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &[u8],
        ) -> Poll<io::Result<usize>> {
            panic!("poll_write_vectored should have been called")
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.0.push(bufs.len());
            Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }
    let (written, calls, vectored) = futures::executor::block_on(corona::Coroutine::new(|| {
        let mut io = Blocking::new(Vectored::default());
        let written = io
            .write_vectored(&[IoSlice::new(b"head"), IoSlice::new(b"body!")])
            .unwrap();
        (written, io.get_ref().0.clone(), io.is_write_vectored())
    }));
    assert_eq!(written, 9);
    assert_eq!(calls, [2]);
    assert!(vectored);
}

#[test]
fn a_panic_unwinding_through_a_bufwriter_does_not_abort() {
    let (probe, polls) = Probe::new([]);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        corona::run(|| {
            let mut out = BufWriter::new(Blocking::new(probe));
            out.write_all(b"buffered, never sent").unwrap();
            panic!("boom");
        })
    }))
    .expect_err("the body panics");
    // The BufWriter's flush on drop got an error (it would have had to wait while unwinding)
    // and ignored it: the original panic came out, and the process did not abort.
    assert_eq!(panic_message(&*caught), "boom");
    assert_eq!(polls.load(Ordering::Relaxed), 0);
}

#[test]
fn dropping_a_suspended_coroutine_with_a_bufwriter_does_not_abort() {
    let (probe, polls) = Probe::new([]);
    let reached = Rc::new(Cell::new(false));
    let mut coroutine = corona::Coroutine::new({
        let reached = reached.clone();
        move || {
            let mut out = BufWriter::new(Blocking::new(probe));
            out.write_all(b"buffered").unwrap();
            reached.set(true);
            corona::co_await!(futures::future::pending::<()>());
        }
    });
    assert!((&mut coroutine).now_or_never().is_none());
    assert!(reached.get());
    drop(coroutine); // unwinds the stack: BufWriter::drop flushes, gets an error, goes on
    assert_eq!(polls.load(Ordering::Relaxed), 0);
}

#[test]
fn an_inner_reader_that_loses_its_buffer_is_reported() {
    /// Breaks the `AsyncBufRead` expectation: ready with data, then pending on the next poll.
    struct Flaky(bool);
    impl AsyncRead for Flaky {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }
    impl AsyncBufRead for Flaky {
        fn poll_fill_buf(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
            self.0 = !self.0;
            if self.0 {
                Poll::Ready(Ok(b"data"))
            } else {
                Poll::Pending
            }
        }
        fn consume(self: Pin<&mut Self>, _: usize) {}
    }
    let err = finish_within(Duration::from_secs(10), || {
        futures::executor::block_on(corona::Coroutine::new(|| {
            Blocking::new(Flaky(false)).fill_buf().map(<[u8]>::len)
        }))
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("returned Pending right after it returned a non-empty buffer"),
        "{err}"
    );
}

#[test]
fn an_empty_write_returns_zero_at_once_without_polling() {
    // As std's sockets and files do; the inner writer would wait for room it does not need.
    let (probe, polls) = Probe::new([Step::Bytes(b"abc")]);
    let (empty, empty_vectored, then) = finish_within(Duration::from_secs(10), || {
        futures::executor::block_on(corona::Coroutine::new(move || {
            let mut io = Blocking::new(probe);
            let empty = io.write(&[]).unwrap();
            let empty_vectored = io.write_vectored(&[IoSlice::new(&[])]).unwrap();
            (empty, empty_vectored, io.write(b"abc").unwrap())
        }))
    });
    assert_eq!((empty, empty_vectored, then), (0, 0, 3));
    assert_eq!(polls.load(Ordering::Relaxed), 1);
}

#[test]
fn an_empty_read_returns_zero_at_once_without_polling() {
    // As std's sockets and files do; the inner reader would wait for data it has no room for.
    let (probe, polls) = Probe::new([Step::Bytes(b"abc")]);
    let (empty, then) = finish_within(Duration::from_secs(10), || {
        futures::executor::block_on(corona::Coroutine::new(move || {
            let mut io = Blocking::new(probe);
            let empty = io.read(&mut []).unwrap();
            let mut buf = [0; 8];
            let n = io.read(&mut buf).unwrap();
            (empty, buf[..n].to_vec())
        }))
    });
    assert_eq!(empty, 0);
    assert_eq!(then, b"abc", "the data is still there for the next read");
    assert_eq!(polls.load(Ordering::Relaxed), 1);
}
