//! flate2 gzip through a 64-byte `tokio::io::duplex` pipe: the encoder and the decoder are
//! sync code in two coroutines on one thread, so neither can finish unless the other runs
//! while it waits.

use std::io::{Read, Write};
use std::time::Duration;

use corona::io::Blocking;
use corona_tests::{finish_within, panic_message};
use flate2::{read::GzDecoder, write::GzEncoder, Compression};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Text that compresses, but not to almost nothing: a few hundred KiB of pseudo-random words.
fn sample_text() -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "corona", "stack", "future", "poll", "gzip", "pipe", "sync", "io",
    ];
    let mut seed = 0x2545_f491_u64;
    let mut text = Vec::new();
    for i in 0..40_000 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        text.extend_from_slice(WORDS[(seed >> 33) as usize % WORDS.len()].as_bytes());
        text.extend_from_slice(if i % 12 == 11 { b"\n" } else { b" " });
    }
    text
}

/// Encodes `text` into one end of a `duplex(64)` and decodes it from the other, in two
/// coroutines; returns the decoded bytes and how many compressed bytes crossed the pipe.
fn roundtrip<W, R>(
    text: Vec<u8>,
    writer: fn(DuplexStream) -> W,
    reader: fn(DuplexStream) -> R,
) -> (Vec<u8>, usize)
where
    W: Write + 'static,
    R: Read + 'static,
{
    corona::run(|| {
        let (tx, rx) = tokio::io::duplex(64);
        let encode = spawn_big(move || {
            let mut gz = GzEncoder::new(CountingWriter(writer(tx), 0), Compression::fast());
            for chunk in text.chunks(1000) {
                gz.write_all(chunk).unwrap();
            }
            // Dropping our end of the pipe (inside the writer) ends the reader's stream.
            gz.finish().unwrap().1
        });
        let decode = spawn_big(move || {
            let mut decoded = Vec::new();
            GzDecoder::new(reader(rx))
                .read_to_end(&mut decoded)
                .unwrap();
            decoded
        });
        // The timeout catches an adapter that suspends but is never woken (a lost wakeup, or
        // both coroutines waiting on each other). It cannot catch an adapter that blocks the
        // thread, because then the timer never runs: `finish_within` around the test does.
        let both = futures::future::join(encode, decode);
        let (compressed, decoded) =
            corona::co_await!(tokio::time::timeout(Duration::from_secs(10), both))
                .expect("the gzip pipe deadlocked");
        (decoded.unwrap(), compressed.unwrap())
    })
}

/// flate2's (de)compressor state is built on the stack before it is boxed: in debug builds
/// that takes more than corona's default 256 KiB stack.
fn spawn_big<T: 'static>(body: impl FnOnce() -> T + 'static) -> tokio::task::JoinHandle<T> {
    tokio::task::spawn_local(corona::Builder::new().stack_size(2 << 20).build(body))
}

struct CountingWriter<W>(W, usize);

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1 += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[test]
fn gzip_encodes_and_decodes_through_a_64_byte_duplex_in_two_coroutines() {
    let text = sample_text();
    let expected = text.clone();
    let (decoded, compressed) = finish_within(Duration::from_secs(30), move || {
        roundtrip(text, Blocking::new, Blocking::new)
    });
    assert_eq!(decoded.len(), expected.len());
    assert!(decoded == expected, "the decoded text differs");
    // Far more than the pipe's capacity crossed it: the two coroutines took turns.
    assert!(compressed > 100 * 64, "only {compressed} compressed bytes");
}

/// The test above can fail: the same pipeline over an adapter that blocks the thread
/// (`futures::executor::block_on` on each operation) hangs, and the watchdog reports it.
#[test]
fn a_thread_blocking_adapter_hangs_into_the_watchdog() {
    let caught = std::panic::catch_unwind(|| {
        finish_within(Duration::from_millis(500), || {
            roundtrip(sample_text(), BlockOn, BlockOn)
        })
    })
    .expect_err("a thread-blocking adapter cannot complete the gzip pipe");
    let message = panic_message(&*caught);
    assert!(message.contains("did not finish within 500ms"), "{message}");
}

/// What `Blocking` must not be: it waits by blocking the thread.
struct BlockOn(DuplexStream);

impl Read for BlockOn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        futures::executor::block_on(self.0.read(buf))
    }
}

impl Write for BlockOn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        futures::executor::block_on(self.0.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        futures::executor::block_on(self.0.flush())
    }
}
