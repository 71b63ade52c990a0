//! A misuse panic names the caller's file and line (`#[track_caller]`), not corona's.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Once;

use corona::prelude::*;
use corona::{co_await, Coroutine, Yielder};
use futures::executor::block_on;
use futures::{future, FutureExt};

thread_local! {
    /// Where the last panic on this thread was reported, as `file:line`.
    static LAST_PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs, once per process, the panic hook that records where each panic was reported.
/// It records the location per thread, so tests running in parallel do not mix their panics
/// up. The hook cannot be changed while the thread panics: a test whose first
/// `panic_location` runs during unwinding calls this first.
fn record_panic_locations() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()));
            LAST_PANIC_AT.with(|last| *last.borrow_mut() = at);
            default(info);
        }));
    });
}

/// Runs `f`, which must panic, and returns where the panic was reported.
fn panic_location(f: impl FnOnce()) -> String {
    record_panic_locations();
    LAST_PANIC_AT.with(|last| last.borrow_mut().take());
    assert!(catch_unwind(AssertUnwindSafe(f)).is_err(), "it must panic");
    LAST_PANIC_AT
        .with(|last| last.borrow_mut().take())
        .expect("the hook saw the panic")
}

/// `file:line` of the line below the one this macro is called on.
macro_rules! next_line {
    () => {
        format!("{}:{}", file!(), line!() + 1)
    };
}

#[test]
fn co_await_outside_of_a_coroutine_reports_the_callers_line() {
    let mut expected = String::new();
    let at = panic_location(|| {
        expected = next_line!();
        co_await!(async { 1 });
    });
    assert_eq!(at, expected);
}

#[test]
fn await_future_and_yield_now_outside_report_the_callers_line() {
    let mut expected = String::new();
    let at = panic_location(|| {
        expected = next_line!();
        corona::await_future(async {});
    });
    assert_eq!(at, expected);
    let at = panic_location(|| {
        expected = next_line!();
        corona::yield_now();
    });
    assert_eq!(at, expected);
}

#[test]
fn stream_and_sink_methods_outside_report_the_callers_line() {
    let mut expected = String::new();
    let at = panic_location(|| {
        let mut items = futures::stream::iter([1]);
        expected = next_line!();
        items.co_next();
    });
    assert_eq!(at, expected);
    let at = panic_location(|| {
        let mut items = futures::stream::iter([1]).co_iter();
        expected = next_line!();
        items.next();
    });
    assert_eq!(at, expected);
    let at = panic_location(|| {
        let mut sink: Vec<u8> = Vec::new();
        expected = next_line!();
        let _ = sink.co_send(1);
    });
    assert_eq!(at, expected);
    let at = panic_location(|| {
        let mut sink: Vec<u8> = Vec::new();
        expected = next_line!();
        let _ = sink.co_feed(1);
    });
    assert_eq!(at, expected);
    let at = panic_location(|| {
        let mut sink: Vec<u8> = Vec::new();
        expected = next_line!();
        let _ = sink.co_flush();
    });
    assert_eq!(at, expected);
    let at = panic_location(|| {
        let mut sink: Vec<u8> = Vec::new();
        expected = next_line!();
        let _ = sink.co_close();
    });
    assert_eq!(at, expected);
}

#[test]
fn co_await_inside_a_driven_poll_reports_the_callers_line() {
    let expected = Rc::new(RefCell::new(String::new()));
    let inner = expected.clone();
    let at = panic_location(move || {
        block_on(Coroutine::new(move || {
            co_await!(future::poll_fn(|_| {
                *inner.borrow_mut() = next_line!();
                co_await!(async {});
                std::task::Poll::Ready(())
            }));
        }));
    });
    assert_eq!(at, *expected.borrow());
}

#[test]
fn co_await_pending_while_unwinding_reports_the_callers_line() {
    // Own unwinding (a panic in the body) and a cancellation (the coroutine dropped while
    // suspended); each caught inside the destructor.
    // The first `panic_location` below runs in a destructor while the body's panic unwinds.
    record_panic_locations();
    struct WaitsOnDrop(Rc<RefCell<Vec<(String, String)>>>);
    impl Drop for WaitsOnDrop {
        fn drop(&mut self) {
            let mut expected = String::new();
            let at = panic_location(|| {
                expected = next_line!();
                co_await!(future::pending::<()>());
            });
            self.0.borrow_mut().push((at, expected));
        }
    }
    let seen = Rc::new(RefCell::new(Vec::new()));
    let probe = WaitsOnDrop(seen.clone());
    let panicking = Coroutine::new(move || {
        let _probe = probe;
        panic!("body");
    });
    assert!(catch_unwind(AssertUnwindSafe(|| block_on(panicking))).is_err());
    let probe = WaitsOnDrop(seen.clone());
    let mut cancelled = Coroutine::new(move || {
        let _probe = probe;
        co_await!(future::pending::<()>());
    });
    assert!((&mut cancelled).now_or_never().is_none());
    drop(cancelled);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 2);
    for (at, expected) in seen.iter() {
        assert_eq!(at, expected);
    }
}

#[test]
fn yield_misuse_reports_the_callers_line() {
    // From inside a poll that co_await! drives, and from a coroutine nested in the
    // generator (`run` accepts a borrowing body, so the yielder reaches it).
    for nested in [false, true] {
        let expected = Rc::new(RefCell::new(String::new()));
        let inner = expected.clone();
        let at = panic_location(move || {
            let gen = corona::generator(move |y: &Yielder<u8>| {
                if nested {
                    corona::run(|| {
                        *inner.borrow_mut() = next_line!();
                        y.yield_(1);
                    });
                } else {
                    co_await!(future::poll_fn(|_| {
                        *inner.borrow_mut() = next_line!();
                        y.yield_(1);
                        std::task::Poll::Ready(())
                    }));
                }
            });
            block_on(futures::StreamExt::collect::<Vec<u8>>(gen));
        });
        assert_eq!(at, *expected.borrow(), "nested: {nested}");
    }
}

#[test]
fn polling_a_coroutine_after_its_output_reports_corona_not_the_caller() {
    // Executors poll, not users: `Coroutine::poll` does not track its caller, so the report
    // is corona's own line, and the message says what happened.
    let mut c = Coroutine::new(|| 1);
    assert_eq!(block_on(&mut c), 1);
    let polled = Cell::new(false);
    let at = panic_location(|| {
        polled.set(true);
        let _ = (&mut c).now_or_never();
    });
    assert!(polled.get());
    assert!(at.contains("corona/src/coroutine.rs"), "{at}");
}

#[test]
fn run_inside_a_runtime_reports_the_callers_line() {
    // tokio refuses to start a runtime inside another; its message, the caller's line.
    let mut expected = String::new();
    let at = panic_location(|| {
        corona::run(|| {
            expected = next_line!();
            corona::run(|| ());
        });
    });
    assert_eq!(at, expected);
}
