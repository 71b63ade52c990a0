//! The errors of `corona::io` are typed: outside a coroutine every call's `io::Error`
//! downcasts to `corona::NotInCoroutine`, while unwinding to `corona::io::Unwinding`.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, BufRead, ErrorKind, Read, Seek, SeekFrom, Write};
use std::rc::Rc;
use std::time::Duration;

use corona::io::{Blocking, BlockingFutures, Unwinding};
use corona::NotInCoroutine;
use corona_tests::finish_within;

/// The error of `result` carries a `T`, and its message is `T`'s.
fn assert_carries<T, R>(result: io::Result<R>, what: &str) -> io::Error
where
    T: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let err = result.expect_err(what);
    assert_eq!(err.kind(), ErrorKind::Other, "{what}: {err}");
    let inner = err
        .get_ref()
        .unwrap_or_else(|| panic!("{what}: {err:?} carries nothing"));
    assert!(
        inner.is::<T>(),
        "{what}: {err:?} does not carry the expected type"
    );
    err
}

#[test]
fn every_call_outside_a_coroutine_carries_not_in_coroutine() {
    finish_within(Duration::from_secs(20), || {
        let (_a, b) = tokio::io::duplex(8);
        let mut io = Blocking::new(tokio::io::BufStream::new(b));
        let read = assert_carries::<NotInCoroutine, _>(io.read(&mut [0; 4]), "read");
        assert!(
            read.to_string().contains("outside of a coroutine"),
            "{read}"
        );
        assert_carries::<NotInCoroutine, _>(io.fill_buf().map(<[u8]>::len), "fill_buf");
        assert_carries::<NotInCoroutine, _>(io.write(b"x"), "write");
        assert_carries::<NotInCoroutine, _>(io.flush(), "flush");
        assert_carries::<NotInCoroutine, _>(io.shutdown(), "shutdown");

        let mut file = Blocking::new(io::Cursor::new(vec![0u8; 4]));
        assert_carries::<NotInCoroutine, _>(file.seek(SeekFrom::Start(1)), "seek");

        let mut futures_io = BlockingFutures::new(futures::io::Cursor::new(vec![1u8]));
        assert_carries::<NotInCoroutine, _>(futures_io.read(&mut [0; 1]), "futures read");
        assert_carries::<NotInCoroutine, _>(futures_io.close(), "futures close");
    });
}

#[test]
fn a_program_matches_the_error_without_reading_its_message() {
    let (_a, b) = tokio::io::duplex(8);
    let err = Blocking::new(b).read(&mut [0; 4]).unwrap_err();
    let matched = match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<NotInCoroutine>())
    {
        Some(NotInCoroutine) => "not in a coroutine",
        None => "something else",
    };
    assert_eq!(matched, "not in a coroutine");
    assert_eq!(err.to_string(), NotInCoroutine.to_string());
}

#[test]
fn inside_the_poll_of_an_awaited_future_it_carries_not_in_coroutine() {
    let result = corona::run(|| {
        let (_a, b) = tokio::io::duplex(8);
        let mut io = Blocking::new(b);
        corona::co_await!(futures::future::poll_fn(|_| std::task::Poll::Ready(
            io.read(&mut [0; 4])
        )))
    });
    assert_carries::<NotInCoroutine, _>(result, "read inside a poll");
}

/// Writes through a `Blocking` in its destructor and records the error.
struct WritesOnDrop {
    out: Blocking<tokio::io::DuplexStream>,
    seen: Rc<RefCell<Option<io::Error>>>,
}

impl Drop for WritesOnDrop {
    fn drop(&mut self) {
        *self.seen.borrow_mut() = self.out.write(b"bye").err();
    }
}

#[test]
fn a_call_while_a_panic_unwinds_carries_unwinding() {
    let seen = Rc::new(RefCell::new(None));
    let recorded = seen.clone();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        corona::run(move || {
            let (a, _b) = tokio::io::duplex(8);
            let _guard = WritesOnDrop {
                out: Blocking::new(a),
                seen: recorded,
            };
            panic!("on purpose");
        })
    }));
    assert!(panicked.is_err());
    let err = seen
        .borrow_mut()
        .take()
        .expect("the write in drop must fail");
    let err = assert_carries::<Unwinding, ()>(Err(err), "write while unwinding");
    assert!(err.to_string().contains("unwinds"), "{err}");
}

#[test]
fn a_call_while_a_dropped_coroutine_unwinds_carries_unwinding() {
    let seen = Rc::new(RefCell::new(None));
    let recorded = seen.clone();
    let mut coroutine = Box::pin(corona::Coroutine::new(move || {
        let (a, _b) = tokio::io::duplex(8);
        let _guard = WritesOnDrop {
            out: Blocking::new(a),
            seen: recorded,
        };
        corona::co_await!(futures::future::pending::<()>());
    }));
    let waker = futures::task::noop_waker();
    let polled = coroutine
        .as_mut()
        .poll(&mut std::task::Context::from_waker(&waker));
    assert!(polled.is_pending());
    drop(coroutine); // unwinds the suspended stack: the guard writes
    let err = seen
        .borrow_mut()
        .take()
        .expect("the write in drop must fail");
    assert_carries::<Unwinding, ()>(Err(err), "write in a dropped coroutine");
}

#[test]
fn a_new_coroutine_started_by_a_destructor_during_a_panic_can_wait_for_io() {
    // The panic in progress belongs to the thread, not to the new coroutine: its reads wait
    // as usual instead of failing with `Unwinding`.
    struct ReadsDuringUnwind(Rc<RefCell<Option<io::Result<String>>>>);
    impl Drop for ReadsDuringUnwind {
        fn drop(&mut self) {
            let (mut tx, rx) = tokio::io::duplex(8);
            let reader = corona::Coroutine::new(move || {
                let mut text = String::new();
                Blocking::new(rx).read_to_string(&mut text).map(|_| text)
            });
            let writer = async move {
                tokio::task::yield_now().await; // the reader waits first
                tokio::io::AsyncWriteExt::write_all(&mut tx, b"still works").await
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let (read, written) = rt.block_on(futures::future::join(reader, writer));
            written.unwrap();
            *self.0.borrow_mut() = Some(read);
        }
    }
    let seen = Rc::new(RefCell::new(None));
    let guard = ReadsDuringUnwind(seen.clone());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _guard = guard;
        panic!("an ordinary panic");
    }));
    assert!(panicked.is_err());
    let read = seen.borrow_mut().take().expect("the destructor ran");
    assert_eq!(read.unwrap(), "still works");
}
