//! Panics resume out of `poll`; misuse panics with a message that says what to do.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use corona::{co_await, Coroutine};
use corona_tests::panic_message;
use futures::executor::block_on;

#[test]
fn a_panic_in_the_body_resumes_out_of_poll() {
    let c = Coroutine::new(|| {
        corona::yield_now();
        fn deep() -> u32 {
            panic!("boom at depth");
        }
        deep()
    });
    let err = catch_unwind(AssertUnwindSafe(|| block_on(c))).unwrap_err();
    assert_eq!(panic_message(&*err), "boom at depth");
}

#[test]
fn a_panic_propagates_out_of_corona_run() {
    let err = catch_unwind(|| {
        corona::run(|| {
            corona::yield_now();
            panic!("from run");
        })
    })
    .unwrap_err();
    assert_eq!(panic_message(&*err), "from run");
}

#[test]
fn the_thread_is_usable_after_a_coroutine_panicked() {
    let _ = catch_unwind(|| block_on(Coroutine::new(|| panic!("first"))));
    // The ambient state was restored: outside again, and new coroutines run.
    assert!(!corona::in_coroutine());
    assert_eq!(block_on(Coroutine::new(|| co_await!(async { 5 }))), 5);
}

#[test]
fn co_await_outside_of_a_coroutine_panics_with_advice() {
    let err = catch_unwind(|| co_await!(async { 1 })).unwrap_err();
    let msg = panic_message(&*err);
    assert!(msg.contains("outside of a coroutine"), "{msg}");
    assert!(msg.contains("#[corona::coroutine]"), "{msg}");
    assert!(msg.contains("try_await"), "{msg}");
}

#[test]
fn try_await_outside_returns_not_in_coroutine() {
    assert_eq!(corona::try_await(async { 1 }), Err(corona::NotInCoroutine));
    assert!(corona::NotInCoroutine
        .to_string()
        .contains("not running inside"));
    assert_eq!(
        block_on(Coroutine::new(|| corona::try_await(async { 1 }))),
        Ok(1)
    );
}

/// A future whose `poll` wrongly calls `co_await!`.
struct AwaitsInPoll;

impl Future for AwaitsInPoll {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        assert!(!corona::in_coroutine(), "poll cannot suspend its caller");
        co_await!(async {});
        Poll::Ready(())
    }
}

#[test]
fn co_await_inside_a_driven_poll_panics_clearly() {
    let err = catch_unwind(|| block_on(Coroutine::new(|| co_await!(AwaitsInPoll)))).unwrap_err();
    let msg = panic_message(&*err);
    assert!(
        msg.contains("from inside the poll() of a future that co_await! is driving"),
        "{msg}"
    );
}

#[test]
fn a_coroutine_polled_inside_a_driven_poll_is_fine() {
    // Polling another coroutine from a future that co_await! drives is legitimate: the
    // inner coroutine has a frame of its own.
    let out = block_on(Coroutine::new(|| {
        let a = Coroutine::new(|| {
            corona::yield_now();
            1
        });
        let b = Coroutine::new(|| 2);
        let (a, b) = co_await!(futures::future::join(a, b));
        a + b
    }));
    assert_eq!(out, 3);
}

#[test]
fn polling_after_completion_panics() {
    let mut c = Coroutine::new(|| 1);
    assert_eq!(block_on(&mut c), 1);
    let err = catch_unwind(AssertUnwindSafe(|| block_on(&mut c))).unwrap_err();
    assert!(panic_message(&*err).contains("polled again after it returned"));
}

#[test]
fn polling_after_a_panic_panics_with_a_message() {
    let mut c = Coroutine::new(|| panic!("once"));
    let _ = catch_unwind(AssertUnwindSafe(|| block_on(&mut c)));
    let err = catch_unwind(AssertUnwindSafe(|| block_on(&mut c))).unwrap_err();
    assert!(panic_message(&*err).contains("polled again after it completed"));
}

#[test]
fn a_panic_caught_inside_the_body_leaves_it_able_to_wait() {
    let out = block_on(Coroutine::new(|| {
        let caught = catch_unwind(|| {
            co_await!(async { panic!("inside a future") });
        });
        assert!(caught.is_err());
        corona::yield_now();
        co_await!(async { "still waits" })
    }));
    assert_eq!(out, "still waits");
}

#[test]
fn a_destructor_cannot_wait_while_its_own_coroutine_unwinds() {
    // A destructor run by the body's own panic waits for a pending future: nothing would
    // ever resume the coroutine, so corona refuses with a message (a panic during unwinding,
    // which aborts: hence the child process) instead of suspending mid-unwind.
    const NAME: &str = "a_destructor_cannot_wait_while_its_own_coroutine_unwinds";
    if corona_tests::is_child(NAME) {
        struct WaitsInDrop;
        impl Drop for WaitsInDrop {
            fn drop(&mut self) {
                co_await!(corona_tests::PendingForever(()));
            }
        }
        let mut c = Coroutine::new(|| {
            let _waits = WaitsInDrop;
            panic!("the body fails");
        });
        let polled = catch_unwind(AssertUnwindSafe(|| {
            futures::FutureExt::now_or_never(&mut c)
        }));
        // Only reached if the destructor suspended instead of refusing.
        eprintln!("the destructor suspended; poll returned: {polled:?}");
        std::mem::forget(c);
        return;
    }
    let out = corona_tests::run_child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("while this coroutine is unwinding"),
        "{:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("the destructor suspended"), "{stderr}");
}
