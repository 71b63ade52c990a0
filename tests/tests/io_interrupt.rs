//! `corona::io::Interrupt`: a raised interrupt makes every waiting call of the `Blocking`s it
//! is attached to return `WouldBlock` at once, until its owner clears it; calls that can make
//! progress are not affected, and nothing is lost.

use std::cell::Cell;
use std::io::{BufRead, ErrorKind, Read, Write};
use std::rc::Rc;
use std::time::Duration;

use corona::co_await;
use corona::io::{Blocking, BlockingFutures, Interrupt};
use corona_tests::finish_within;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn sleep_ms(ms: u64) {
    co_await!(tokio::time::sleep(Duration::from_millis(ms)));
}

/// Runs `body` in `corona::run` on a thread of its own, failing if it hangs.
fn run_bounded<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    finish_within(Duration::from_secs(20), move || corona::run(body))
}

fn interrupted<T: std::fmt::Debug>(result: std::io::Result<T>) -> bool {
    match result {
        Err(e) if e.kind() == ErrorKind::WouldBlock => true,
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

#[test]
fn a_waiting_read_is_woken_by_another_coroutine() {
    run_bounded(|| {
        let (_client, server) = tokio::io::duplex(64);
        let interrupt = Interrupt::new();
        let mut conn = Blocking::new(server);
        conn.set_interrupt(Some(interrupt.clone()));

        let pusher_ran = Rc::new(Cell::new(false));
        let (flag, push) = (pusher_ran.clone(), interrupt.clone());
        corona::spawn_local(move || {
            sleep_ms(10);
            flag.set(true);
            push.interrupt();
        });
        assert!(interrupted(conn.read(&mut [0; 64])));
        assert!(
            pusher_ran.get(),
            "the read returned before anyone raised the interrupt"
        );
        assert!(interrupt.clear());
    });
}

#[test]
fn a_waiting_read_is_woken_from_another_thread() {
    run_bounded(|| {
        let (_client, server) = tokio::io::duplex(64);
        let interrupt = Interrupt::new();
        let mut conn = Blocking::new(tokio::io::BufReader::new(server));
        conn.set_interrupt(Some(interrupt.clone()));
        let remote = interrupt.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            remote.interrupt();
        });
        assert!(interrupted(conn.fill_buf().map(<[u8]>::len)));
        thread.join().unwrap();
        assert!(interrupt.clear());
    });
}

#[test]
fn it_stays_raised_across_waiting_calls_until_cleared_then_reads_wait_again() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(4);
        let interrupt = Interrupt::new();
        let mut conn = Blocking::new(server);
        conn.set_interrupt(Some(interrupt.clone()));
        interrupt.interrupt();

        // A library that swallows one WouldBlock (tungstenite's flush-before-read) still
        // gets the next one: two reads, a fill-the-pipe write and a write that would wait.
        assert!(interrupted(conn.read(&mut [0; 8])));
        assert!(interrupted(conn.read(&mut [0; 8])));
        assert_eq!(conn.write(b"full").unwrap(), 4); // progress: not affected
        assert!(interrupted(conn.write(b"more")));
        assert!(interrupt.is_raised());

        assert!(interrupt.clear());
        assert!(!interrupt.clear());
        let writer = corona::spawn_local(move || {
            sleep_ms(10);
            let mut got = [0; 4];
            co_await!(client.read_exact(&mut got)).unwrap();
            co_await!(client.write_all(b"late")).unwrap();
            (client, got)
        });
        let mut buf = [0; 8];
        let n = conn.read(&mut buf).unwrap(); // waits again, for the writer
        assert_eq!(&buf[..n], b"late");
        let (_client, got) = co_await!(writer).unwrap();
        assert_eq!(&got, b"full");
    });
}

#[test]
fn a_raised_interrupt_does_not_hide_data_that_is_there() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(64);
        co_await!(client.write_all(b"already here\nand more")).unwrap();
        let interrupt = Interrupt::new();
        let mut conn = Blocking::new(tokio::io::BufReader::new(server));
        conn.set_interrupt(Some(interrupt.clone()));
        interrupt.interrupt();

        let mut line = String::new();
        conn.read_line(&mut line).unwrap();
        assert_eq!(line, "already here\n");
        let mut buf = [0; 64];
        let n = conn.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"and more");
        // Nothing left: now it would wait, so the interrupt answers.
        assert!(interrupted(conn.read(&mut buf)));
    });
}

#[test]
fn an_interrupted_write_loses_nothing() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(8);
        let interrupt = Interrupt::new();
        let mut conn = Blocking::new(server);
        conn.set_interrupt(Some(interrupt.clone()));

        assert_eq!(conn.write(b"abcdefgh").unwrap(), 8); // the pipe is full now
        let push = interrupt.clone();
        corona::spawn_local(move || {
            sleep_ms(10);
            push.interrupt();
        });
        assert!(interrupted(conn.write(b"ijkl")));
        interrupt.clear();

        let reader = corona::spawn_local(move || {
            let mut all = Vec::new();
            co_await!(client.read_to_end(&mut all)).unwrap();
            all
        });
        conn.write_all(b"ijkl").unwrap();
        drop(conn);
        assert_eq!(co_await!(reader).unwrap(), b"abcdefghijkl");
    });
}

