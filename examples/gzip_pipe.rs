//! gzip through a 64-byte in-memory pipe: a flate2 encoder and a flate2 decoder, plain sync
//! code, each in its own coroutine on one thread. The pipe holds 64 bytes, so the two take
//! turns thousands of times; neither blocks the thread.
//!
//! `cargo run --example gzip_pipe`

use std::io::{BufRead, BufReader, Write};

use corona::io::Blocking;
use flate2::{read::GzDecoder, write::GzEncoder, Compression};

/// flate2 builds its compressor state on the stack before boxing it: in debug builds that
/// needs more than corona's default 256 KiB stack.
const STACK: usize = 1024 * 1024;

fn main() {
    corona::run(|| {
        let (tx, rx) = tokio::io::duplex(64);

        let producer = corona::Builder::new().stack_size(STACK).build(move || {
            let mut gz = GzEncoder::new(Blocking::new(tx), Compression::default());
            let mut plain = 0;
            for i in 0..20_000 {
                let line = format!("line {i}: the quick brown fox jumps over the lazy dog\n");
                gz.write_all(line.as_bytes()).unwrap();
                plain += line.len();
            }
            gz.finish().unwrap(); // the pipe's end is dropped: end of stream for the reader
            plain
        });

        let consumer = corona::Builder::new().stack_size(STACK).build(move || {
            let decoded = BufReader::new(GzDecoder::new(Blocking::new(rx)));
            let (mut lines, mut bytes, mut last) = (0, 0, String::new());
            for line in decoded.lines() {
                let line = line.unwrap();
                lines += 1;
                bytes += line.len() + 1;
                last = line;
            }
            (lines, bytes, last)
        });

        let producer = tokio::task::spawn_local(producer);
        let consumer = tokio::task::spawn_local(consumer);
        let plain = corona::co_await!(producer).unwrap();
        let (lines, bytes, last) = corona::co_await!(consumer).unwrap();
        println!("producer: gzip-encoded {plain} bytes of text into a 64-byte duplex pipe");
        println!("consumer: decoded {lines} lines, {bytes} bytes; the last one reads {last:?}");
        assert_eq!(bytes, plain);
        println!("both ran as sync code in two coroutines on one thread");
    });
}
