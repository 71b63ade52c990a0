//! A coroutine or generator unrelated to a panic in progress works normally: a destructor
//! that runs during a panic (or during the cancellation of another coroutine) can drive a
//! new one to completion, suspending and resuming. Only a coroutine whose own stack unwinds
//! refuses to wait.
//!
//! A refusal where none is due, or a wait where a refusal is, may abort the process (a
//! panic in a destructor during unwinding, or a suspend in the middle of one), so every case
//! runs in a child process and a regression fails under its own name.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use corona::{co_await, Coroutine, Yielder};
use corona_tests::{panic_message, run_in_child_process};
use futures::executor::{block_on, block_on_stream};
use futures::{future, FutureExt, StreamExt};

/// Runs `f` when dropped.
struct OnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0.take().unwrap())();
    }
}

fn on_drop<F: FnOnce()>(f: F) -> OnDrop<F> {
    OnDrop(Some(f))
}

/// A new coroutine that suspends several times (once for a value sent from another thread)
/// before it returns; driven to completion by `block_on`.
fn drive_a_new_coroutine() -> u32 {
    let (tx, rx) = futures::channel::oneshot::channel();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(5));
        tx.send(40).unwrap();
    });
    let out = block_on(Coroutine::new(move || {
        corona::yield_now();
        let got = co_await!(rx).unwrap();
        corona::yield_now();
        got + 2
    }));
    sender.join().unwrap();
    out
}

/// A new generator that suspends between its items; drained by `block_on_stream`.
fn drain_a_new_generator() -> Vec<u32> {
    let gen = corona::generator(|y: &Yielder<u32>| {
        y.yield_(1);
        corona::yield_now();
        y.yield_(co_await!(async { 2 }));
        corona::yield_now();
        y.yield_(3);
    });
    block_on_stream(gen).collect()
}

/// Polls `fut` to completion with a no-op waker: for the outer coroutines, whose waits all
/// wake themselves, so that `block_on` stays free for the code under test (futures'
/// executors refuse to nest).
fn spin<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1000 {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("not ready after 1000 polls");
}

/// Runs `work` in a destructor during an ordinary panic outside any coroutine, and returns
/// what it produced.
fn during_a_plain_panic<T: 'static>(work: impl FnOnce() -> T + 'static) -> T {
    let out = Rc::new(RefCell::new(None));
    let slot = out.clone();
    let caught = catch_unwind(AssertUnwindSafe(move || {
        let _guard = on_drop(move || *slot.borrow_mut() = Some(work()));
        panic!("ordinary panic");
    }));
    assert_eq!(panic_message(&*caught.unwrap_err()), "ordinary panic");
    let out = out.borrow_mut().take();
    out.expect("the destructor ran")
}

/// Runs `work` in a destructor on a coroutine's stack while that coroutine's own panic
/// unwinds it, and returns what it produced.
fn during_a_coroutine_panic<T: 'static>(work: impl FnOnce() -> T + 'static) -> T {
    let out = Rc::new(RefCell::new(None));
    let slot = out.clone();
    let panicking = Coroutine::new(move || {
        let _guard = on_drop(move || *slot.borrow_mut() = Some(work()));
        corona::yield_now();
        panic!("the body panics");
    });
    let caught = catch_unwind(AssertUnwindSafe(|| spin(panicking)));
    assert_eq!(panic_message(&*caught.unwrap_err()), "the body panics");
    let out = out.borrow_mut().take();
    out.expect("the destructor ran")
}

/// Runs `work` in a destructor while a suspended coroutine is dropped (cancelled), and
/// returns what it produced.
fn during_a_cancellation<T: 'static>(work: impl FnOnce() -> T + 'static) -> T {
    let out = Rc::new(RefCell::new(None));
    let slot = out.clone();
    let mut cancelled = Coroutine::new(move || {
        let _guard = on_drop(move || *slot.borrow_mut() = Some(work()));
        co_await!(future::pending::<()>());
    });
    assert!((&mut cancelled).now_or_never().is_none());
    drop(cancelled);
    let out = out.borrow_mut().take();
    out.expect("the destructor ran")
}

#[test]
fn a_destructor_during_a_plain_panic_drives_a_new_coroutine() {
    run_in_child_process(
        "a_destructor_during_a_plain_panic_drives_a_new_coroutine",
        || assert_eq!(during_a_plain_panic(drive_a_new_coroutine), 42),
    );
}

