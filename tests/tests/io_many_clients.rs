//! 1,000 concurrent TCP clients, each served by a coroutine running sync handler code, all on
//! one thread.
//!
//! Deterministic by construction: the listen backlog (1,024) holds every connection of a
//! wave of 100 connects, so the kernel never drops a SYN and no client waits for a
//! retransmit; the test raises its file descriptor limit to the ~2,100 it needs (and says so
//! clearly if the hard limit is lower).

use std::cell::Cell;
use std::io::{BufRead, Write};
use std::rc::Rc;
use std::time::Duration;

use corona::co_await;
use corona::io::Blocking;
use corona_tests::{co_await_within, ensure_open_files, finish_within};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufStream};
use tokio::net::{TcpSocket, TcpStream};

const CLIENTS: usize = 1_000;
/// Clients that connect at once: well below the listen backlog.
const WAVE: usize = 100;
const BACKLOG: u32 = 1_024;

/// How many handlers run now, and the most that ever ran at once.
#[derive(Default)]
struct Live {
    now: Cell<usize>,
    max: Cell<usize>,
}

/// Sync echo handler: answers each line with `echo: <line>` until the client hangs up.
fn handle(stream: TcpStream, live: Rc<Live>) -> usize {
    live.now.set(live.now.get() + 1);
    live.max.set(live.max.get().max(live.now.get()));
    let mut conn = Blocking::new(BufStream::new(stream));
    let mut line = String::new();
    let mut answered = 0;
    while conn.read_line(&mut line).unwrap() > 0 {
        write!(conn, "echo: {line}").unwrap();
        conn.flush().unwrap();
        line.clear();
        answered += 1;
    }
    live.now.set(live.now.get() - 1);
    answered
}

/// A native async client: one request, then it holds the connection open until every client
/// has its answer, so that all handlers are alive at the same time.
async fn client(
    addr: std::net::SocketAddr,
    id: usize,
    answered: Rc<Cell<usize>>,
    all: Rc<tokio::sync::Barrier>,
) -> String {
    let mut conn = BufStream::new(TcpStream::connect(addr).await.unwrap());
    conn.write_all(format!("client {id}\n").as_bytes())
        .await
        .unwrap();
    conn.flush().await.unwrap();
    let mut reply = String::new();
    conn.read_line(&mut reply).await.unwrap();
    answered.set(answered.get() + 1);
    all.wait().await;
    reply
}

#[test]
fn a_thousand_concurrent_clients_served_by_coroutines_on_one_thread() {
    // Two sockets per client (its end and the server's), plus the runtime's own.
    ensure_open_files(2 * CLIENTS + 100);
    let (replies, answered, max_live) = finish_within(Duration::from_secs(60), || {
        corona::run(|| {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let listener = socket.listen(BACKLOG).unwrap();
            let addr = listener.local_addr().unwrap();
            let live = Rc::new(Live::default());

            let server = corona::spawn_local({
                let live = live.clone();
                move || {
                    let mut handlers = Vec::with_capacity(CLIENTS);
                    for _ in 0..CLIENTS {
                        let (stream, _) = co_await!(listener.accept()).unwrap();
                        let live = live.clone();
                        // Small stacks: the handler needs little, and 1,000 of them run at once.
                        let handler = corona::Builder::new()
                            .stack_size(64 * 1024)
                            .build(move || handle(stream, live));
                        handlers.push(tokio::task::spawn_local(handler));
                    }
                    handlers
                }
            });

            let all = Rc::new(tokio::sync::Barrier::new(CLIENTS));
            let got_answer = Rc::new(Cell::new(0));
            let mut clients = Vec::with_capacity(CLIENTS);
            for wave in (0..CLIENTS).step_by(WAVE) {
                for id in wave..wave + WAVE {
                    let task = client(addr, id, got_answer.clone(), all.clone());
                    clients.push(tokio::task::spawn_local(task));
                }
                // The next wave connects once this one was answered, so the backlog never
                // holds more than one wave. (Bounded by the timeout below.)
                co_await_within(Duration::from_secs(45), async {
                    while got_answer.get() < wave + WAVE {
                        tokio::task::yield_now().await;
                    }
                });
            }
            let everything = async {
                let replies = futures::future::try_join_all(clients).await.unwrap();
                let handlers = server.await.unwrap();
                let answered = futures::future::try_join_all(handlers).await.unwrap();
                (replies, answered)
            };
            let (replies, answered) = co_await_within(Duration::from_secs(45), everything);
            assert_eq!(live.now.get(), 0, "every handler has returned");
            (replies, answered, live.max.get())
        })
    });
    for (id, reply) in replies.iter().enumerate() {
        assert_eq!(reply, &format!("echo: client {id}\n"));
    }
    assert_eq!(answered, vec![1; CLIENTS]);
    assert_eq!(max_live, CLIENTS, "the handlers were not all alive at once");
}
