//! `corona::io::Blocking` against native tokio async I/O, measured in the same run on one
//! current-thread runtime:
//!
//! 1. read throughput over one `tokio::io::duplex` pipe: `Blocking::read` in a coroutine
//!    against `AsyncReadExt::read` in a task, with the same native writer;
//! 2. a line echo server over loopback TCP: sync handlers (`Blocking<BufStream>`,
//!    `read_line` + `write_all` + `flush`) in coroutines against the same handler written
//!    with tokio's async extension traits; the same native clients drive both;
//! 3. buffering: `serde_json::from_reader` (a byte-at-a-time parser) on a 14 MB document over
//!    loopback TCP, with std's `BufReader` outside the `Blocking` against tokio's `BufReader`
//!    inside it, and, as the floor, native `read_to_end` then `serde_json::from_slice`.
//!
//! Reports medians of `REPS` repetitions (corona and native interleaved) and the median of
//! the per-repetition ratios.
//! `cargo bench -p corona --bench io`

use std::io::{BufRead, Read, Write};
use std::sync::OnceLock;
use std::time::Instant;

use corona::co_await;
use corona::io::Blocking;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::{TcpListener, TcpStream};

const REPS: usize = 9;

const PIPE_CAPACITY: usize = 64 * 1024;
const PIPE_TOTAL: usize = 256 * 1024 * 1024;
mod support;

const CHUNK: usize = 16 * 1024;
/// Small reads show the per-call cost rather than memcpy.
const SMALL_READ: usize = 64;
const SMALL_TOTAL: usize = 16 * 1024 * 1024;

const CONNECTIONS: usize = 50;
const REQUESTS: usize = 400;

/// Writes `total` bytes into the pipe from a native task.
fn spawn_writer(mut tx: tokio::io::DuplexStream, total: usize) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_local(async move {
        let chunk = vec![7u8; CHUNK];
        for _ in 0..total / CHUNK {
            tx.write_all(&chunk).await.unwrap();
        }
    })
}

/// MB/s of `Blocking::read` in a coroutine, `read_size` bytes at a time.
fn pipe_corona(total: usize, read_size: usize) -> f64 {
    let (tx, rx) = tokio::io::duplex(PIPE_CAPACITY);
    let start = Instant::now();
    let writer = spawn_writer(tx, total);
    let reader = corona::spawn_local(move || {
        let mut rx = Blocking::new(rx);
        let mut buf = vec![0; read_size];
        let mut total = 0;
        loop {
            match rx.read(&mut buf).unwrap() {
                0 => break total,
                n => total += n,
            }
        }
    });
    assert_eq!(co_await!(reader).unwrap(), total);
    co_await!(writer).unwrap();
    total as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// MB/s of `AsyncReadExt::read` in a task, `read_size` bytes at a time.
fn pipe_native(total: usize, read_size: usize) -> f64 {
    let (tx, mut rx) = tokio::io::duplex(PIPE_CAPACITY);
    let start = Instant::now();
    let writer = spawn_writer(tx, total);
    let reader = tokio::task::spawn_local(async move {
        let mut buf = vec![0; read_size];
        let mut total = 0;
        loop {
            match rx.read(&mut buf).await.unwrap() {
                0 => break total,
                n => total += n,
            }
        }
    });
    assert_eq!(co_await!(reader).unwrap(), total);
    co_await!(writer).unwrap();
    total as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// The sync handler: echoes every line.
fn echo_sync(stream: TcpStream) {
    let mut conn = Blocking::new(BufStream::new(stream));
    let mut line = String::new();
    while conn.read_line(&mut line).unwrap() > 0 {
        conn.write_all(line.as_bytes()).unwrap();
        conn.flush().unwrap();
        line.clear();
    }
}

/// The same handler, native async.
async fn echo_async(stream: TcpStream) {
    let mut conn = BufStream::new(stream);
    let mut line = String::new();
    while conn.read_line(&mut line).await.unwrap() > 0 {
        conn.write_all(line.as_bytes()).await.unwrap();
        conn.flush().await.unwrap();
        line.clear();
    }
}

/// Native client: `REQUESTS` request/response round trips.
async fn client(addr: std::net::SocketAddr) {
    let mut conn = BufStream::new(TcpStream::connect(addr).await.unwrap());
    let mut reply = String::new();
    for i in 0..REQUESTS {
        let request = format!("request {i}\n");
        conn.write_all(request.as_bytes()).await.unwrap();
        conn.flush().await.unwrap();
        reply.clear();
        conn.read_line(&mut reply).await.unwrap();
        assert_eq!(reply, request);
    }
}

/// Requests per second of a line server whose handlers `serve` spawns.
fn line_server(serve: fn(TcpStream)) -> f64 {
    let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let start = Instant::now();
    let acceptor = tokio::task::spawn_local(async move {
        for _ in 0..CONNECTIONS {
            let (stream, _) = listener.accept().await.unwrap();
            serve(stream);
        }
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::task::spawn_local(client(addr)))
        .collect();
    co_await!(futures::future::try_join_all(clients)).unwrap();
    let elapsed = start.elapsed();
    co_await!(acceptor).unwrap();
    (CONNECTIONS * REQUESTS) as f64 / elapsed.as_secs_f64()
}

fn serve_corona(stream: TcpStream) {
    corona::spawn_local(move || echo_sync(stream));
}

fn serve_native(stream: TcpStream) {
    tokio::task::spawn_local(echo_async(stream));
}

/// A JSON document of about 14 MB: an array of small records.
fn document() -> &'static [u8] {
    static DOCUMENT: OnceLock<Vec<u8>> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = String::from("[");
        for i in 0..140_000 {
            if i > 0 {
                doc.push(',');
            }
            doc.push_str(&format!(
                r#"{{"id":{i},"name":"record number {i}","tags":["alpha","beta","gamma"],"score":{}.5,"ok":true}}"#,
                i % 977
            ));
        }
        doc.push(']');
        doc.into_bytes()
    })
}

