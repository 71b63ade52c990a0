//! A line-protocol server: one coroutine per connection, and the handler is plain sync code
//! (`BufRead::lines`, `write!`) over a tokio `TcpStream`. Three clients talk to it at once;
//! everything runs on one thread, on 127.0.0.1 with an ephemeral port.
//!
//! `cargo run --example line_server`

use std::io::{BufRead, Write};

use corona::co_await;
use corona::io::Blocking;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};

/// The whole protocol, as sync code: `ADD 1 2 3`, `REVERSE text`, `QUIT`.
fn handle(stream: TcpStream, peer: std::net::SocketAddr) -> std::io::Result<()> {
    let (read_half, write_half) = stream.into_split();
    let requests = Blocking::new(BufReader::new(read_half)).lines();
    let mut out = Blocking::new(write_half);
    for request in requests {
        let request = request?;
        let reply = match request.split_once(' ') {
            Some(("ADD", numbers)) => numbers
                .split_whitespace()
                .map(|n| n.parse::<i64>().unwrap_or(0))
                .sum::<i64>()
                .to_string(),
            Some(("REVERSE", text)) => text.chars().rev().collect(),
            None if request == "QUIT" => break,
            _ => format!("ERROR {request:?}"),
        };
        println!("server: {peer} asked {request:?}, answering {reply:?}");
        writeln!(out, "{reply}")?;
    }
    println!("server: {peer} said QUIT");
    out.shutdown()
}

fn client(name: &'static str, addr: std::net::SocketAddr, requests: &[&str]) -> Vec<String> {
    let stream = co_await!(TcpStream::connect(addr)).unwrap();
    let mut conn = Blocking::new(tokio::io::BufStream::new(stream));
    let mut replies = Vec::new();
    for request in requests {
        writeln!(conn, "{request}").unwrap();
        conn.flush().unwrap();
        let mut reply = String::new();
        conn.read_line(&mut reply).unwrap();
        println!("{name}: {request:?} -> {:?}", reply.trim_end());
        replies.push(reply.trim_end().to_owned());
    }
    writeln!(conn, "QUIT").unwrap();
    conn.flush().unwrap();
    replies
}

fn main() {
    corona::run(|| {
        let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        println!("server: listening on {addr}");

        let server = corona::spawn_local(move || {
            let mut handlers = Vec::new();
            for _ in 0..3 {
                let (stream, peer) = co_await!(listener.accept()).unwrap();
                handlers.push(corona::spawn_local(move || handle(stream, peer)));
            }
            for handler in handlers {
                co_await!(handler).unwrap().unwrap();
            }
        });

        let clients = [
            corona::spawn_local(move || client("alice", addr, &["ADD 1 2 3", "REVERSE corona"])),
            corona::spawn_local(move || client("bob", addr, &["REVERSE stack", "ADD 40 2"])),
            corona::spawn_local(move || client("carol", addr, &["PING", "ADD 7"])),
        ];
        let mut answered = 0;
        for c in clients {
            answered += co_await!(c).unwrap().len();
        }
        co_await!(server).unwrap();
        println!("done: 3 clients, {answered} requests, one thread, one coroutine per connection");
    });
}
