//! JSON requests and responses over loopback TCP, with `serde_json::from_reader`-style
//! streaming on both sides: sync serde code, async sockets, one thread.
//!
//! `cargo run --example json_over_tcp`

use std::io::{BufReader, Write};

use corona::co_await;
use corona::io::Blocking;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Serialize, Deserialize)]
enum Request {
    Sum(Vec<i64>),
    Greet { name: String },
}

#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Total(i64),
    Greeting(String),
}

/// Reads a stream of JSON requests and writes one JSON response per request.
fn serve(stream: TcpStream) -> usize {
    let (read_half, write_half) = stream.into_split();
    let requests = serde_json::Deserializer::from_reader(BufReader::new(Blocking::new(read_half)))
        .into_iter::<Request>();
    let mut out = Blocking::new(write_half);
    let mut served = 0;
    for request in requests {
        let response = match request.unwrap() {
            Request::Sum(numbers) => Response::Total(numbers.iter().sum()),
            Request::Greet { name } => Response::Greeting(format!("hello, {name}")),
        };
        serde_json::to_writer(&mut out, &response).unwrap();
        out.write_all(b"\n").unwrap();
        served += 1;
    }
    served
}

fn main() {
    corona::run(|| {
        let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        println!("server: listening on {addr}");
        let server = corona::spawn_local(move || {
            let (stream, peer) = co_await!(listener.accept()).unwrap();
            println!("server: {peer} connected");
            serve(stream)
        });

        let stream = co_await!(TcpStream::connect(addr)).unwrap();
        let (read_half, write_half) = stream.into_split();
        let mut out = Blocking::new(write_half);
        let mut responses =
            serde_json::Deserializer::from_reader(BufReader::new(Blocking::new(read_half)))
                .into_iter::<Response>();
        let requests = [
            Request::Sum((1..=100).collect()),
            Request::Greet {
                name: String::from("corona"),
            },
            Request::Sum((0..10_000).collect()), // about 50 KB of JSON
        ];
        for request in &requests {
            serde_json::to_writer(&mut out, request).unwrap();
            let response = responses.next().unwrap().unwrap();
            let shown = format!("{request:?}");
            let shown = if shown.len() > 60 {
                format!("{}...", &shown[..57])
            } else {
                shown
            };
            println!("client: sent {shown}, got {response:?}");
        }
        out.shutdown().unwrap(); // end of the request stream
        let served = co_await!(server).unwrap();
        println!("done: the server answered {served} requests");
    });
}
