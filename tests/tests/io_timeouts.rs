//! Read and write timeouts of `corona::io::Blocking`: per call, `TimedOut`, nothing consumed,
//! and a line server that drops its idle client while a busy one keeps talking.

use std::cell::RefCell;
use std::io::{self, BufRead, BufWriter, ErrorKind, Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use corona::co_await;
use corona::io::Blocking;
use corona_tests::finish_within;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::{TcpListener, TcpStream};

const SHORT: Duration = Duration::from_millis(30);

fn sleep(d: Duration) {
    co_await!(tokio::time::sleep(d));
}

/// Runs `body` in `corona::run` on a thread of its own, failing if it hangs.
fn run_bounded<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    finish_within(Duration::from_secs(20), move || corona::run(body))
}

#[test]
fn a_read_times_out_and_data_arriving_later_is_read_whole() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(64);
        let mut conn = Blocking::new(server);
        conn.set_read_timeout(Some(SHORT)).unwrap();
        let mut buf = [0; 64];

        let start = Instant::now();
        let err = conn.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(
            start.elapsed() >= SHORT,
            "timed out early: {:?}",
            start.elapsed()
        );

        co_await!(client.write_all(b"late but whole")).unwrap();
        let n = conn.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"late but whole");
    });
}

#[test]
fn fill_buf_times_out_and_read_line_then_gets_the_line() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(64);
        let mut conn = Blocking::new(tokio::io::BufReader::new(server));
        conn.set_read_timeout(Some(SHORT)).unwrap();
        assert_eq!(conn.fill_buf().unwrap_err().kind(), ErrorKind::TimedOut);

        co_await!(client.write_all(b"first line\n")).unwrap();
        let mut line = String::new();
        conn.read_line(&mut line).unwrap();
        assert_eq!(line, "first line\n");
    });
}

#[test]
fn the_timeout_is_per_call_not_per_stream() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let took = run_bounded(|| {
        // tokio's clock stands still while a task runs and jumps to the next timer when all
        // wait, so each read waits exactly 100 ms. On the real clock, valgrind on a loaded
        // machine made one wait longer than the timeout (and `read_to_end` fail).
        tokio::time::pause();
        let (mut client, server) = tokio::io::duplex(64);
        let writer = corona::spawn_local(move || {
            for chunk in [&b"a"[..], b"b", b"c", b"d"] {
                sleep(Duration::from_millis(100));
                co_await!(client.write_all(chunk)).unwrap();
            }
        });
        let mut conn = Blocking::new(server);
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let start = tokio::time::Instant::now();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"abcd");
        co_await!(writer).unwrap();
        start.elapsed()
    });
    // Each read waited 100 ms, all four longer than the timeout: only a per-call timeout
    // lets them pass.
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took > TIMEOUT);
}

#[test]
fn a_write_times_out_having_written_nothing() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(4);
        let mut conn = Blocking::new(server);
        conn.set_write_timeout(Some(SHORT)).unwrap();
        assert_eq!(conn.write(b"1234").unwrap(), 4); // fills the pipe
        let err = conn.write(b"5678").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");

        let mut got = [0; 4];
        co_await!(client.read_exact(&mut got)).unwrap();
        assert_eq!(&got, b"1234");
        conn.write_all(b"5678").unwrap();
        drop(conn);
        let mut rest = Vec::new();
        co_await!(client.read_to_end(&mut rest)).unwrap();
        assert_eq!(
            rest, b"5678",
            "the timed-out write must not have written anything"
        );
    });
}

#[test]
fn flush_and_shutdown_are_under_the_write_timeout() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(4);
        // A tokio BufWriter holds 8 bytes; its flush can pass only 4 to the pipe.
        let mut conn = Blocking::new(tokio::io::BufWriter::new(server));
        conn.set_write_timeout(Some(SHORT)).unwrap();
        conn.write_all(b"12345678").unwrap();
        assert_eq!(conn.flush().unwrap_err().kind(), ErrorKind::TimedOut);
        assert_eq!(conn.shutdown().unwrap_err().kind(), ErrorKind::TimedOut);

        let reader = corona::spawn_local(move || {
            let mut all = Vec::new();
            co_await!(client.read_to_end(&mut all)).unwrap();
            all
        });
        conn.flush().unwrap();
        conn.shutdown().unwrap();
        assert_eq!(co_await!(reader).unwrap(), b"12345678");
    });
}

#[test]
fn a_std_bufwriter_outside_keeps_what_a_timed_out_flush_did_not_send() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(4);
        let mut inner = Blocking::new(server);
        inner.set_write_timeout(Some(SHORT)).unwrap();
        let mut conn = BufWriter::new(inner);
        conn.write_all(b"abcdefgh").unwrap();
        assert_eq!(conn.flush().unwrap_err().kind(), ErrorKind::TimedOut);
        let reader = corona::spawn_local(move || {
            let mut all = Vec::new();
            co_await!(client.read_to_end(&mut all)).unwrap();
            all
        });
        conn.flush().unwrap();
        drop(conn);
        assert_eq!(co_await!(reader).unwrap(), b"abcdefgh");
    });
}

