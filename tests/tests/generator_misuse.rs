//! `Yielder::yield_` only suspends its own generator: called from inside a `Future::poll`
//! that `co_await!` drives, or from a coroutine nested inside the generator, it panics with a
//! message that says what happened instead of handing the item to the wrong poller.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Poll;

use corona::co_await;
use corona_tests::panic_message;
use futures::StreamExt;

fn first_item_panics(mut gen: corona::Generator<u32>) -> String {
    let outcome = catch_unwind(AssertUnwindSafe(|| futures::executor::block_on(gen.next())));
    let payload = outcome.expect_err("yield_ did not panic");
    assert!(gen.is_finished(), "the generator survived its panic");
    panic_message(&*payload)
}

#[test]
fn yield_inside_a_poll_driven_by_co_await_panics() {
    let gen = corona::generator(|y| {
        co_await!(futures::future::poll_fn(|_| {
            y.yield_(1);
            Poll::Ready(())
        }));
    });
    let message = first_item_panics(gen);
    assert!(
        message.contains("Yielder::yield_ was called from inside the poll()"),
        "{message}"
    );
}

#[test]
fn yield_from_a_coroutine_nested_in_the_generator_panics() {
    let gen = corona::generator(|y| {
        // `run` accepts a borrowing body, so the yielder reaches a nested coroutine.
        corona::run(|| y.yield_(1));
    });
    let message = first_item_panics(gen);
    assert!(
        message.contains("called from a coroutine nested inside the generator"),
        "{message}"
    );
}

#[test]
fn co_await_still_works_after_a_nested_coroutine_returned() {
    let gen = corona::generator(|y| {
        let inner = corona::run(|| co_await!(async { 20 }));
        y.yield_(inner + co_await!(async { 1 }));
    });
    assert_eq!(futures::executor::block_on(gen.collect::<Vec<u32>>()), [21]);
}

/// Yields from a destructor that runs while its generator unwinds.
struct YieldInDrop<'a>(&'a corona::Yielder<u32>);

impl Drop for YieldInDrop<'_> {
    fn drop(&mut self) {
        self.0.yield_(99);
    }
}

/// Polls the generator once from a destructor, i.e. while the thread is panicking.
struct PollOnDrop<'a>(&'a mut corona::Generator<u32>);

impl Drop for PollOnDrop<'_> {
    fn drop(&mut self) {
        use futures::FutureExt;
        assert_eq!(self.0.next().now_or_never(), Some(Some(1)));
    }
}

#[test]
fn yield_while_a_generator_resumed_during_a_panic_is_dropped_panics() {
    // The generator was last resumed while the thread was panicking, so "a panic began after
    // the resume" cannot tell that its stack unwinds when it is dropped: `yield_` must still
    // refuse to suspend (a panic in a destructor during unwinding: the process aborts, so
    // this runs in a child process).
    const NAME: &str = "yield_while_a_generator_resumed_during_a_panic_is_dropped_panics";
    if corona_tests::is_child(NAME) {
        let mut gen = corona::generator(|y| {
            let _yield_in_drop = YieldInDrop(y);
            y.yield_(1);
            y.yield_(2);
        });
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _poll = PollOnDrop(&mut gen);
            panic!("outer panic");
        }));
        assert!(outcome.is_err());
        drop(gen);
        println!("the generator was dropped");
        return;
    }
    let out = corona_tests::run_child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Yielder::yield_ was called while the generator is unwinding"),
        "stderr: {stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("the generator was dropped"));
}
