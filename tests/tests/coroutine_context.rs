//! Each poll hands its own `Context` to the coroutine: the awaited future sees the waker of
//! the poll that resumed it, never one from an earlier poll.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use corona::{co_await, Coroutine};

/// Counts its wakes.
#[derive(Default)]
struct CountWakes(AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending twice, then ready; keeps the waker of every poll.
struct RecordsWakers(Rc<RefCell<Vec<Waker>>>);

impl Future for RecordsWakers {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let mut seen = self.0.borrow_mut();
        seen.push(cx.waker().clone());
        if seen.len() < 3 {
            Poll::Pending
        } else {
            Poll::Ready(seen.len())
        }
    }
}

#[test]
fn each_resume_sees_the_waker_of_its_own_poll() {
    let (a, b) = (
        Arc::new(CountWakes::default()),
        Arc::new(CountWakes::default()),
    );
    let (waker_a, waker_b) = (Waker::from(a.clone()), Waker::from(b.clone()));
    // Both contexts live to the end: a resume that kept an earlier one would read a valid
    // but wrong `Context`, and fail the assertions below rather than crash.
    let mut cx_a = Context::from_waker(&waker_a);
    let mut cx_b = Context::from_waker(&waker_b);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let recorder = RecordsWakers(seen.clone());
    let mut c = Coroutine::new(move || co_await!(recorder));

    assert!(Pin::new(&mut c).poll(&mut cx_a).is_pending());
    assert!(Pin::new(&mut c).poll(&mut cx_b).is_pending());
    {
        let seen = seen.borrow();
        assert!(seen[0].will_wake(&waker_a), "first poll: waker A");
        assert!(
            seen[1].will_wake(&waker_b),
            "second poll: waker B, not A again"
        );
        // The future wakes whoever polled it last: B, and only B.
        seen[1].wake_by_ref();
    }
    assert_eq!(a.0.load(Ordering::SeqCst), 0);
    assert_eq!(b.0.load(Ordering::SeqCst), 1);

    assert_eq!(Pin::new(&mut c).poll(&mut cx_a), Poll::Ready(3));
    assert!(
        seen.borrow()[2].will_wake(&waker_a),
        "third poll: waker A again"
    );
}
