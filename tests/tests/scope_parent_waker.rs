//! The enclosing coroutine's waker, as `corona::scope` keeps it for its children to wake:
//! that waker's own code (its clone, its drop) runs while the scope registers it, and may
//! panic or wake a child of the same scope; the children must still wake the enclosing
//! coroutine afterwards.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};

use corona::Coroutine;
use corona_tests::{panic_message, poll_with};

/// Armed: the next clone of a [`waker`] panics.
static ARMED: AtomicBool = AtomicBool::new(false);
/// Wakes of every [`waker`].
static WAKES: AtomicUsize = AtomicUsize::new(0);

fn clone(data: *const ()) -> RawWaker {
    if ARMED.swap(false, Ordering::SeqCst) {
        panic!("this waker cannot be cloned");
    }
    RawWaker::new(data, &VTABLE)
}

fn wake(_: *const ()) {
    WAKES.fetch_add(1, Ordering::SeqCst);
}

fn drop_waker(_: *const ()) {}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop_waker);

/// A waker that counts its wakes in [`WAKES`] and panics in its clone while [`ARMED`];
/// `id` tells wakers apart (`Waker::will_wake`).
fn waker(id: &'static u8) -> Waker {
    let data = (id as *const u8).cast::<()>();
    // SAFETY: the vtable's functions never read the data pointer, and ignore ownership
    // (nothing to free): any pointer will do.
    unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) }
}

/// The second poll comes with a new waker, whose clone panics as the scope registers it at
/// the body's wait; the body catches that panic and waits on, for a child that waits for a
/// channel. When the channel's value comes, the child's wake must wake the enclosing
/// coroutine. Before the fix the scope kept the waker in an `AtomicWaker`, whose `register`
/// a panicking clone left locked for good: every later wake was dropped, and the enclosing
/// coroutine waited for ever.
#[test]
fn a_parent_waker_whose_clone_panicked_once_is_still_woken_by_the_children() {
    static FIRST: u8 = 1;
    static SECOND: u8 = 2;
    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    let mut enclosing = Coroutine::new(move || {
        corona::scope(|s| {
            let child = s.spawn(move || corona::co_await!(rx).unwrap());
            corona::yield_now(); // the child runs and waits for the channel
            let caught = catch_unwind(AssertUnwindSafe(corona::yield_now));
            let payload = caught.expect_err("the second poll's waker panics when cloned");
            assert_eq!(panic_message(&*payload), "this waker cannot be cloned");
            child.join() + 1
        })
    });
    assert!(poll_with(&mut enclosing, &waker(&FIRST)).is_pending());
    ARMED.store(true, Ordering::SeqCst);
    let second = waker(&SECOND);
    assert!(poll_with(&mut enclosing, &second).is_pending());
    assert!(!ARMED.load(Ordering::SeqCst), "the clone panicked");

    WAKES.store(0, Ordering::SeqCst);
    tx.send(41).unwrap();
    assert!(
        WAKES.load(Ordering::SeqCst) > 0,
        "the child's wake must wake the enclosing coroutine"
    );
    assert_eq!(poll_with(&mut enclosing, &second), Poll::Ready(42));
}
