//! `corona::io::BlockingFutures` (feature `futures-io`): std I/O over `futures::io` types, here
//! tokio sockets seen through `tokio_util::compat` and `futures::io` in-memory types.

use std::io::{BufRead, IoSliceMut, Read, Seek, SeekFrom, Write};
use std::time::Duration;

use corona::co_await;
use corona::io::BlockingFutures;
use corona_tests::{co_await_within, finish_within};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::compat::TokioAsyncReadCompatExt;

#[test]
fn serde_json_and_lines_over_a_futures_io_socket() {
    let (value, lines) = finish_within(Duration::from_secs(30), || {
        corona::run(|| {
            let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
            let addr = listener.local_addr().unwrap();
            let sender = corona::spawn_local(move || {
                let stream = co_await!(TcpStream::connect(addr)).unwrap();
                let mut out = BlockingFutures::new(stream.compat());
                let items: Vec<u32> = (0..20_000).collect();
                serde_json::to_writer(&mut out, &serde_json::json!({ "items": items })).unwrap();
                out.write_all(b"\nafter the document\nlast line\n").unwrap();
                out.close().unwrap();
            });
            let receiver = corona::spawn_local(move || {
                let (stream, _) = co_await!(listener.accept()).unwrap();
                let mut input = BlockingFutures::new(futures::io::BufReader::new(stream.compat()));
                // The document ends at its closing brace; a Deserializer leaves the rest.
                let mut de = serde_json::Deserializer::from_reader(&mut input);
                let value: serde_json::Value = serde::Deserialize::deserialize(&mut de).unwrap();
                let lines: Vec<String> = input.lines().map(Result::unwrap).collect();
                (value, lines)
            });
            let both = futures::future::join(sender, receiver);
            let (sent, received) = co_await_within(Duration::from_secs(20), both);
            sent.unwrap();
            received.unwrap()
        })
    });
    let items = value["items"].as_array().unwrap();
    assert_eq!(items.len(), 20_000);
    assert_eq!(items[19_999], 19_999);
    assert_eq!(lines, ["", "after the document", "last line"]);
}

#[test]
fn seek_and_vectored_reads_over_a_futures_cursor() {
    let (vectored, tail, position) = finish_within(Duration::from_secs(10), || {
        futures::executor::block_on(corona::Coroutine::new(|| {
            let mut file = BlockingFutures::new(futures::io::Cursor::new(b"0123456789".to_vec()));
            assert_eq!(file.seek(SeekFrom::Start(2)).unwrap(), 2);
            let (mut a, mut b) = ([0; 3], [0; 2]);
            let n = file
                .read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
                .unwrap();
            assert_eq!(file.seek(SeekFrom::End(-2)).unwrap(), 8);
            let mut tail = String::new();
            file.read_to_string(&mut tail).unwrap();
            let position = file.stream_position().unwrap();
            ((n, a, b), tail, position)
        }))
    });
    assert_eq!(vectored, (5, *b"234", *b"56"));
    assert_eq!(tail, "89");
    assert_eq!(position, 10);
}

#[test]
fn outside_a_coroutine_every_call_is_an_error() {
    let mut io = BlockingFutures::new(futures::io::Cursor::new(vec![1, 2, 3]));
    for err in [
        io.read(&mut [0; 4]).unwrap_err(),
        io.write(b"x").unwrap_err(),
        io.flush().unwrap_err(),
        io.seek(SeekFrom::Start(0)).unwrap_err(),
        io.close().unwrap_err(),
    ] {
        assert!(err.to_string().contains("outside of a coroutine"), "{err}");
    }
    // Nothing was read, written or moved.
    assert_eq!(io.get_ref().position(), 0);
    assert_eq!(io.into_inner().into_inner(), [1, 2, 3]);
}

#[test]
fn an_empty_read_returns_zero_at_once() {
    // On a silent socket, where the inner reader would wait for data (for ever, here)
    // although it has no room to return any.
    let (empty, empty_vectored) = finish_within(Duration::from_secs(5), || {
        corona::run(|| {
            let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
            let addr = listener.local_addr().unwrap();
            let _client = co_await!(TcpStream::connect(addr)).unwrap();
            let (stream, _) = co_await!(listener.accept()).unwrap();
            let mut input = BlockingFutures::new(stream.compat());
            let empty = input.read(&mut []).unwrap();
            let empty_vectored = input
                .read_vectored(&mut [IoSliceMut::new(&mut []), IoSliceMut::new(&mut [])])
                .unwrap();
            (empty, empty_vectored)
        })
    });
    assert_eq!((empty, empty_vectored), (0, 0));
}

/// A `futures::io` reader and writer over a few bytes that counts the times it is polled.
struct CountsPolls {
    data: &'static [u8],
    polls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CountsPolls {
    fn new(data: &'static [u8]) -> (Self, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let polls = std::sync::Arc::default();
        let io = CountsPolls {
            data,
            polls: std::sync::Arc::clone(&polls),
        };
        (io, polls)
    }
}

impl futures::io::AsyncRead for CountsPolls {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.polls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        std::task::Poll::Ready(Ok(n))
    }
}

impl futures::io::AsyncWrite for CountsPolls {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.polls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[test]
fn a_vectored_read_with_an_empty_buffer_first_still_reads() {
    // Only buffers that are all empty short-cut to `Ok(0)`; one empty buffer among others
    // is no end of file.
    let (io, polls) = CountsPolls::new(b"abc");
    let read = futures::executor::block_on(corona::Coroutine::new(move || {
        let mut input = BlockingFutures::new(io);
        let mut buf = [0; 8];
        let n = input
            .read_vectored(&mut [IoSliceMut::new(&mut []), IoSliceMut::new(&mut buf)])
            .unwrap();
        buf[..n].to_vec()
    }));
    assert_eq!(read, b"abc");
    assert_eq!(polls.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn an_empty_vectored_write_returns_zero_without_polling() {
    // As std's sockets and files do; the inner writer might wait for room it does not need.
    // Buffers that are not all empty are written.
    use std::io::IoSlice;
    let (io, polls) = CountsPolls::new(b"");
    let written = futures::executor::block_on(corona::Coroutine::new(move || {
        let mut out = BlockingFutures::new(io);
        let empty = out
            .write_vectored(&[IoSlice::new(&[]), IoSlice::new(&[])])
            .unwrap();
        let then = out
            .write_vectored(&[IoSlice::new(&[]), IoSlice::new(b"ab")])
            .unwrap();
        (empty, then)
    }));
    assert_eq!(written, (0, 2));
    assert_eq!(polls.load(std::sync::atomic::Ordering::Relaxed), 1);
}
