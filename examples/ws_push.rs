//! A WebSocket server that echoes and pushes: each connection is one coroutine running the
//! sync `tungstenite` API over `corona::io::Blocking<TcpStream>`, and a broadcaster pushes
//! ticks to every connection. A connection blocked in `read` gets the push through a
//! `corona::io::Interrupt`: its read returns `WouldBlock`, the connection clears the
//! interrupt, sends what is queued, and reads again.
//!
//! `tokio-tungstenite` clients in the same process check that every echo and every tick
//! arrives, in order, including at a client that reads slowly. Everything runs on one thread
//! and ends by itself: `cargo run --example ws_push`.

use std::cell::RefCell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use corona::co_await;
use corona::io::{Blocking, Interrupt};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{self, error::TryRecvError};
use tungstenite::{Error, Message};

const CLIENTS: usize = 4;
const TICKS: usize = 20;
const ECHOES: usize = 5;
/// Client 0 pauses this long before each read.
const SLOW_READ: Duration = Duration::from_millis(10);

/// What the broadcaster queues for a connection.
enum Push {
    Tick(usize),
    /// No more ticks: the connection may close once its client is done.
    End,
}

/// A connection as the broadcaster sees it: a queue, and the interrupt that says "look".
struct Subscriber {
    queue: mpsc::UnboundedSender<Push>,
    interrupt: Interrupt,
}

type Subscribers = Rc<RefCell<Vec<Subscriber>>>;

/// One connection, in plain sync code: echo what the client sends, forward what is pushed.
fn serve(stream: TcpStream, subscribers: Subscribers) -> tungstenite::Result<()> {
    let mut ws = tungstenite::accept(Blocking::new(stream)).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => unreachable!("no interrupt attached yet"),
    })?;
    let interrupt = Interrupt::new();
    ws.get_mut().set_interrupt(Some(interrupt.clone()));
    let (queue, mut pushes) = mpsc::unbounded_channel();
    subscribers.borrow_mut().push(Subscriber {
        queue,
        interrupt: interrupt.clone(),
    });

    let (mut ticks_done, mut client_done, mut closing) = (false, false, false);
    loop {
        match ws.read() {
            Ok(Message::Text(text)) if text.as_str() == "bye" => client_done = true,
            Ok(Message::Text(text)) => queued(ws.send(Message::text(format!("echo: {text}"))))?,
            Ok(_) => {} // pings are answered by tungstenite; the client's close reply
            Err(Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                // The owner's loop: clear first, then drain (a push after the clear raises
                // it again), then send, then read again.
                interrupt.clear();
                loop {
                    match pushes.try_recv() {
                        Ok(Push::Tick(i)) => queued(ws.write(Message::text(format!("tick {i}"))))?,
                        Ok(Push::End) => ticks_done = true,
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                queued(ws.flush())?;
            }
            Err(Error::ConnectionClosed) => return Ok(()), // the close handshake is done
            Err(e) => return Err(e),
        }
        if ticks_done && client_done && !closing {
            closing = true;
            queued(ws.close(None))?; // read on until the client answers the close
        }
    }
}

/// A write that met the interrupt stays in tungstenite's buffer and goes out with the next
/// `read` or `flush`: not an error for this loop.
fn queued(result: tungstenite::Result<()>) -> tungstenite::Result<()> {
    match result {
        Err(Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => Ok(()),
        other => other,
    }
}

/// Waits until every client is connected, then pushes `TICKS` ticks to all of them.
fn broadcast(subscribers: Subscribers) {
    for _ in 0..2000 {
        if subscribers.borrow().len() == CLIENTS {
            break;
        }
        co_await!(tokio::time::sleep(Duration::from_millis(1)));
    }
    assert_eq!(
        subscribers.borrow().len(),
        CLIENTS,
        "clients did not connect"
    );
    let send_all = |push: &dyn Fn() -> Push| {
        for subscriber in subscribers.borrow().iter() {
            subscriber
                .queue
                .send(push())
                .expect("a connection ended early");
            subscriber.interrupt.interrupt();
        }
    };
    for i in 0..TICKS {
        co_await!(tokio::time::sleep(Duration::from_millis(2)));
        send_all(&|| Push::Tick(i));
    }
    send_all(&|| Push::End);
}

/// A native async client: sends `ECHOES` messages while it reads, then "bye"; returns every
/// text it received until the server closed the connection.
async fn client(id: usize, url: String) -> Vec<String> {
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut sink, mut stream) = ws.split();
    let sender = tokio::task::spawn_local(async move {
        for k in 0..ECHOES {
            sink.send(Message::text(format!("client {id} message {k}")))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        sink.send(Message::text("bye")).await.unwrap();
        sink // keep the write half open to answer the server's close
    });
    let mut received = Vec::new();
    loop {
        if id == 0 {
            tokio::time::sleep(SLOW_READ).await;
        }
        match stream.next().await {
            Some(Ok(Message::Text(text))) => received.push(text.to_string()),
            // Polling on after the server's close sends the reply; then the stream ends.
            Some(Ok(_)) => {}
            None => break,
            Some(Err(e)) => panic!("client {id}: {e}"),
        }
    }
    drop(sender.await.unwrap());
    received
}

/// Checks that every echo and every tick arrived once, each kind in order.
fn check(id: usize, received: &[String]) {
    let echoes: Vec<&String> = received.iter().filter(|m| m.starts_with("echo")).collect();
    let expected: Vec<String> = (0..ECHOES)
        .map(|k| format!("echo: client {id} message {k}"))
        .collect();
    assert_eq!(echoes, expected.iter().collect::<Vec<_>>(), "client {id}");
    let ticks: Vec<&String> = received.iter().filter(|m| m.starts_with("tick")).collect();
    let expected: Vec<String> = (0..TICKS).map(|i| format!("tick {i}")).collect();
    assert_eq!(ticks, expected.iter().collect::<Vec<_>>(), "client {id}");
    assert_eq!(received.len(), ECHOES + TICKS, "client {id}: {received:?}");
}

fn main() {
    corona::run(|| {
        let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let subscribers = Subscribers::default();

        let server_subscribers = subscribers.clone();
        let server = corona::spawn_local(move || {
            let mut connections = Vec::new();
            for _ in 0..CLIENTS {
                let (stream, _) = co_await!(listener.accept()).unwrap();
                let subscribers = server_subscribers.clone();
                connections.push(corona::spawn_local(move || serve(stream, subscribers)));
            }
            for connection in connections {
                co_await!(connection).unwrap().expect("a connection failed");
            }
        });
        let broadcaster = corona::spawn_local(move || broadcast(subscribers));

        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| tokio::task::spawn_local(client(id, url.clone())))
            .collect();
        let all = futures::future::try_join_all(clients);
        let received = co_await!(tokio::time::timeout(Duration::from_secs(30), all))
            .expect("the example did not finish within 30 s")
            .unwrap();
        co_await!(broadcaster).unwrap();
        co_await!(server).unwrap();

        for (id, messages) in received.iter().enumerate() {
            check(id, messages);
            let first: Vec<&str> = messages.iter().take(4).map(String::as_str).collect();
            let pace = if id == 0 { " (reads slowly)" } else { "" };
            println!(
                "client {id}{pace}: {ECHOES} echoes and {TICKS} ticks, each in order; \
                 first: {first:?}"
            );
        }
        println!("{CLIENTS} connections, one coroutine each, all on one thread: done");
    });
}
