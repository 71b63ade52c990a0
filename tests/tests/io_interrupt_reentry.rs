//! `corona::io::Interrupt` with wakers whose own code uses the interrupt: a waiting
//! `Blocking` clones the poller's waker into the interrupt's list and drops it again when the
//! wait ends, and that waker's clone or drop may raise the same interrupt (or wait on it):
//! the interrupt must not be locked while the waker's code runs.

use std::cell::Cell;
use std::io::Read;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use corona::io::{Blocking, Interrupt};
use corona::Coroutine;
use corona_tests::{finish_within, poll_with, WakeCounter};
use tokio::io::{AsyncRead, ReadBuf};

/// A waker whose last drop raises `interrupt` (say, "whoever would be woken is gone: stop
/// the I/O done for it"), counting its drops.
struct RaiseOnDrop {
    interrupt: Interrupt,
    drops: Arc<AtomicUsize>,
}

impl Wake for RaiseOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for RaiseOnDrop {
    fn drop(&mut self) {
        self.interrupt.interrupt();
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A reader that is pending (registering no waker) until `open` is set, then gives `hi`.
struct Gate(Rc<Cell<bool>>);

impl AsyncRead for Gate {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.0.get() {
            return Poll::Pending;
        }
        buf.put_slice(b"hi");
        Poll::Ready(Ok(()))
    }
}

/// A coroutine that reads once from a `Gate` through a `Blocking` with an interrupt.
type Reader = Coroutine<std::io::Result<Vec<u8>>>;

/// A [`Reader`] of the gate `open` with `interrupt`.
fn reader(interrupt: &Interrupt, open: &Rc<Cell<bool>>) -> Reader {
    let mut conn = Blocking::new(Gate(open.clone()));
    conn.set_interrupt(Some(interrupt.clone()));
    Coroutine::new(move || {
        let mut buf = [0; 8];
        let n = conn.read(&mut buf)?;
        Ok(buf[..n].to_vec())
    })
}

/// A `reader` waiting with a [`RaiseOnDrop`] waker whose last reference the interrupt's
/// list holds; its interrupt, its gate, and the waker's drop count.
fn waiting_on_a_raise_on_drop_waker() -> (Interrupt, Rc<Cell<bool>>, Reader, Arc<AtomicUsize>) {
    let interrupt = Interrupt::new();
    let open = Rc::new(Cell::new(false));
    let mut coroutine = reader(&interrupt, &open);
    let drops = Arc::new(AtomicUsize::new(0));
    let first = Waker::from(Arc::new(RaiseOnDrop {
        interrupt: interrupt.clone(),
        drops: drops.clone(),
    }));
    assert!(poll_with(&mut coroutine, &first).is_pending());
    drop(first);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the interrupt's list holds the waker"
    );
    (interrupt, open, coroutine, drops)
}

/// The read waits with the first waker registered in the interrupt's list; then the data
/// comes and the coroutine is polled with another waker. Ending the wait removes the first
/// waker from the list, dropping its last reference, which raises the same interrupt. Before
/// the fix the list was still locked there: the thread deadlocked on its own lock.
#[test]
fn a_waker_dropped_as_the_wait_ends_may_raise_the_interrupt() {
    finish_within(Duration::from_secs(10), || {
        let (interrupt, open, mut coroutine, drops) = waiting_on_a_raise_on_drop_waker();

        open.set(true);
        let second = Waker::from(Arc::new(WakeCounter::default()));
        let Poll::Ready(read) = poll_with(&mut coroutine, &second) else {
            panic!("the data was there: the read should have finished");
        };
        assert_eq!(read.unwrap(), b"hi");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the first waker is gone");
        assert!(interrupt.is_raised(), "its drop raised the interrupt");
    });
}

/// The read waits with the first waker, and is polled again with another while it still
/// waits: the registration replaces the first waker, dropping its last reference, which
/// raises the interrupt. Before the fix that drop ran under the list's lock (a deadlock);
/// now the read sees the interrupt raised and returns `WouldBlock`.
#[test]
fn a_waker_replaced_by_a_new_poll_may_raise_the_interrupt() {
    finish_within(Duration::from_secs(10), || {
        let (interrupt, _open, mut coroutine, drops) = waiting_on_a_raise_on_drop_waker();

        let counter = Arc::new(WakeCounter::default());
        let second = Waker::from(counter.clone());
        // This poll replaces the registered waker (raising the interrupt) and waits again.
        let _ = poll_with(&mut coroutine, &second);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the first waker is gone");
        assert!(interrupt.is_raised(), "its drop raised the interrupt");
        assert!(counter.woken(), "raising it woke the waiting read");
        let read = match poll_with(&mut coroutine, &second) {
            Poll::Ready(read) => read,
            Poll::Pending => panic!("the interrupt is raised: the read should have returned"),
        };
        assert_eq!(read.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    });
}

/// A waker whose wake panics.
struct PanicOnWake;

impl Wake for PanicOnWake {
    fn wake(self: Arc<Self>) {
        panic!("this waker cannot wake");
    }
}

/// Two reads wait on one interrupt; the first one's waker panics when raising the interrupt
/// wakes it. The panic comes out of `interrupt`, but the second read must be woken all the
/// same: it was taken off the list, and before the fix its waker was dropped unwoken, so its
/// executor never polled it again (a hang, with the interrupt raised).
#[test]
fn a_waker_that_panics_costs_the_other_waiters_no_wake() {
    finish_within(Duration::from_secs(10), || {
        let interrupt = Interrupt::new();
        let open = Rc::new(Cell::new(false));
        let mut first = reader(&interrupt, &open);
        let mut second = reader(&interrupt, &open);
        assert!(poll_with(&mut first, &Waker::from(Arc::new(PanicOnWake))).is_pending());
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(counter.clone());
        assert!(poll_with(&mut second, &waker).is_pending());
        assert!(!counter.woken());

        let raised = std::panic::catch_unwind(|| interrupt.interrupt());
        let payload = raised.expect_err("the first waker's panic comes out of interrupt()");
        assert_eq!(
            corona_tests::panic_message(&*payload),
            "this waker cannot wake"
        );
        assert_eq!(counter.take(), 1, "the second read was woken");
        let Poll::Ready(read) = poll_with(&mut second, &waker) else {
            panic!("the interrupt is raised: the read should have returned");
        };
        assert_eq!(read.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
        // The first one too, once polled.
        let Poll::Ready(read) = poll_with(&mut first, &waker) else {
            panic!("the interrupt is raised: the read should have returned");
        };
        assert_eq!(read.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    });
}