#[test]
fn a_timeout_beyond_the_clock_is_no_timeout() {
    // As on std's sockets: `Duration::MAX` is accepted and never fires.
    let (read, written) = run_bounded(|| {
        let (client, server) = tokio::io::duplex(4);
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let mut conn = Blocking::new(server);
        conn.set_read_timeout(Some(Duration::MAX)).unwrap();
        conn.set_write_timeout(Some(Duration::MAX)).unwrap();
        let peer = corona::spawn_local(move || {
            sleep(SHORT);
            co_await!(client_write.write_all(b"hi")).unwrap();
            let mut got = [0; 8];
            co_await!(client_read.read_exact(&mut got)).unwrap();
            got
        });
        let mut buf = [0; 8];
        let n = conn.read(&mut buf).unwrap(); // waits for the peer
        conn.write_all(b"12345678").unwrap(); // waits for the peer to read
        (buf[..n].to_vec(), co_await!(peer).unwrap())
    });
    assert_eq!(read, b"hi");
    assert_eq!(&written, b"12345678");
}

#[test]
fn zero_is_refused_and_none_clears() {
    let mut conn = Blocking::new(tokio::io::empty());
    let zero = conn.set_read_timeout(Some(Duration::ZERO)).unwrap_err();
    assert_eq!(zero.kind(), ErrorKind::InvalidInput);
    let zero = conn.set_write_timeout(Some(Duration::ZERO)).unwrap_err();
    assert_eq!(zero.kind(), ErrorKind::InvalidInput);
    assert_eq!((conn.read_timeout(), conn.write_timeout()), (None, None));

    conn.set_read_timeout(Some(SHORT)).unwrap();
    conn.set_write_timeout(Some(2 * SHORT)).unwrap();
    assert_eq!(conn.read_timeout(), Some(SHORT));
    assert_eq!(conn.write_timeout(), Some(2 * SHORT));
    conn.set_read_timeout(None).unwrap();
    assert_eq!(conn.read_timeout(), None);
}

#[test]
fn a_timeout_outside_a_tokio_runtime_is_an_error_not_a_hang() {
    let err = finish_within(Duration::from_secs(20), || {
        futures::executor::block_on(corona::Coroutine::new(|| {
            let (_client, server) = tokio::io::duplex(4);
            let mut conn = Blocking::new(server);
            conn.set_read_timeout(Some(SHORT)).unwrap();
            conn.read(&mut [0; 4]).unwrap_err()
        }))
    });
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

/// The sync server of a line protocol: answers each line, and closes a connection that stays
/// silent for longer than its read timeout.
fn serve_lines(conn: &mut (impl BufRead + Write)) -> io::Result<&'static str> {
    let mut line = String::new();
    loop {
        line.clear();
        match conn.read_line(&mut line) {
            Ok(0) => return Ok("client left"),
            Ok(_) => write!(conn, "ok {line}")?,
            Err(e) if e.kind() == ErrorKind::TimedOut => return Ok("idle"),
            Err(e) => return Err(e),
        }
        conn.flush()?;
    }
}

const IDLE_TIMEOUT: Duration = Duration::from_millis(100);
const BUSY_LINES: usize = 15;
/// `BUSY_LINES` lines this far apart last three times the idle timeout.
const BUSY_PAUSE: Duration = Duration::from_millis(20);

#[test]
fn a_line_server_closes_the_idle_connection_while_a_busy_one_keeps_talking() {
    let events = run_bounded(|| {
        // On tokio's paused clock (which jumps to the next timer only when every task waits,
        // and loopback I/O is ready at once), the busy client talks exactly every 20 ms,
        // however slow the machine: on the real clock a pause of 100 ms would close the busy
        // connection as idle too.
        tokio::time::pause();
        let events = Rc::new(RefCell::new(Vec::<String>::new()));
        let listener = co_await!(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();

        let server_events = events.clone();
        let server = corona::spawn_local(move || {
            let mut handlers = Vec::new();
            for _ in 0..2 {
                let (stream, _) = co_await!(listener.accept()).unwrap();
                let events = server_events.clone();
                handlers.push(corona::spawn_local(move || {
                    let mut conn = Blocking::new(BufStream::new(stream));
                    conn.set_read_timeout(Some(IDLE_TIMEOUT)).unwrap();
                    let why = serve_lines(&mut conn).unwrap();
                    events.borrow_mut().push(format!("server: {why}"));
                }));
            }
            for handler in handlers {
                co_await!(handler).unwrap();
            }
        });

        // The idle client connects first, says nothing and waits for the server to hang up.
        let idle = co_await!(TcpStream::connect(addr)).unwrap();
        let idle_events = events.clone();
        let idle = tokio::task::spawn_local(async move {
            let mut idle = idle;
            let mut rest = Vec::new();
            idle.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
            idle_events
                .borrow_mut()
                .push("idle client: closed by server".into());
        });

        let mut busy = BufStream::new(co_await!(TcpStream::connect(addr)).unwrap());
        let mut reply = String::new();
        for i in 0..BUSY_LINES {
            co_await!(busy.write_all(format!("line {i}\n").as_bytes())).unwrap();
            co_await!(busy.flush()).unwrap();
            reply.clear();
            co_await!(busy.read_line(&mut reply)).unwrap();
            assert_eq!(reply, format!("ok line {i}\n"));
            events.borrow_mut().push(format!("busy: {i}"));
            sleep(BUSY_PAUSE);
        }
        drop(busy);
        co_await!(idle).unwrap();
        co_await!(server).unwrap();
        Rc::try_unwrap(events).unwrap().into_inner()
    });

    let position = |event: &str| {
        events
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("no {event:?} in {events:#?}"))
    };
    let closed = position("idle client: closed by server");
    assert!(position("server: idle") < closed, "{events:#?}");
    // The busy client was answered before and after the idle one was dropped.
    assert!(position("busy: 0") < closed, "{events:#?}");
    assert!(
        closed < position(&format!("busy: {}", BUSY_LINES - 1)),
        "{events:#?}"
    );
    assert_eq!(events.last().unwrap(), "server: client left", "{events:#?}");
}
