//! 1,000 concurrent TCP clients, each served by a coroutine running sync handler code, all on
//! one thread. Needs about 2,100 file descriptors (`ulimit -n`).

use std::cell::Cell;
use std::io::{BufRead, Write};
use std::rc::Rc;
use std::time::Duration;

use corona::co_await;
use corona::io::Blocking;
use corona_tests::finish_within;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufStream};
use tokio::net::{TcpListener, TcpStream};

const CLIENTS: usize = 1_000;

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
async fn client(addr: std::net::SocketAddr, id: usize, all: Rc<tokio::sync::Barrier>) -> String {
    let mut conn = BufStream::new(TcpStream::connect(addr).await.unwrap());
    conn.write_all(format!("client {id}\n").as_bytes())
        .await
        .unwrap();
    conn.flush().await.unwrap();
    let mut reply = String::new();
    conn.read_line(&mut reply).await.unwrap();
    all.wait().await;
    reply
}

#[test]
fn a_thousand_concurrent_clients_served_by_coroutines_on_one_thread() {
    let (replies, answered, max_live) = finish_within(Duration::from_secs(60), || {
        corona::run(|| {
            let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
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
            let clients: Vec<_> = (0..CLIENTS)
                .map(|id| tokio::task::spawn_local(client(addr, id, all.clone())))
                .collect();
            let everything = async {
                let replies = futures::future::try_join_all(clients).await.unwrap();
                let handlers = server.await.unwrap();
                let answered = futures::future::try_join_all(handlers).await.unwrap();
                (replies, answered)
            };
            let (replies, answered) =
                co_await!(tokio::time::timeout(Duration::from_secs(45), everything))
                    .expect("the server or its clients got stuck");
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
