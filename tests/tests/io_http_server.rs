//! The sync HTTP/1.1 server of `examples/http_server.rs`, driven by `hyper`'s client: keep-alive
//! requests on one connection, bodies, errors, idle connections closed by the read timeout of
//! `corona::io::Blocking`, and the same function serving a `std::net::TcpStream`.

#[path = "../../examples/http/proto.rs"]
mod proto;
#[path = "../../examples/http/sync_server.rs"]
mod sync_server;

use std::net::SocketAddr;
use std::time::Duration;

use corona::co_await;
use corona_tests::finish_within;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use sync_server::Ending;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// The idle timeout of the tests that wait for it.
const IDLE: Duration = Duration::from_millis(150);

/// The idle timeout of the tests whose clients must never hit it, even under valgrind
/// (about 50 times slower) on a loaded machine.
const NEVER_IDLE: Duration = Duration::from_secs(20);

async fn connect(addr: SocketAddr) -> (Sender, tokio::task::JoinHandle<hyper::Result<()>>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    (sender, tokio::task::spawn_local(connection))
}

async fn request(sender: &mut Sender, method: &str, path: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

/// Serves `connections` accepted connections, each in a coroutine closing it after `idle`
/// without a request; returns how each ended, in accept order.
fn spawn_server(
    connections: usize,
    idle: Duration,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<Vec<std::io::Result<Ending>>>,
) {
    let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = corona::spawn_local(move || {
        let handlers: Vec<_> = (0..connections)
            .map(|_| {
                let (stream, _) = co_await!(listener.accept()).unwrap();
                corona::spawn_local(move || sync_server::serve_tcp(stream, idle))
            })
            .collect();
        handlers
            .into_iter()
            .map(|h| co_await!(h).unwrap())
            .collect()
    });
    (addr, server)
}

fn run_bounded<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    finish_within(Duration::from_secs(30), move || corona::run(body))
}

#[test]
fn keep_alive_requests_and_bodies_on_one_connection() {
    let endings = run_bounded(|| {
        let (addr, server) = spawn_server(1, NEVER_IDLE);
        let client = tokio::task::spawn_local(async move {
            let (mut sender, connection) = connect(addr).await;
            for _ in 0..20 {
                let (status, body) = request(&mut sender, "GET", "/", Vec::new()).await;
                assert_eq!((status, body.as_slice()), (200, proto::GREETING));
            }
            // A body larger than the socket and BufReader buffers: many reads.
            let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            let (status, body) = request(&mut sender, "POST", "/echo", big.clone()).await;
            assert_eq!(status, 200);
            assert!(body == big, "the echoed body differs");
            let (status, body) = request(&mut sender, "PUT", "/nowhere", b"x".to_vec()).await;
            assert_eq!((status, body.as_slice()), (404, &b"not found\n"[..]));
            drop(sender); // hyper closes the connection
            connection.await.unwrap().unwrap();
        });
        co_await!(client).unwrap();
        co_await!(server).unwrap()
    });
    // One server connection served all 22 requests, and saw the client leave.
    assert_eq!(endings.len(), 1);
    assert_eq!(*endings[0].as_ref().unwrap(), Ending::ClientClosed);
}

#[test]
fn an_idle_connection_is_closed_while_a_busy_one_is_served() {
    let (endings, busy_requests_after_close) = run_bounded(|| {
        // On tokio's paused clock (which jumps to the next timer only when every task waits,
        // and loopback I/O is ready at once), the busy client asks exactly every 20 ms. On
        // the real clock a loaded machine once kept it from asking for 150 ms, and the
        // server closed the busy connection as idle too.
        tokio::time::pause();
        let (addr, server) = spawn_server(2, IDLE);
        let client = tokio::task::spawn_local(async move {
            let (mut idle_sender, idle_connection) = connect(addr).await;
            let (status, _) = request(&mut idle_sender, "GET", "/", Vec::new()).await;
            assert_eq!(status, 200);
            let (mut busy, busy_connection) = connect(addr).await;
            let mut after_close = 0;
            // The busy client asks every 20 ms for six idle timeouts' time.
            for _ in 0..45 {
                let (status, _) = request(&mut busy, "GET", "/", Vec::new()).await;
                assert_eq!(status, 200);
                if idle_connection.is_finished() {
                    after_close += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(
                idle_connection.is_finished(),
                "the idle connection is still open"
            );
            idle_connection.await.unwrap().unwrap();
            drop(busy);
            busy_connection.await.unwrap().unwrap();
            after_close
        });
        let after_close = co_await!(client).unwrap();
        (co_await!(server).unwrap(), after_close)
    });
    let endings: Vec<Ending> = endings.into_iter().map(Result::unwrap).collect();
    assert_eq!(endings, [Ending::Idle, Ending::ClientClosed]);
    assert!(
        busy_requests_after_close > 0,
        "the busy client was not served after the close"
    );
}

#[test]
fn connection_close_and_bad_requests_end_the_connection() {
    let (endings, replies) = run_bounded(|| {
        let (addr, server) = spawn_server(2, NEVER_IDLE);
        let client = tokio::task::spawn_local(async move {
            let mut replies = Vec::new();
            for raw in [
                &b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"[..],
                b"NOT HTTP AT ALL\r\n\r\n",
            ] {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(raw).await.unwrap();
                let mut reply = String::new();
                stream.read_to_string(&mut reply).await.unwrap(); // the server closes
                replies.push(reply);
            }
            replies
        });
        let replies = co_await!(client).unwrap();
        (co_await!(server).unwrap(), replies)
    });
    assert!(
        replies[0].starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        replies[0]
    );
    assert!(replies[0].contains("connection: close"), "{}", replies[0]);
    assert!(
        replies[1].starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{}",
        replies[1]
    );
    let endings: Vec<Ending> = endings.into_iter().map(Result::unwrap).collect();
    assert_eq!(endings, [Ending::ClientAskedToClose, Ending::BadRequest]);
}

/// The writing end of a `std::net::TcpStream` that shortens the connection's read timeout to
/// [`IDLE`] once the first reply is flushed: a client slowed down by valgrind is never idle
/// before its first request, and the server then times out waiting for a second one. (The
/// timeout is the socket's, so the reader's clone of the stream sees it too.)
struct IdleAfterTheFirstReply(std::net::TcpStream);

impl std::io::Write for IdleAfterTheFirstReply {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::Write::write(&mut self.0, buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::Write::flush(&mut self.0)?;
        self.0.set_read_timeout(Some(IDLE))
    }
}

#[test]
fn the_same_function_serves_a_std_tcp_stream_on_a_thread() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        // Not `IDLE` from the start: under valgrind on a loaded machine the client took
        // longer than that to send its request, and found the connection closed.
        stream.set_read_timeout(Some(NEVER_IDLE)).unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let mut writer = IdleAfterTheFirstReply(stream);
        sync_server::serve_connection(&mut reader, &mut writer).unwrap()
    });
    run_bounded(move || {
        let client = tokio::task::spawn_local(async move {
            let (mut sender, connection) = connect(addr).await;
            let (status, body) = request(&mut sender, "POST", "/echo", b"std".to_vec()).await;
            assert_eq!((status, body.as_slice()), (200, &b"std"[..]));
            connection.await.unwrap().unwrap(); // idle: the thread's read timed out
        });
        co_await!(client).unwrap();
    });
    assert_eq!(server.join().unwrap(), Ending::Idle);
}
