//! Every name and call shape of corona's public API contract, used exactly as that
//! contract shows them, each result checked. Users and checks outside this repository compile
//! against it: if this file stops compiling or passing, the public API broke.

use std::future::Future;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll};
use std::time::Duration;

use corona::prelude::*;
use corona::{co_await, Coroutine};
use corona_tests::{block_on_within_20s, panic_message, DropCounter, PendingForever};
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

#[corona::coroutine]
fn returns_unit(ran: std::rc::Rc<std::cell::Cell<bool>>) {
    ran.set(true);
}

struct Service;

impl Service {
    #[corona::coroutine(stack_size = 64 * 1024)]
    fn call(self, n: u64) -> u64 {
        assert_eq!(corona::stack_usage().unwrap().size(), 64 * 1024);
        n * 2
    }
}

/// `#[corona::main]` on a `fn main()` (here in a module, so that the test can call it).
mod app {
    #[corona::main]
    pub fn main() {
        assert!(corona::in_coroutine());
        corona::co_await!(tokio::time::sleep(std::time::Duration::from_millis(1)));
    }
}

fn assert_unpin_future<F: std::future::Future + Unpin>(_: &F) {}
fn assert_stream<S: Stream + Unpin>(_: &S) {}
fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync_clone<T: Send + Sync + Clone>(_: &T) {}

#[test]
fn coroutines() {
    let ran = std::rc::Rc::new(std::cell::Cell::new(false));
    let unit: Coroutine<()> = returns_unit(ran.clone());
    assert!(!ran.get(), "calling runs nothing yet");
    futures::executor::block_on(unit);
    assert!(ran.get());

    let mut c: Coroutine<u64> = fetch(7);
    assert_unpin_future(&c);
    assert!(!c.is_finished());
    let v: u64 = corona::run(|| co_await!(&mut c));
    assert_eq!(v, 8);
    assert!(c.is_finished());

    assert_eq!(futures::executor::block_on(Service.call(2)), 4);
    let built: Coroutine<u8> = corona::Builder::new().stack_size(1 << 20).build(|| {
        assert_eq!(corona::stack_usage().unwrap().size(), 1 << 20);
        1
    });
    assert_eq!(futures::executor::block_on(built), 1);
    assert_eq!(futures::executor::block_on(Coroutine::new(|| 2)), 2);

    // A panic in the body resumes out of poll.
    let panicked = catch_unwind(|| futures::executor::block_on(Coroutine::new(|| panic!("body"))));
    assert_eq!(panic_message(&*panicked.unwrap_err()), "body");

    // Dropping a suspended coroutine unwinds its stack; its destructors have no executor:
    // a pending future cannot be waited for there.
    let drops = DropCounter::new();
    let guard = drops.guard();
    let mut waiting = Coroutine::new(move || {
        let _guard = guard;
        co_await!(PendingForever(()));
    });
    let waker = futures::task::noop_waker();
    let polled = std::pin::Pin::new(&mut waiting).poll(&mut Context::from_waker(&waker));
    assert!(polled.is_pending());
    drop(waiting);
    assert_eq!(drops.dropped(), 1);

    let not_in: Result<u8, corona::NotInCoroutine> = corona::try_await(async { 1 });
    assert_eq!(not_in, Err(corona::NotInCoroutine));
    assert!(!corona::in_coroutine());
    let outside = catch_unwind(|| co_await!(async { 1 })).unwrap_err();
    assert!(panic_message(&*outside).contains("outside of a coroutine"));
    let inside = futures::executor::block_on(Coroutine::new(|| corona::try_await(async { 5 })));
    assert_eq!(inside, Ok(5));

    // co_await! from inside a poll that co_await! drives panics with a clear message.
    let reentrant = catch_unwind(|| {
        futures::executor::block_on(Coroutine::new(|| {
            co_await!(futures::future::poll_fn(|_| Poll::Ready(co_await!(
                async { 1 }
            ))))
        }))
    });
    assert!(panic_message(&*reentrant.unwrap_err()).contains("inside the poll()"));

    let words = [String::from("may"), String::from("borrow")];
    let joined: String = corona::run(|| {
        corona::yield_now();
        assert!(corona::in_coroutine());
        let handle: tokio::task::JoinHandle<u8> = corona::spawn_local(|| 3);
        assert_eq!(corona::await_future(handle).unwrap(), 3);
        words.join(" ")
    });
    assert_eq!(joined, "may borrow");
    let from_run = catch_unwind(|| corona::run(|| panic!("from run"))).unwrap_err();
    assert_eq!(panic_message(&*from_run), "from run");
    app::main();
}

