//! flate2 gzip through a 64-byte `tokio::io::duplex` pipe: the encoder and the decoder are
//! sync code in two coroutines on one thread, so neither can finish unless the other runs
//! while it waits.

use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::time::Duration;

use corona::io::Blocking;
use corona_tests::{co_await_within, finish_within};
use flate2::{read::GzDecoder, write::GzEncoder, Compression};

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

/// Which end of the pipe made the last call, and how often that changed.
#[derive(Default)]
struct Turns {
    last_was_writer: Cell<Option<bool>>,
    switches: Cell<usize>,
}

impl Turns {
    fn record(&self, writer: bool) {
        if self.last_was_writer.replace(Some(writer)) == Some(!writer) {
            self.switches.set(self.switches.get() + 1);
        }
    }
}

/// Records each call on one end of the pipe in [`Turns`], and the bytes that crossed.
struct Logged<T> {
    inner: T,
    turns: Rc<Turns>,
    bytes: usize,
}

impl<T: Write> Write for Logged<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.turns.record(true);
        self.bytes += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<T: Read> Read for Logged<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.turns.record(false);
        self.bytes += n;
        Ok(n)
    }
}

/// flate2's (de)compressor state is built on the stack before it is boxed: in debug builds
/// that takes more than corona's default 256 KiB stack.
fn spawn_big<T: 'static>(body: impl FnOnce() -> T + 'static) -> tokio::task::JoinHandle<T> {
    tokio::task::spawn_local(corona::Builder::new().stack_size(2 << 20).build(body))
}

#[test]
fn gzip_encodes_and_decodes_through_a_64_byte_duplex_in_two_coroutines() {
    let text = sample_text();
    let expected = text.clone();
    let (decoded, compressed, received, switches) =
        finish_within(Duration::from_secs(30), move || {
            corona::run(|| {
                let (tx, rx) = tokio::io::duplex(64);
                let turns = Rc::new(Turns::default());
                let writer = Logged {
                    inner: Blocking::new(tx),
                    turns: turns.clone(),
                    bytes: 0,
                };
                let encode = spawn_big(move || {
                    let mut gz = GzEncoder::new(writer, Compression::fast());
                    for chunk in text.chunks(1000) {
                        gz.write_all(chunk).unwrap();
                    }
                    // Dropping our end of the pipe (inside the writer) ends the reader's
                    // stream.
                    gz.finish().unwrap().bytes
                });
                let reader = Logged {
                    inner: Blocking::new(rx),
                    turns: turns.clone(),
                    bytes: 0,
                };
                let decode = spawn_big(move || {
                    let mut gz = GzDecoder::new(reader);
                    let mut decoded = Vec::new();
                    let n = gz.read_to_end(&mut decoded).unwrap();
                    assert_eq!(n, decoded.len());
                    (decoded, gz.into_inner().bytes)
                });
                let both = futures::future::join(encode, decode);
                let (compressed, decoded) = co_await_within(Duration::from_secs(10), both);
                let (decoded, received) = decoded.unwrap();
                (decoded, compressed.unwrap(), received, turns.switches.get())
            })
        });
    assert_eq!(decoded.len(), expected.len());
    assert!(decoded == expected, "the decoded text differs");
    assert_eq!(
        received, compressed,
        "every compressed byte crossed the pipe"
    );
    // At most 64 bytes fit in the pipe: the two coroutines took turns at least once per
    // 64 bytes (each turn a wait of one while the other ran, on one thread).
    assert!(compressed > 100 * 64, "only {compressed} compressed bytes");
    assert!(
        switches >= compressed / 64,
        "{switches} turns for {compressed} bytes through a 64-byte pipe"
    );
}
