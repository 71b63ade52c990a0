//! `BufRead::lines` request/response over loopback TCP: a sync line-protocol server and a
//! sync client, each in a coroutine on one thread.

use std::io::{BufRead, Write};
use std::time::Duration;

use corona::co_await;
use corona::io::Blocking;
use corona_tests::{co_await_within, finish_within};
use tokio::io::{BufReader, BufStream};
use tokio::net::{TcpListener, TcpStream};

/// Answers `ADD a b`, `UPPER text` and `QUIT`, one line each; returns how many requests it
/// answered.
fn serve(stream: TcpStream) -> std::io::Result<usize> {
    let (read_half, write_half) = stream.into_split();
    // tokio's BufReader is the AsyncBufRead: `lines()` reads straight from its buffer.
    let requests = Blocking::new(BufReader::new(read_half)).lines();
    let mut replies = Blocking::new(write_half);
    let mut answered = 0;
    for request in requests {
        let request = request?;
        let reply = match request.split_once(' ') {
            Some(("ADD", args)) => args
                .split(' ')
                .map(|n| n.parse::<i64>().unwrap())
                .sum::<i64>()
                .to_string(),
            Some(("UPPER", text)) => text.to_uppercase(),
            None if request == "QUIT" => String::from("BYE"),
            _ => format!("ERROR unknown request {request:?}"),
        };
        replies.write_all(format!("{reply}\n").as_bytes())?;
        answered += 1;
        if reply == "BYE" {
            break;
        }
    }
    replies.shutdown()?;
    Ok(answered)
}

#[test]
fn lines_request_response_over_tcp() {
    let (answered, replies) = finish_within(Duration::from_secs(30), || {
        corona::run(|| {
            let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
            let addr = listener.local_addr().unwrap();
            let server = corona::spawn_local(move || {
                let (stream, _) = co_await!(listener.accept()).unwrap();
                serve(stream).unwrap()
            });
            let client = corona::spawn_local(move || {
                let stream = co_await!(TcpStream::connect(addr)).unwrap();
                // One object that is Read + Write + BufRead.
                let mut conn = Blocking::new(BufStream::new(stream));
                let mut replies = Vec::new();
                for request in ["ADD 2 3 4", "UPPER corona", "PING", "ADD -1 1", "QUIT"] {
                    writeln!(conn, "{request}").unwrap();
                    conn.flush().unwrap();
                    let mut reply = String::new();
                    conn.read_line(&mut reply).unwrap();
                    replies.push(reply);
                }
                let mut rest = String::new();
                assert_eq!(conn.read_line(&mut rest).unwrap(), 0, "no end of stream");
                replies
            });
            let both = futures::future::join(server, client);
            let (answered, replies) = co_await_within(Duration::from_secs(20), both);
            (answered.unwrap(), replies.unwrap())
        })
    });
    assert_eq!(answered, 5);
    assert_eq!(
        replies,
        [
            "9\n",
            "CORONA\n",
            "ERROR unknown request \"PING\"\n",
            "0\n",
            "BYE\n"
        ]
    );
}