#[corona::test]
fn corona_test_runs_the_body_in_a_coroutine() {
    assert!(corona::in_coroutine());
    corona::yield_now();
}

#[corona::test]
fn streams_sinks_generators() {
    let mut s = futures::stream::iter([1, 2, 3]);
    assert_eq!(s.co_next(), Some(1));
    let mut by_ref: corona::CoIter<&mut _> = (&mut s).co_iter();
    assert_eq!(by_ref.next(), Some(2));
    assert_eq!(s.co_iter().collect::<Vec<_>>(), [3]);

    let (mut k, rx) = futures::channel::mpsc::channel::<u8>(4);
    fn is_sink<K: Sink<u8> + Unpin>(_: &K) {}
    is_sink(&k);
    let sent: Result<(), futures::channel::mpsc::SendError> = k.co_send(1);
    sent.unwrap();
    k.co_feed(2).unwrap();
    k.co_flush().unwrap();
    k.co_close().unwrap();
    assert_eq!(rx.co_iter().collect::<Vec<_>>(), [1, 2]);

    // `y` passed into nested functions; the body may co_await!.
    fn nested(y: &corona::Yielder<u32>, from: u32) {
        y.yield_(co_await!(async move { from + 1 }));
    }
    let mut g: corona::Generator<u32> = corona::generator(|y: &corona::Yielder<u32>| {
        y.yield_(1);
        nested(y, 1);
    });
    assert_stream(&g);
    assert!(!g.is_finished());
    assert_eq!((&mut g).co_iter().collect::<Vec<_>>(), [1, 2]);
    assert!(g.is_finished());

    let small = corona::Generator::with_stack_size(32 * 1024, |y| {
        y.yield_(corona::stack_usage().unwrap().size());
    });
    assert_eq!(small.co_iter().collect::<Vec<_>>(), [32 * 1024]);

    // Dropping a generator early unwinds its stack.
    let drops = DropCounter::new();
    let guard = drops.guard();
    let mut early = corona::generator(move |y| {
        let _guard = guard;
        y.yield_(1);
        y.yield_(2);
    });
    assert_eq!(early.co_next(), Some(1));
    drop(early);
    assert_eq!(drops.dropped(), 1);
}

#[corona::test]
fn sync_io_over_async_io() {
    let (a, b) = tokio::io::duplex(64);
    let mut w = corona::io::Blocking::new(a);
    w.write_all(b"line\nrest").unwrap();
    w.flush().unwrap();
    let _: &tokio::io::DuplexStream = w.get_ref();
    let _: &mut tokio::io::DuplexStream = w.get_mut();
    drop(w.into_inner());
    let mut r = corona::io::Blocking::new(tokio::io::BufReader::new(b));
    let mut line = String::new();
    assert_eq!(r.read_line(&mut line).unwrap(), 5);
    assert_eq!(line, "line\n");
    let mut rest = Vec::new();
    assert_eq!(r.read_to_end(&mut rest).unwrap(), 4);
    assert_eq!(rest, b"rest");

    // Seek over an AsyncSeek.
    let mut file = corona::io::Blocking::new(std::io::Cursor::new(b"0123456789".to_vec()));
    assert_eq!(file.seek(SeekFrom::Start(6)).unwrap(), 6);
    let mut tail = String::new();
    file.read_to_string(&mut tail).unwrap();
    assert_eq!(tail, "6789");

    // The same over `futures::io` types.
    let mut futures_io = corona::io::BlockingFutures::new(futures::io::Cursor::new(Vec::new()));
    futures_io.write_all(b"abc").unwrap();
    assert_eq!(futures_io.seek(SeekFrom::Start(1)).unwrap(), 1);
    let mut read_back = String::new();
    futures_io.read_to_string(&mut read_back).unwrap();
    assert_eq!(read_back, "bc");
    let _: &mut futures::io::Cursor<Vec<u8>> = futures_io.get_mut();
    assert_eq!(futures_io.get_ref().get_ref(), b"abc");
    assert_eq!(futures_io.into_inner().into_inner(), b"abc");

    let outside = std::thread::spawn(|| {
        let (a, _b) = tokio::io::duplex(64);
        corona::io::Blocking::new(a).read(&mut [0; 4]).unwrap_err()
    });
    let err = outside.join().unwrap();
    assert!(err.to_string().contains("outside of a coroutine"), "{err}");
    // That `err.get_ref()` downcasts to `corona::NotInCoroutine` is checked in the io block
    // at the end of this file.
}