/// Sends the document over a fresh loopback connection and parses it with `parse`, run in a
/// coroutine on the accepted socket; returns MB/s.
fn json_over_tcp(parse: JsonParse) -> f64 {
    let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let start = Instant::now();
    let sender = tokio::task::spawn_local(async move {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(document()).await.unwrap();
    });
    let (stream, _) = co_await!(listener.accept()).unwrap();
    let items = co_await!(corona::spawn_local(move || parse(stream))).unwrap();
    co_await!(sender).unwrap();
    assert_eq!(items, 140_000);
    document().len() as f64 / 1e6 / start.elapsed().as_secs_f64()
}

fn items(value: serde_json::Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// std's `BufReader` outside: a byte is a slice index, a refill one `Blocking::read`.
fn json_std_bufreader_outside(stream: TcpStream) -> usize {
    let reader = std::io::BufReader::new(Blocking::new(stream));
    items(serde_json::from_reader(reader).unwrap())
}

/// tokio's `BufReader` inside: every byte is one `Blocking::read` call.
fn json_tokio_bufreader_inside(stream: TcpStream) -> usize {
    let reader = Blocking::new(tokio::io::BufReader::new(stream));
    items(serde_json::from_reader(reader).unwrap())
}

/// The floor: read everything natively, then parse the slice.
fn json_read_all_then_parse(mut stream: TcpStream) -> usize {
    let mut all = Vec::with_capacity(document().len());
    co_await!(stream.read_to_end(&mut all)).unwrap();
    items(serde_json::from_slice(&all).unwrap())
}

/// Parses the document from a socket and returns the number of records.
type JsonParse = fn(TcpStream) -> usize;

fn buffering() {
    let variants: [(&str, JsonParse); 3] = [
        (
            "std BufReader<Blocking<TcpStream>> (outside)",
            json_std_bufreader_outside,
        ),
        (
            "Blocking<tokio BufReader<TcpStream>> (inside)",
            json_tokio_bufreader_inside,
        ),
        (
            "floor: native read_to_end + from_slice",
            json_read_all_then_parse,
        ),
    ];
    for (_, parse) in variants {
        json_over_tcp(parse); // warm-up
    }
    let mut samples = vec![Vec::new(); variants.len()];
    for _ in 0..REPS {
        for (samples, (_, parse)) in samples.iter_mut().zip(variants) {
            samples.push(json_over_tcp(parse));
        }
    }
    let medians: Vec<f64> = samples.into_iter().map(support::median).collect();
    println!(
        "serde_json::from_reader, {:.1} MB document over loopback TCP",
        document().len() as f64 / 1e6
    );
    for ((name, _), median) in variants.iter().zip(&medians) {
        println!("  {name:<48} {median:>8.0} MB/s");
    }
    println!(
        "  ratio outside/inside:                            {:>8.2}",
        medians[0] / medians[1]
    );
    println!(
        "  ratio outside/floor:                             {:>8.2}",
        medians[0] / medians[2]
    );
}

fn compare(name: &str, unit: &str, corona: fn() -> f64, native: fn() -> f64) {
    // Warm up both (stack pool, socket buffers, page faults).
    corona();
    native();
    let (mut c, mut n, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..REPS {
        let (corona, native) = (corona(), native());
        c.push(corona);
        n.push(native);
        ratios.push(corona / native);
    }
    let (c, n) = (support::median(c), support::median(n));
    println!("{name}");
    println!("  corona (sync over Blocking): {c:>12.0} {unit}");
    println!("  native tokio async:          {n:>12.0} {unit}");
    // The median of the per-round ratios: steadier on a noisy machine than `c / n`.
    println!(
        "  ratio corona/native:         {:>12.2}",
        support::median(ratios)
    );
}

fn main() {
    corona::run(|| {
        println!(
            "medians of {REPS} runs; pipe: {} MiB through duplex({} KiB), {} KiB reads; \
             line server: {CONNECTIONS} connections x {REQUESTS} requests, one thread",
            PIPE_TOTAL >> 20,
            PIPE_CAPACITY >> 10,
            CHUNK >> 10
        );
        compare(
            "duplex read throughput, 16 KiB reads",
            "MB/s",
            || pipe_corona(PIPE_TOTAL, CHUNK),
            || pipe_native(PIPE_TOTAL, CHUNK),
        );
        compare(
            "duplex read throughput, 64-byte reads (16 MiB)",
            "MB/s",
            || pipe_corona(SMALL_TOTAL, SMALL_READ),
            || pipe_native(SMALL_TOTAL, SMALL_READ),
        );
        compare(
            "line echo server over loopback TCP",
            "requests/s",
            || line_server(serve_corona),
            || line_server(serve_native),
        );
        buffering();
    });
}
