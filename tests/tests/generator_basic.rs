//! `corona::generator`: items in order from any call depth, laziness, the end of the stream,
//! waiting between items, and that a pending wait registers the waker instead of spinning.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use corona::prelude::*;
use corona::{co_await, Yielder};
use futures::stream::FusedStream;
use futures::task::ArcWake;
use futures::{Future, Stream, StreamExt};

fn yield_range(from: u32, to: u32, y: &Yielder<u32>) {
    for i in from..to {
        y.yield_(i);
    }
}

fn yield_via_closure_and_recursion(depth: u32, y: &Yielder<u32>) {
    if depth == 0 {
        [100, 101].iter().for_each(|&v| y.yield_(v));
    } else {
        yield_via_closure_and_recursion(depth - 1, y);
        y.yield_(depth);
    }
}

#[test]
fn items_come_in_order_from_body_and_nested_sync_functions() {
    let gen = corona::generator(|y| {
        y.yield_(0);
        yield_range(1, 3, y);
        yield_via_closure_and_recursion(3, y);
    });
    let items: Vec<u32> = futures::executor::block_on(gen.collect());
    assert_eq!(items, [0, 1, 2, 100, 101, 1, 2, 3]);
}

#[test]
fn nothing_runs_until_the_first_poll() {
    let steps = Rc::new(Cell::new(0));
    let seen = Rc::clone(&steps);
    let mut gen = corona::generator(move |y| {
        seen.set(seen.get() + 1);
        y.yield_("first");
        seen.set(seen.get() + 1);
    });
    assert_eq!(steps.get(), 0, "creating the generator ran its body");
    assert!(format!("{gen:?}").contains("not started"));
    let first = futures::executor::block_on(gen.next());
    assert_eq!(first, Some("first"));
    assert_eq!(steps.get(), 1, "the body ran past its first yield");
    assert!(format!("{gen:?}").contains("suspended"));
}

#[test]
fn ends_with_none_and_stays_ended() {
    let mut gen = corona::generator(|y| y.yield_('x'));
    futures::executor::block_on(async {
        assert!(!gen.is_terminated());
        assert_eq!(gen.next().await, Some('x'));
        assert!(!gen.is_finished(), "finished before the body returned");
        assert_eq!(gen.next().await, None);
        assert!(gen.is_finished());
        assert!(gen.is_terminated());
        assert_eq!(gen.next().await, None);
        assert_eq!(gen.next().await, None);
    });
}

#[test]
fn a_generator_that_yields_nothing_is_empty() {
    let gen = corona::generator(|_: &Yielder<u8>| {});
    assert_eq!(futures::executor::block_on(gen.count()), 0);
}

#[test]
fn one_hundred_thousand_items() {
    const N: u64 = 100_000;
    let gen = corona::generator(|y| (0..N).for_each(|i| y.yield_(i)));
    let (count, sum, ordered) = corona::run(|| {
        let mut ordered = true;
        let (mut count, mut sum) = (0u64, 0u64);
        for (expected, i) in (0..).zip(gen.co_iter()) {
            ordered &= i == expected;
            count += 1;
            sum += i;
        }
        (count, sum, ordered)
    });
    assert_eq!(count, N);
    assert_eq!(sum, N * (N - 1) / 2);
    assert!(ordered, "items came out of order");
}

#[test]
fn the_body_waits_between_items_while_another_coroutine_runs() {
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let result = corona::run(|| {
        let (tx, rx) = tokio::sync::oneshot::channel::<&'static str>();
        let gen_log = Rc::clone(&log);
        let gen = corona::generator(move |y| {
            y.yield_("before");
            gen_log.borrow_mut().push("generator waits");
            let got = co_await!(rx).unwrap();
            y.yield_(got);
        });
        let helper_log = Rc::clone(&log);
        let helper = corona::spawn_local(move || {
            helper_log.borrow_mut().push("helper runs");
            co_await!(tokio::time::sleep(Duration::from_millis(1)));
            tx.send("after").unwrap();
        });
        let items: Vec<_> = gen.co_iter().collect();
        co_await!(helper).unwrap();
        items
    });
    assert_eq!(result, ["before", "after"]);
    assert_eq!(*log.borrow(), ["generator waits", "helper runs"]);
}

/// Counts how often the waker handed to `poll_next` is woken.
#[derive(Default)]
struct CountWakes(AtomicUsize);

impl ArcWake for CountWakes {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that counts its polls.
struct CountPolls<F> {
    inner: F,
    polls: Rc<Cell<usize>>,
}

impl<F: Future + Unpin> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        Pin::new(&mut self.inner).poll(cx)
    }
}

#[test]
fn a_pending_wait_registers_the_waker_and_does_not_spin() {
    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    let polls = Rc::new(Cell::new(0));
    let inner_polls = Rc::clone(&polls);
    let mut gen = corona::generator(move |y| {
        y.yield_(1);
        let got = co_await!(CountPolls {
            inner: rx,
            polls: inner_polls,
        })
        .unwrap();
        y.yield_(got);
    });

    let wakes = Arc::new(CountWakes::default());
    let waker = futures::task::waker(Arc::clone(&wakes));
    let mut cx = Context::from_waker(&waker);
    let mut poll = || Pin::new(&mut gen).poll_next(&mut cx);

    assert_eq!(poll(), Poll::Ready(Some(1)));
    assert_eq!(poll(), Poll::Pending);
    assert_eq!(
        polls.get(),
        1,
        "the awaited future was polled more than once per poll_next"
    );
    assert_eq!(poll(), Poll::Pending);
    assert_eq!(
        polls.get(),
        2,
        "one poll_next, one poll of the awaited future"
    );
    assert_eq!(
        wakes.0.load(Ordering::SeqCst),
        0,
        "woken before anything happened"
    );

    tx.send(7).unwrap();
    assert_eq!(
        wakes.0.load(Ordering::SeqCst),
        1,
        "the waker was not registered"
    );
    assert_eq!(poll(), Poll::Ready(Some(7)));
    assert_eq!(polls.get(), 3);
    assert_eq!(poll(), Poll::Ready(None));
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
}

#[test]
fn a_custom_stack_size_works_for_deep_recursion() {
    fn deep(n: u32, y: &Yielder<u32>) {
        // A 1 KiB frame at every level, kept alive across the recursive call: over 1 MiB in
        // all, more than the default stack.
        let frame = std::hint::black_box([0u8; 1024]);
        if n == 0 {
            y.yield_(u32::from(frame[0]));
        } else {
            deep(n - 1, y);
            if n.is_multiple_of(100) {
                y.yield_(n + u32::from(frame[1]));
            }
        }
    }
    let gen = corona::Generator::with_stack_size(4 * 1024 * 1024, |y| deep(1000, y));
    let items: Vec<u32> = futures::executor::block_on(gen.collect());
    let expected: Vec<u32> = std::iter::once(0)
        .chain((1..=10).map(|i| i * 100))
        .collect();
    assert_eq!(items, expected);
}