#[test]
fn many_cores() {
    let pool = corona::Pool::new(2);
    let ok = pool.spawn(|| 1u8);
    assert_send(&ok);
    let failed = pool.spawn(|| -> u8 { panic!("job failed") });
    let results = block_on_within_20s(async { (ok.await, failed.await) });
    assert_eq!(results.0.unwrap(), 1);
    let err: corona::JoinError = results.1.unwrap_err();
    assert!(err.is_panic());

    let handle: corona::PoolHandle = pool.handle();
    assert_send_sync_clone(&handle);
    let via_handle = std::thread::spawn(move || block_on_within_20s(handle.spawn(|| 2u8)));
    assert_eq!(via_handle.join().unwrap().unwrap(), 2);

    let waiting: corona::PoolJoinHandle<()> = pool.spawn(|| co_await!(PendingForever(())));
    waiting.abort();
    assert!(block_on_within_20s(waiting).unwrap_err().is_cancelled());
    pool.shutdown();

    let pool = corona::Pool::new(1);
    let stuck = pool.spawn(|| co_await!(PendingForever(())));
    pool.shutdown_timeout(Duration::from_millis(10));
    assert!(block_on_within_20s(stuck).unwrap_err().is_cancelled());
}

#[test]
fn stacks() {
    assert_eq!(corona::DEFAULT_STACK_SIZE, 256 * 1024);
    const { assert!(corona::MIN_STACK_SIZE <= corona::DEFAULT_STACK_SIZE) };
    // Process-wide: set it to what it is, so that the other tests here are not affected.
    let limit: usize = corona::stack_pool_limit();
    corona::set_stack_pool_limit(limit);
    assert_eq!(corona::stack_pool_limit(), limit);
    corona::trim_stack_pool(); // beyond the contract: give idle stacks back now

    assert!(corona::stack_usage().is_none());
    let usage: corona::StackUsage = futures::executor::block_on(Coroutine::new(|| {
        corona::stack_usage().expect("inside a coroutine")
    }));
    assert_eq!(usage.size(), corona::DEFAULT_STACK_SIZE);

    let absurd = catch_unwind(AssertUnwindSafe(|| {
        corona::Builder::new()
            .stack_size(usize::MAX / 2)
            .build(|| ())
    }));
    let message = panic_message(&*absurd.unwrap_err());
    assert!(
        message.contains("could not allocate a coroutine stack"),
        "{message}"
    );
}

// ---- Scoped coroutines (the contract's "Scoped coroutines") ---------------------------------

#[test]
fn scoped_coroutines() {
    corona::run(|| {
        #[allow(clippy::useless_vec)] // written as the contract writes it
        let names = vec![String::from("alpha"), String::from("be")];
        let total = corona::scope(|s: &corona::Scope<'_, '_>| {
            let a = s.spawn(|| {
                co_await!(tokio::time::sleep(std::time::Duration::from_millis(1)));
                names[0].len()
            });
            let b: corona::ScopedJoinHandle<'_, usize> = s.spawn(|| names[1].len());
            let _finished: bool = b.is_finished();
            a.join() + b.join()
        });
        assert_eq!(total, 7);
    });
    let outside = std::panic::catch_unwind(|| corona::scope(|_| ())).unwrap_err();
    assert!(corona_tests::panic_message(&*outside).contains("outside of a coroutine"));
}

// ---- end of Scoped coroutines ----------------------------------------------------------------

// ---- io: timeouts, interrupts, typed errors, Builder::spawn_local ----

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
