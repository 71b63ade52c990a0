//! A multi-core line-protocol server on `corona::Pool`, and its client, in one process.
//!
//! * One acceptor thread takes connections with a plain blocking `std::net::TcpListener` and
//!   hands each `std::net::TcpStream` (it is `Send`) to the least busy pool worker.
//! * On the worker, the connection becomes a tokio `TcpStream` and is served by plain sync
//!   functions that wait with `co_await!`: one coroutine per connection, many per worker.
//! * The client runs in `corona::run` on the main thread: a few coroutines, one per
//!   connection, talk to the server concurrently and check every reply.
//!
//! Protocol, one command per line: `ADD a b`, `UPPER text`, `SLEEP ms`, `WHO` (the worker's
//! thread name), `QUIT`. Run: `cargo run --example pool_server`.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use corona::{co_await, Pool, PoolJoinHandle};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

const CLIENTS: usize = 8;

/// What the server learned from one connection.
struct Served {
    worker: String,
    commands: usize,
}

// ---- server -------------------------------------------------------------------------------

/// Serves one connection on a pool worker, as plain sync code.
fn serve(stream: std::net::TcpStream) -> std::io::Result<Served> {
    stream.set_nonblocking(true)?; // tokio needs it; the worker's runtime drives the socket
    let (reader, mut writer) = TcpStream::from_std(stream)?.into_split();
    let mut reader = BufReader::new(reader);
    let worker = std::thread::current().name().unwrap_or("?").to_owned();
    let mut commands = 0;
    while let Some(line) = read_line(&mut reader)? {
        commands += 1;
        let (reply, quit) = answer(&line, &worker);
        write_line(&mut writer, &reply)?;
        if quit {
            break;
        }
    }
    Ok(Served { worker, commands })
}

/// One command's reply, and whether the connection ends.
fn answer(line: &str, worker: &str) -> (String, bool) {
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    let reply = match command {
        "ADD" => match rest
            .split_whitespace()
            .map(str::parse::<i64>)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(numbers) => format!("SUM {}", numbers.iter().sum::<i64>()),
            Err(err) => format!("ERR ADD takes integers: {err}"),
        },
        "UPPER" => rest.to_uppercase(),
        "SLEEP" => match rest.parse::<u64>() {
            Ok(ms) => {
                // Waits without blocking the worker: its other connections keep going.
                co_await!(tokio::time::sleep(Duration::from_millis(ms)));
                format!("SLEPT {ms}")
            }
            Err(err) => format!("ERR SLEEP takes milliseconds: {err}"),
        },
        "WHO" => worker.to_owned(),
        "QUIT" => return ("BYE".to_owned(), true),
        other => format!("ERR unknown command {other:?}"),
    };
    (reply, false)
}

fn read_line(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    let n = co_await!(reader.read_line(&mut line))?;
    Ok((n > 0).then(|| line.trim_end().to_owned()))
}

fn write_line(writer: &mut OwnedWriteHalf, line: &str) -> std::io::Result<()> {
    co_await!(writer.write_all(format!("{line}\n").as_bytes()))
}

/// The acceptor: takes `connections` connections and hands each to the pool.
fn accept(
    listener: TcpListener,
    pool: corona::PoolHandle,
    connections: usize,
) -> Vec<PoolJoinHandle<std::io::Result<Served>>> {
    listener
        .incoming()
        .take(connections)
        .map(|stream| {
            let stream = stream.expect("accept a connection");
            pool.spawn(move || serve(stream))
        })
        .collect()
}

// ---- client -------------------------------------------------------------------------------

/// One client connection: sends a few commands, checks the replies, returns a transcript.
fn client(addr: SocketAddr, id: usize) -> std::io::Result<String> {
    let stream = co_await!(TcpStream::connect(addr))?;
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut ask = |command: String| -> std::io::Result<String> {
        write_line(&mut writer, &command)?;
        let reply = read_line(&mut reader)?.expect("the server replies before closing");
        Ok(reply)
    };
    let worker = ask("WHO".into())?;
    assert_eq!(
        ask(format!("ADD {id} 10 100"))?,
        format!("SUM {}", id + 110)
    );
    assert_eq!(ask(format!("UPPER client {id}"))?, format!("CLIENT {id}"));
    assert_eq!(ask("SLEEP 30".into())?, "SLEPT 30");
    assert!(ask("FLY".into())?.starts_with("ERR unknown command"));
    assert_eq!(ask("QUIT".into())?, "BYE");
    Ok(format!("client {id}: served by {worker}, 6 commands ok"))
}

fn main() {
    let pool = Pool::new(2);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().unwrap();
    println!(
        "pool_server: {addr}, {} workers, one acceptor thread",
        pool.threads()
    );

    let handle = pool.handle();
    let acceptor = std::thread::spawn(move || accept(listener, handle, CLIENTS));

    // Every client sleeps 30 ms on the server; run concurrently, they take ~30 ms in all.
    let started = Instant::now();
    let transcripts = corona::run(|| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| corona::spawn_local(move || client(addr, id)))
            .collect();
        clients
            .into_iter()
            .map(|c| {
                co_await!(c)
                    .expect("client did not panic")
                    .expect("client I/O")
            })
            .collect::<Vec<_>>()
    });
    let elapsed = started.elapsed();
    for line in &transcripts {
        println!("{line}");
    }

    let mut per_worker: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for connection in acceptor.join().expect("the acceptor did not panic") {
        let served = futures::executor::block_on(connection)
            .expect("the handler did not panic")
            .expect("server I/O");
        let entry = per_worker.entry(served.worker).or_default();
        entry.0 += 1;
        entry.1 += served.commands;
    }
    for (worker, (connections, commands)) in &per_worker {
        println!("server: {worker} served {connections} connections, {commands} commands");
    }
    println!(
        "{CLIENTS} clients done in {:.0} ms (each slept 30 ms on the server)",
        elapsed.as_secs_f64() * 1e3
    );
    pool.shutdown();
    println!("pool shut down, worker threads joined");
}
