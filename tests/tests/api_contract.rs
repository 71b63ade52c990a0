//! Every name and call shape of `shared/API.md`, used exactly as that contract shows them.
//! Users and checks outside this repository compile against it: if this file stops compiling
//! or passing, the public API broke.

use std::io::{BufRead, Read, Seek, Write};
use std::time::Duration;

use corona::prelude::*;
use corona::{co_await, Coroutine};
use futures::{Sink, Stream};

async fn some_future(n: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    n
}

fn helper(a: u64) -> u64 {
    co_await!(async move { a + 1 })
}

#[corona::coroutine]
fn fetch(n: u64) -> u64 {
    let a = co_await!(some_future(n));
    helper(a)
}

struct Service;

impl Service {
    #[corona::coroutine(stack_size = 64 * 1024)]
    fn call(self, n: u64) -> u64 {
        n * 2
    }
}

fn assert_unpin_future<F: std::future::Future + Unpin>(_: &F) {}
fn assert_stream<S: Stream + Unpin>(_: &S) {}
fn assert_send<T: Send>(_: &T) {}

#[test]
fn coroutines() {
    let c: Coroutine<u64> = fetch(7);
    assert_unpin_future(&c);
    let v: u64 = corona::run(|| co_await!(c));
    assert_eq!(v, 8);

    assert_eq!(futures::executor::block_on(Service.call(2)), 4);
    let built: Coroutine<u8> = corona::Builder::new().stack_size(1 << 20).build(|| 1);
    assert_eq!(futures::executor::block_on(built), 1);
    assert_eq!(futures::executor::block_on(Coroutine::new(|| 2)), 2);

    let not_in: Result<u8, corona::NotInCoroutine> = corona::try_await(async { 1 });
    assert!(not_in.is_err());
    assert!(!corona::in_coroutine());
    corona::run(|| {
        corona::yield_now();
        let handle: tokio::task::JoinHandle<u8> = corona::spawn_local(|| 3);
        assert_eq!(corona::await_future(handle).unwrap(), 3);
    });
}

#[corona::test]
fn streams_sinks_generators() {
    let mut s = futures::stream::iter([1, 2, 3]);
    assert_eq!(s.co_next(), Some(1));
    assert_eq!((&mut s).co_iter().next(), Some(2));
    assert_eq!(s.co_iter().collect::<Vec<_>>(), [3]);

    let (mut k, rx) = futures::channel::mpsc::channel::<u8>(4);
    fn is_sink<K: Sink<u8> + Unpin>(_: &K) {}
    is_sink(&k);
    k.co_send(1).unwrap();
    k.co_flush().unwrap();
    k.co_close().unwrap();
    assert_eq!(rx.co_iter().collect::<Vec<_>>(), [1]);

    let g: corona::Generator<u32> = corona::generator(|y: &corona::Yielder<u32>| {
        y.yield_(1);
    });
    assert_stream(&g);
    assert_eq!(g.co_iter().collect::<Vec<_>>(), [1]);
}

#[corona::test]
fn sync_io_over_async_io() {
    let (a, b) = tokio::io::duplex(64);
    let mut w = corona::io::Blocking::new(a);
    w.write_all(b"line\n").unwrap();
    let _: &tokio::io::DuplexStream = w.get_ref();
    let _: &mut tokio::io::DuplexStream = w.get_mut();
    drop(w.into_inner());
    let mut r = corona::io::Blocking::new(tokio::io::BufReader::new(b));
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert_eq!(line, "line\n");
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();

    fn is_seek<T: Seek>() {}
    is_seek::<corona::io::Blocking<tokio::fs::File>>();

    let outside = std::thread::spawn(|| {
        let (a, _b) = tokio::io::duplex(64);
        corona::io::Blocking::new(a).read(&mut [0; 4]).unwrap_err()
    });
    assert!(outside
        .join()
        .unwrap()
        .to_string()
        .contains("outside of a coroutine"));
}

#[test]
fn many_cores() {
    let pool = corona::Pool::new(2);
    let ok = pool.spawn(|| 1u8);
    assert_send(&ok);
    let failed = pool.spawn(|| -> u8 { panic!("job failed") });
    let results = futures::executor::block_on(async { (ok.await, failed.await) });
    assert_eq!(results.0.unwrap(), 1);
    let err: corona::JoinError = results.1.unwrap_err();
    assert!(err.is_panic());
}

// ---- io: timeouts, interrupts, typed errors, Builder::spawn_local (branch io) ----

#[corona::test]
fn io_timeouts_interrupts_and_typed_errors() {
    use std::io::ErrorKind;

    let (_a, b) = tokio::io::duplex(64);
    let mut conn = corona::io::Blocking::new(b);
    let set: std::io::Result<()> = conn.set_read_timeout(Some(Duration::from_millis(5)));
    set.unwrap();
    conn.set_write_timeout(None).unwrap();
    let _: Option<Duration> = conn.read_timeout();
    let _: Option<Duration> = conn.write_timeout();
    assert_eq!(
        conn.set_read_timeout(Some(Duration::ZERO))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        conn.read(&mut [0; 4]).unwrap_err().kind(),
        ErrorKind::TimedOut
    );

    let interrupt = corona::io::Interrupt::new();
    fn clone_send_sync<T: Clone + Send + Sync>(_: &T) {}
    clone_send_sync(&interrupt);
    conn.set_interrupt(Some(interrupt.clone()));
    interrupt.interrupt();
    assert_eq!(
        conn.read(&mut [0; 4]).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    let was_raised: bool = interrupt.clear();
    assert!(was_raised);
    conn.set_interrupt(None);

    let outside = std::thread::spawn(|| {
        let (a, _b) = tokio::io::duplex(64);
        corona::io::Blocking::new(a).read(&mut [0; 4]).unwrap_err()
    });
    let err = outside.join().unwrap();
    assert!(err
        .get_ref()
        .and_then(|e| e.downcast_ref::<corona::NotInCoroutine>())
        .is_some());

    let handle: tokio::task::JoinHandle<u8> =
        corona::Builder::new().stack_size(1 << 20).spawn_local(|| 1);
    assert_eq!(co_await!(handle).unwrap(), 1);
}

// ---- end io ----
