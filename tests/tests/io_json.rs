//! `serde_json::from_reader` over a loopback `TcpStream`, fed a large document in small
//! chunks by another coroutine on the same thread.

use std::cell::Cell;
use std::io::{BufReader, Read, Write};
use std::rc::Rc;
use std::time::Duration;

use corona::co_await;
use corona::io::Blocking;
use corona_tests::{co_await_within, finish_within};
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: f64,
}

fn records(n: u64) -> Vec<Record> {
    (0..n)
        .map(|id| Record {
            id,
            name: format!("record number {id}"),
            tags: (0..id % 5).map(|t| format!("tag-{t}")).collect(),
            score: id as f64 * 0.25, // exact in binary: survives the text round trip
        })
        .collect()
}

/// Counts the bytes read through it, for the writer to wait on.
struct Counted<R> {
    inner: R,
    read: Rc<Cell<usize>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n);
        Ok(n)
    }
}

#[test]
fn from_reader_parses_a_large_document_written_in_small_chunks() {
    let parsed = finish_within(Duration::from_secs(30), || {
        corona::run(|| {
            let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
            let addr = listener.local_addr().unwrap();
            let document = serde_json::to_vec(&records(3_000)).unwrap();
            let total = document.len();
            let read = Rc::new(Cell::new(0));

            let parser = corona::spawn_local({
                let read = Rc::clone(&read);
                move || {
                    let (stream, _) = co_await!(listener.accept()).unwrap();
                    let stream = Counted {
                        inner: Blocking::new(stream),
                        read,
                    };
                    serde_json::from_reader::<_, Vec<Record>>(BufReader::new(stream)).unwrap()
                }
            });

            let writer = corona::spawn_local({
                let read = Rc::clone(&read);
                move || {
                    let mut out = Blocking::new(co_await!(TcpStream::connect(addr)).unwrap());
                    for (i, chunk) in document.chunks(61).enumerate() {
                        out.write_all(chunk).unwrap();
                        // Every 64 chunks, wait until the parser has read most of what was sent.
                        // This only finishes if the parser runs while this coroutine waits.
                        if i % 64 == 63 {
                            let target = (i - 32) * 61;
                            while read.get() < target {
                                corona::yield_now();
                            }
                        }
                    }
                    out.shutdown().unwrap();
                }
            });

            let both = futures::future::join(parser, writer);
            let (parsed, written) = co_await_within(Duration::from_secs(20), both);
            written.unwrap();
            // Every byte went through the socket and was consumed by the parser.
            assert_eq!(read.get(), total, "bytes the parser read");
            parsed.unwrap()
        })
    });
    let expected = records(3_000);
    assert_eq!(parsed.len(), expected.len());
    assert!(parsed == expected, "the parsed records differ");
}
