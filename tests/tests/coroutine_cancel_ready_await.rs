//! While a suspended coroutine is dropped, its destructors have no executor: `co_await!` and
//! `try_await` there poll the future once, return what is ready, and refuse what is pending.
//!
//! A failure in these cases is a panic inside a destructor during unwinding, which aborts,
//! so the cases that could abort run in a child process.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use corona::{co_await, Coroutine};
use corona_tests::{panic_message, run_in_child_process};
use futures::future;
use futures::FutureExt;

/// Runs `on_drop` in a destructor on the stack of a coroutine that is suspended and then
/// dropped, and returns what it produced.
fn in_a_cancelled_destructor<T: 'static>(on_drop: impl FnOnce() -> T + 'static) -> T {
    struct OnDrop<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            (self.0.take().unwrap())();
        }
    }
    let out = Rc::new(RefCell::new(None));
    let slot = out.clone();
    let mut c = Coroutine::new(move || {
        let _guard = OnDrop(Some(move || *slot.borrow_mut() = Some(on_drop())));
        co_await!(future::pending::<()>());
    });
    assert!(
        (&mut c).now_or_never().is_none(),
        "the coroutine must be suspended"
    );
    drop(c);
    let out = out.borrow_mut().take();
    out.expect("the destructor ran")
}

#[test]
fn co_await_of_a_ready_future_in_a_cancelled_destructor_returns_its_value() {
    run_in_child_process(
        "co_await_of_a_ready_future_in_a_cancelled_destructor_returns_its_value",
        || {
            let got = in_a_cancelled_destructor(|| co_await!(async { 3 }));
            assert_eq!(got, 3);
        },
    );
}

#[test]
fn an_uncontended_tokio_mutex_can_be_locked_in_a_cancelled_destructor() {
    run_in_child_process(
        "an_uncontended_tokio_mutex_can_be_locked_in_a_cancelled_destructor",
        || {
            let mutex = Rc::new(tokio::sync::Mutex::new(vec![1]));
            let shared = mutex.clone();
            let len = in_a_cancelled_destructor(move || {
                let mut items = co_await!(shared.lock());
                items.push(2);
                items.len()
            });
            assert_eq!(len, 2);
            assert_eq!(*mutex.try_lock().unwrap(), [1, 2]);
        },
    );
}

#[test]
fn a_coroutine_that_completes_at_once_can_be_awaited_in_a_cancelled_destructor() {
    run_in_child_process(
        "a_coroutine_that_completes_at_once_can_be_awaited_in_a_cancelled_destructor",
        || {
            let got = in_a_cancelled_destructor(|| {
                co_await!(Coroutine::new(|| co_await!(async { 20 }) + 1))
            });
            assert_eq!(got, 21);
        },
    );
}

#[test]
fn try_await_in_a_cancelled_destructor_is_ok_when_ready_and_err_when_pending() {
    run_in_child_process(
        "try_await_in_a_cancelled_destructor_is_ok_when_ready_and_err_when_pending",
        || {
            let (ready, pending) = in_a_cancelled_destructor(|| {
                (
                    corona::try_await(async { "ready" }),
                    corona::try_await(future::pending::<()>()),
                )
            });
            assert_eq!(ready, Ok("ready"));
            assert_eq!(pending, Err(corona::NotInCoroutine));
        },
    );
}

#[test]
fn a_pending_future_in_a_cancelled_destructor_panics_saying_it_cannot_wait() {
    // Caught inside the destructor, so nothing aborts.
    let message = in_a_cancelled_destructor(|| {
        let caught = catch_unwind(AssertUnwindSafe(|| co_await!(future::pending::<()>())));
        panic_message(&*caught.expect_err("a pending future cannot be waited for here"))
    });
    assert!(message.contains("pending future"), "{message}");
    assert!(message.contains("being dropped"), "{message}");
    assert!(message.contains("corona::try_await"), "{message}");
}

#[test]
fn a_pending_future_awaited_by_a_cancelled_destructor_aborts_the_process() {
    // As documented: a panic that leaves a destructor during unwinding aborts.
    const NAME: &str = "a_pending_future_awaited_by_a_cancelled_destructor_aborts_the_process";
    if corona_tests::is_child(NAME) {
        in_a_cancelled_destructor(|| co_await!(future::pending::<()>()));
        println!("not aborted");
        return;
    }
    let stderr = corona_tests::assert_child_aborts(NAME, &[]);
    assert!(stderr.contains("corona::try_await"), "{stderr}");
}

#[test]
fn a_destructor_that_panics_while_a_cancelled_coroutine_unwinds_aborts_the_process() {
    // As documented: cancellation is unwinding, and a panic escaping a destructor during
    // unwinding aborts.
    const NAME: &str =
        "a_destructor_that_panics_while_a_cancelled_coroutine_unwinds_aborts_the_process";
    if corona_tests::is_child(NAME) {
        in_a_cancelled_destructor(|| panic!("a destructor panics"));
        println!("not aborted");
        return;
    }
    let stderr = corona_tests::assert_child_aborts(NAME, &[]);
    assert!(stderr.contains("a destructor panics"), "{stderr}");
}

#[test]
fn a_body_that_catches_its_cancellation_cannot_wait_again_and_its_stack_comes_back() {
    // `catch_unwind` around a wait catches the cancellation; the body runs on without an
    // executor, its next co_await! of a pending future panics, and that panic comes out of
    // the `drop`. The stack goes back to the pool all the same.
    let stacks = corona::__private::stacks_in_use();
    let after_catch = Rc::new(RefCell::new(None));
    let seen = after_catch.clone();
    let mut c = Coroutine::new(move || {
        let caught = catch_unwind(|| co_await!(future::pending::<()>()));
        *seen.borrow_mut() = Some((caught.is_err(), co_await!(async { "ready" })));
        co_await!(future::pending::<()>());
    });
    assert!((&mut c).now_or_never().is_none());
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(c)));
    let message = panic_message(&*dropped.expect_err("the second wait fails"));
    assert!(message.contains("being dropped"), "{message}");
    assert_eq!(*after_catch.borrow(), Some((true, "ready")));
    assert_eq!(corona::__private::stacks_in_use(), stacks);
}