#[test]
fn a_destructor_during_a_plain_panic_drains_a_new_generator() {
    run_in_child_process(
        "a_destructor_during_a_plain_panic_drains_a_new_generator",
        || assert_eq!(during_a_plain_panic(drain_a_new_generator), [1, 2, 3]),
    );
}

#[test]
fn a_destructor_during_a_coroutine_panic_drives_a_new_coroutine() {
    run_in_child_process(
        "a_destructor_during_a_coroutine_panic_drives_a_new_coroutine",
        || assert_eq!(during_a_coroutine_panic(drive_a_new_coroutine), 42),
    );
}

#[test]
fn a_destructor_during_a_generator_panic_drains_a_new_generator() {
    run_in_child_process(
        "a_destructor_during_a_generator_panic_drains_a_new_generator",
        || {
            let out = Rc::new(RefCell::new(None));
            let slot = out.clone();
            let gen = corona::generator(move |y: &Yielder<u32>| {
                let _guard = on_drop(move || *slot.borrow_mut() = Some(drain_a_new_generator()));
                y.yield_(0);
                panic!("the generator panics");
            });
            let caught = catch_unwind(AssertUnwindSafe(|| spin(gen.count())));
            assert_eq!(panic_message(&*caught.unwrap_err()), "the generator panics");
            assert_eq!(out.borrow_mut().take(), Some(vec![1, 2, 3]));
        },
    );
}

#[test]
fn a_destructor_during_a_cancellation_drives_a_new_coroutine() {
    run_in_child_process(
        "a_destructor_during_a_cancellation_drives_a_new_coroutine",
        || assert_eq!(during_a_cancellation(drive_a_new_coroutine), 42),
    );
}

#[test]
fn a_destructor_during_a_cancellation_drains_a_new_generator() {
    run_in_child_process(
        "a_destructor_during_a_cancellation_drains_a_new_generator",
        || assert_eq!(during_a_cancellation(drain_a_new_generator), [1, 2, 3]),
    );
}

#[test]
fn a_new_coroutine_inside_a_new_coroutine_during_a_panic_waits_too() {
    // Two levels of coroutines started during a panic: the inner one's waits pass through
    // the outer one's suspend.
    run_in_child_process(
        "a_new_coroutine_inside_a_new_coroutine_during_a_panic_waits_too",
        || {
            let got = during_a_plain_panic(|| {
                block_on(Coroutine::new(|| {
                    let inner = Coroutine::new(|| {
                        corona::yield_now();
                        5
                    });
                    corona::yield_now();
                    co_await!(inner) * 2
                }))
            });
            assert_eq!(got, 10);
        },
    );
}

#[test]
fn a_coroutine_still_refuses_to_wait_while_its_own_stack_unwinds() {
    // Caught inside the destructor, so nothing aborts; the refusal is recorded. (If the
    // coroutine suspended instead, the process could abort.)
    run_in_child_process(
        "a_coroutine_still_refuses_to_wait_while_its_own_stack_unwinds",
        || {
            let message = during_a_coroutine_panic(|| {
                let caught = catch_unwind(AssertUnwindSafe(|| co_await!(future::pending::<()>())));
                panic_message(&*caught.expect_err("it must refuse to suspend"))
            });
            assert!(
                message.contains("while this coroutine is unwinding"),
                "{message}"
            );
        },
    );
}

#[test]
fn a_coroutine_first_resumed_during_a_panic_refuses_to_wait_once_its_own_stack_unwinds() {
    // Started in a destructor during a panic, so that panic was in progress at its first
    // resume; resumed again after it ended, then its own body panics. What it remembered
    // of the first resume must not make its own unwinding look like someone else's. (If it
    // did, `try_await` would suspend mid-unwind: a child process, in case that aborts.)
    run_in_child_process(
        "a_coroutine_first_resumed_during_a_panic_refuses_to_wait_once_its_own_stack_unwinds",
        || {
            let waited = Rc::new(RefCell::new(None));
            let slot = waited.clone();
            let mut started = during_a_plain_panic(move || {
                let mut coroutine = Coroutine::new(move || {
                    corona::yield_now();
                    let _guard = on_drop(move || {
                        *slot.borrow_mut() = Some(corona::try_await(future::pending::<()>()));
                    });
                    panic!("the body panics");
                });
                assert!(
                    (&mut coroutine).now_or_never().is_none(),
                    "it suspends once"
                );
                coroutine
            });
            let caught = catch_unwind(AssertUnwindSafe(|| (&mut started).now_or_never()));
            let payload = caught.expect_err("the body's panic comes out of the poll");
            assert_eq!(panic_message(&*payload), "the body panics");
            assert_eq!(*waited.borrow(), Some(Err(corona::NotInCoroutine)));
        },
    );
}

