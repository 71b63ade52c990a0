//! After its body panicked, a coroutine is finished: `is_finished()` says so, `Debug` says
//! so, and polling it again panics with a message instead of resuming a dead stack.

use std::panic::{catch_unwind, AssertUnwindSafe};

use corona::{co_await, Coroutine};
use corona_tests::{panic_message, DropCounter};
use futures::executor::{block_on, block_on_stream};
use futures::FutureExt;

#[test]
fn a_coroutine_whose_body_panicked_at_once_is_finished() {
    let mut c = Coroutine::new(|| -> u32 { panic!("at once") });
    assert!(!c.is_finished());
    assert!(format!("{c:?}").contains("not started"), "{c:?}");
    let caught = catch_unwind(AssertUnwindSafe(|| (&mut c).now_or_never()));
    assert_eq!(panic_message(&*caught.unwrap_err()), "at once");
    assert!(c.is_finished(), "is_finished() after a panic");
    let debug = format!("{c:?}");
    assert!(debug.contains("finished"), "{debug}");
    assert!(!debug.contains("suspended"), "{debug}");
}

#[test]
fn a_coroutine_whose_body_panicked_after_waiting_is_finished() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let mut c = Coroutine::new(move || {
        let _guard = guard;
        corona::yield_now();
        co_await!(async { panic!("after a wait") })
    });
    assert!((&mut c).now_or_never().is_none());
    assert!(format!("{c:?}").contains("suspended"), "{c:?}");
    let caught = catch_unwind(AssertUnwindSafe(|| block_on(&mut c)));
    assert_eq!(panic_message(&*caught.unwrap_err()), "after a wait");
    assert_eq!(drops.dropped(), 1, "the panic unwound the stack");
    assert!(c.is_finished());
    let debug = format!("{c:?}");
    assert!(debug.contains("finished"), "{debug}");
    assert!(!debug.contains("suspended"), "{debug}");
    // Polling it again says what happened; dropping it is quiet.
    let again = catch_unwind(AssertUnwindSafe(|| block_on(&mut c)));
    assert!(panic_message(&*again.unwrap_err()).contains("polled again after it completed"));
    drop(c);
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn a_coroutine_that_panicked_gives_its_stack_back_when_dropped() {
    let before = corona::__private::stacks_in_use();
    let mut c = Coroutine::new(|| -> () { panic!("boom") });
    assert_eq!(corona::__private::stacks_in_use(), before + 1);
    let _ = catch_unwind(AssertUnwindSafe(|| (&mut c).now_or_never()));
    drop(c);
    assert_eq!(corona::__private::stacks_in_use(), before);
}

#[test]
fn a_generator_whose_body_panicked_is_finished_too() {
    let before = corona::__private::stacks_in_use();
    let mut gen = corona::generator(|y: &corona::Yielder<u8>| {
        y.yield_(1);
        panic!("generator panic");
    });
    let caught = catch_unwind(AssertUnwindSafe(|| block_on_stream(&mut gen).count()));
    assert_eq!(panic_message(&*caught.unwrap_err()), "generator panic");
    assert!(gen.is_finished());
    let debug = format!("{gen:?}");
    assert!(
        debug.contains("finished") && !debug.contains("suspended"),
        "{debug}"
    );
    // Fused: the next poll ends the stream (it does not resume the dead stack), and gives
    // the stack back to the pool.
    assert_eq!(block_on_stream(&mut gen).next(), None);
    assert_eq!(corona::__private::stacks_in_use(), before);
    assert!(gen.is_finished());
}