#[test]
fn one_interrupt_wakes_every_blocking_it_is_attached_to() {
    run_bounded(|| {
        let interrupt = Interrupt::new();
        let mut clients = Vec::new();
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (client, server) = tokio::io::duplex(64);
                clients.push(client);
                let mut conn = Blocking::new(server);
                conn.set_interrupt(Some(interrupt.clone()));
                corona::spawn_local(move || conn.read(&mut [0; 8]).unwrap_err().kind())
            })
            .collect();
        sleep_ms(10); // all three are waiting now
        interrupt.interrupt();
        for reader in readers {
            assert_eq!(co_await!(reader).unwrap(), ErrorKind::WouldBlock);
        }
    });
}

#[test]
fn detaching_the_interrupt_makes_calls_wait_again() {
    run_bounded(|| {
        let (mut client, server) = tokio::io::duplex(64);
        let interrupt = Interrupt::new();
        interrupt.interrupt();
        let mut conn = Blocking::new(server);
        conn.set_interrupt(Some(interrupt.clone()));
        assert!(interrupted(conn.read(&mut [0; 8])));
        conn.set_interrupt(None);
        corona::spawn_local(move || {
            sleep_ms(10);
            co_await!(client.write_all(b"x")).unwrap();
        });
        let mut buf = [0; 8];
        assert_eq!(conn.read(&mut buf).unwrap(), 1);
        assert!(interrupt.is_raised(), "detaching does not clear it");
    });
}

#[test]
fn blocking_futures_is_interrupted_too_on_any_executor() {
    let (kind, woken_by_thread) = finish_within(Duration::from_secs(20), || {
        futures::executor::block_on(corona::Coroutine::new(|| {
            let (_tx, rx) = futures::channel::mpsc::channel::<std::io::Result<Vec<u8>>>(1);
            let interrupt = Interrupt::new();
            let mut reader = BlockingFutures::new(futures::TryStreamExt::into_async_read(rx));
            reader.set_interrupt(Some(interrupt.clone()));
            let remote = interrupt.clone();
            let thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                remote.interrupt();
            });
            let kind = reader.read(&mut [0; 8]).unwrap_err().kind();
            thread.join().unwrap();
            (kind, interrupt.clear())
        }))
    });
    assert_eq!(kind, ErrorKind::WouldBlock);
    assert!(woken_by_thread);
}

#[test]
fn interrupt_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Interrupt>();
    assert!(format!("{:?}", Interrupt::new()).contains("raised: false"));
}

/// The push loop of the io guide, many times over: every queued message arrives once, in
/// order, while the connection also echoes what it reads.
#[test]
fn the_owners_loop_delivers_every_push_in_order() {
    const PUSHES: usize = 200;
    let received = run_bounded(|| {
        let (client, server) = tokio::io::duplex(256);
        let (queue, mut pending) = tokio::sync::mpsc::unbounded_channel::<String>();
        let interrupt = Interrupt::new();

        let push = interrupt.clone();
        let pusher = corona::spawn_local(move || {
            for i in 0..PUSHES {
                queue.send(format!("push {i}\n")).unwrap();
                push.interrupt();
                if i % 7 == 0 {
                    corona::yield_now();
                }
            }
            drop(queue); // the owner sees the queue closed on its next wake-up
            push.interrupt();
        });

        let owner = corona::spawn_local(move || {
            let mut conn = Blocking::new(server);
            conn.set_interrupt(Some(interrupt.clone()));
            let mut buf = [0; 64];
            let mut closing = false;
            loop {
                match conn.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => conn.write_all(&buf[..n]).unwrap(), // echo
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        interrupt.clear();
                        loop {
                            match pending.try_recv() {
                                Ok(message) => conn.write_all(message.as_bytes()).unwrap(),
                                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                                    closing = true;
                                    break;
                                }
                            }
                        }
                        if closing {
                            conn.shutdown().unwrap();
                            break;
                        }
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        });

        let (mut reader, mut writer) = tokio::io::split(client);
        let reading = tokio::task::spawn_local(async move {
            let mut all = String::new();
            reader.read_to_string(&mut all).await.unwrap();
            all
        });
        co_await!(writer.write_all(b"echo me\n")).unwrap();
        co_await!(pusher).unwrap();
        co_await!(owner).unwrap();
        drop(writer);
        co_await!(reading).unwrap()
    });
    let pushes: Vec<&str> = received.lines().filter(|l| l.starts_with("push")).collect();
    let expected: Vec<String> = (0..PUSHES).map(|i| format!("push {i}")).collect();
    assert_eq!(pushes, expected);
    assert_eq!(received.lines().filter(|l| *l == "echo me").count(), 1);
}
