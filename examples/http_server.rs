//! An HTTP/1.1 keep-alive server written as plain sync code: requests parsed with `httparse`
//! over `BufRead + Write` (`http/sync_server.rs`, the same function would serve a
//! `std::net::TcpStream`), one coroutine per connection, idle connections closed by a read
//! timeout on `corona::io::Blocking`.
//!
//! `cargo run --example http_server` starts it on a loopback port, talks to it with `hyper`'s
//! HTTP client (keep-alive requests on one connection, a POST, a 404, `Connection: close`),
//! watches it close an idle connection, and exits.
//!
//! `http_server serve <corona|native|hyper> <127.0.0.1:port> <seconds>` serves for that long
//! instead, for `corona/benches/http.sh`: `corona` is this server, `native` the same code
//! written as native tokio async, `hyper` the `hyper` server; each on one thread.

#[path = "http/hyper_server.rs"]
mod hyper_server;
#[path = "http/native.rs"]
mod native;
#[path = "http/proto.rs"]
mod proto;
#[path = "http/sync_server.rs"]
mod sync_server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use corona::co_await;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// A connection with no new request for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_millis(200);

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Sends one request and returns the status and the body.
async fn request(sender: &mut Sender, method: &str, path: &str, body: &str) -> (u16, String) {
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// A hyper client connection; the returned task ends when the server closes it.
async fn connect(addr: SocketAddr) -> (Sender, tokio::task::JoinHandle<hyper::Result<()>>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    (sender, tokio::task::spawn_local(connection))
}

fn demo() {
    corona::run(|| {
        let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        const CONNECTIONS: usize = 2;
        let server = corona::spawn_local(move || {
            let connections: Vec<_> = (0..CONNECTIONS)
                .map(|_| {
                    let (stream, _) = co_await!(listener.accept()).unwrap();
                    corona::spawn_local(move || sync_server::serve_tcp(stream, IDLE_TIMEOUT))
                })
                .collect();
            connections
                .into_iter()
                .map(|c| co_await!(c).unwrap().unwrap())
                .collect::<Vec<_>>()
        });

        let client = tokio::task::spawn_local(async move {
            let (mut sender, connection) = connect(addr).await;
            for i in 0..3 {
                let (status, body) = request(&mut sender, "GET", "/", "").await;
                assert_eq!((status, body.as_str()), (200, "Hello from a coroutine\n"));
                println!("keep-alive request {i}: {status} {body:?}");
            }
            let (status, body) = request(&mut sender, "POST", "/echo", "echo this").await;
            assert_eq!((status, body.as_str()), (200, "echo this"));
            println!("POST /echo: {status} {body:?}");
            let (status, _) = request(&mut sender, "GET", "/missing", "").await;
            assert_eq!(status, 404);
            println!("GET /missing: {status}");

            let idle_since = Instant::now();
            connection.await.unwrap().unwrap(); // ends when the server hangs up
            let idle = idle_since.elapsed();
            // The server's timer started at its last read, a little before this client's.
            assert!(idle >= IDLE_TIMEOUT / 2, "closed after {idle:?}");
            println!("the server closed the idle connection after {idle:.0?}");

            let (mut sender, connection) = connect(addr).await;
            let request = hyper::Request::get("/")
                .header("host", "localhost")
                .header("connection", "close")
                .body(Full::new(Bytes::new()))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.headers()["connection"], "close");
            response.into_body().collect().await.unwrap();
            connection.await.unwrap().unwrap();
            println!("Connection: close: answered, then closed");
        });
        let done = co_await!(tokio::time::timeout(Duration::from_secs(30), client));
        done.expect("the example did not finish within 30 s")
            .unwrap();
        let endings = co_await!(server).unwrap();
        println!("server connections ended: {endings:?}");
        assert_eq!(
            endings,
            [
                sync_server::Ending::Idle,
                sync_server::Ending::ClientAskedToClose
            ]
        );
    });
}

/// Serves with `kind` on `addr` for `seconds`, then exits.
fn serve(kind: &str, addr: &str, seconds: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let kind = kind.to_owned();
    corona::run(|| {
        let listener = co_await!(TcpListener::bind(addr)).unwrap();
        println!(
            "{kind} server on {addr} for {seconds} s, pid {}",
            std::process::id()
        );
        while let Ok(accepted) = co_await!(tokio::time::timeout_at(deadline, listener.accept())) {
            let (stream, _) = accepted.unwrap();
            match kind.as_str() {
                "corona" => {
                    corona::spawn_local(move || sync_server::serve_tcp(stream, IDLE_TIMEOUT));
                }
                "native" => {
                    tokio::task::spawn_local(native::serve_tcp(stream, IDLE_TIMEOUT));
                }
                "hyper" => {
                    tokio::task::spawn_local(hyper_server::serve_tcp(stream));
                }
                other => panic!("unknown server {other:?}: corona, native or hyper"),
            }
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => demo(),
        [mode, kind, addr, seconds] if mode == "serve" => {
            serve(kind, addr, seconds.parse().expect("seconds"))
        }
        _ => panic!("usage: http_server [serve <corona|native|hyper> <addr> <seconds>]"),
    }
}