#[test]
fn beyond_the_check_a_coroutine_resumed_during_a_panic_that_panics_too_can_suspend_mid_unwind() {
    // The limit the crate guide states (Cancellation and panics): resumed while a panic is
    // in progress, a coroutine cannot tell a panic of its own from that one, so a destructor
    // on its stack that waits suspends it in the middle of its unwinding. A later poll must
    // finish that unwinding, with the body's panic, and leave the thread no longer
    // panicking. Should corona learn to tell the two apart, this fails: update the guide.
    run_in_child_process(
        "beyond_the_check_a_coroutine_resumed_during_a_panic_that_panics_too_can_suspend_mid_unwind",
        || {
            let unwound = Rc::new(Cell::new(false));
            let seen = unwound.clone();
            let mut suspended = during_a_plain_panic(move || {
                let mut coroutine = Coroutine::new(move || {
                    let _guard = on_drop(move || {
                        corona::yield_now();
                        seen.set(true);
                    });
                    panic!("the body panics");
                });
                let polled = (&mut coroutine).now_or_never();
                assert!(polled.is_none(), "it suspends in the middle of its unwinding");
                coroutine
            });
            assert!(!unwound.get());
            assert!(
                std::thread::panicking(),
                "its unfinished unwinding keeps the thread panicking"
            );
            let caught = catch_unwind(AssertUnwindSafe(|| (&mut suspended).now_or_never()));
            let payload = caught.expect_err("the body's panic comes out of the poll");
            assert_eq!(panic_message(&*payload), "the body panics");
            assert!(unwound.get(), "the destructor finished");
            assert!(!std::thread::panicking());
            assert!(suspended.is_finished());
        },
    );
}

#[test]
fn try_await_gives_up_instead_of_panicking_while_its_own_stack_unwinds() {
    run_in_child_process(
        "try_await_gives_up_instead_of_panicking_while_its_own_stack_unwinds",
        || {
            let (ready, pending) = during_a_coroutine_panic(|| {
                (
                    corona::try_await(async { 7 }),
                    corona::try_await(future::pending::<()>()),
                )
            });
            assert_eq!(ready, Ok(7));
            assert_eq!(pending, Err(corona::NotInCoroutine));
        },
    );
}

#[test]
fn a_generator_still_refuses_to_yield_while_its_own_stack_unwinds() {
    run_in_child_process(
        "a_generator_still_refuses_to_yield_while_its_own_stack_unwinds",
        || {
            let message = Rc::new(RefCell::new(String::new()));
            let seen = message.clone();
            let gen = corona::generator(move |y: &Yielder<u32>| {
                let _guard = on_drop(|| {
                    let caught = catch_unwind(AssertUnwindSafe(|| y.yield_(99)));
                    *seen.borrow_mut() =
                        panic_message(&*caught.expect_err("it must refuse to yield"));
                });
                y.yield_(1);
                panic!("the generator panics");
            });
            let caught = catch_unwind(AssertUnwindSafe(|| {
                block_on_stream(gen).collect::<Vec<_>>()
            }));
            assert_eq!(panic_message(&*caught.unwrap_err()), "the generator panics");
            let message = message.borrow();
            assert!(message.contains("unwinding"), "{message}");
        },
    );
}

#[test]
fn in_coroutine_is_false_while_its_own_stack_unwinds_and_true_in_a_new_one() {
    run_in_child_process(
        "in_coroutine_is_false_while_its_own_stack_unwinds_and_true_in_a_new_one",
        || {
            let seen = Rc::new(Cell::new((true, false)));
            let out = seen.clone();
            during_a_coroutine_panic(move || {
                let own = corona::in_coroutine();
                let fresh = block_on(Coroutine::new(corona::in_coroutine));
                out.set((own, fresh));
            });
            assert_eq!(seen.get(), (false, true));
        },
    );
}
