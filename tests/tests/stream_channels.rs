//! Producers and consumers over real bounded channels on one thread: they take turns, the
//! producer never running more than the channel's capacity ahead of the consumer.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use corona::prelude::*;
use corona::{co_await, Coroutine};

const ITEMS: u32 = 50;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Event {
    Sent(u32),
    Received(u32),
}

type Log = Rc<RefCell<Vec<Event>>>;

/// Runs `body` in a coroutine on `corona::run`, failing instead of hanging after 10 s.
fn run_within_10s<T: 'static>(body: impl FnOnce() -> T + 'static) -> T {
    corona::run(|| corona_tests::co_await_within(Duration::from_secs(10), Coroutine::new(body)))
}

/// How far the producer ever got ahead of the consumer.
fn max_lead(log: &[Event]) -> u32 {
    let (mut sent, mut received, mut lead) = (0u32, 0u32, 0u32);
    for event in log {
        match event {
            Event::Sent(_) => sent += 1,
            Event::Received(_) => received += 1,
        }
        lead = lead.max(sent.saturating_sub(received));
    }
    lead
}

/// Every item arrived, in order, and the producer never ran more than the channel's capacity
/// (1) plus the item in hand ahead of the consumer.
fn assert_received_in_step(log: &[Event]) {
    assert_eq!(received(log), (0..ITEMS).collect::<Vec<_>>());
    let lead = max_lead(log);
    assert!(
        lead <= 2,
        "the producer ran {lead} items ahead of a channel of capacity 1: {log:?}"
    );
}

fn received(log: &[Event]) -> Vec<u32> {
    log.iter()
        .filter_map(|e| match e {
            Event::Received(i) => Some(*i),
            Event::Sent(_) => None,
        })
        .collect()
}

#[test]
fn futures_mpsc_bounded_at_one_interleaves_producer_and_consumer() {
    let log: Log = Rc::default();
    let (producer_log, consumer_log) = (Rc::clone(&log), Rc::clone(&log));
    run_within_10s(move || {
        // Capacity = buffer (0) + one sender = 1.
        let (mut tx, rx) = futures::channel::mpsc::channel::<u32>(0);
        let producer = corona::spawn_local(move || {
            for i in 0..ITEMS {
                tx.co_send(i).unwrap();
                producer_log.borrow_mut().push(Event::Sent(i));
            }
        });
        for i in rx.co_iter() {
            consumer_log.borrow_mut().push(Event::Received(i));
        }
        co_await!(producer).unwrap();
    });
    assert_received_in_step(&log.borrow());
}

#[test]
fn tokio_mpsc_feeds_a_generator_that_a_consumer_iterates() {
    let log: Log = Rc::default();
    let (producer_log, generator_log) = (Rc::clone(&log), Rc::clone(&log));
    let tens = run_within_10s(move || {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
        let producer = corona::spawn_local(move || {
            for i in 0..ITEMS {
                co_await!(tx.send(i)).unwrap();
                producer_log.borrow_mut().push(Event::Sent(i));
            }
        });
        let tens = corona::generator(move |y| {
            while let Some(i) = co_await!(rx.recv()) {
                generator_log.borrow_mut().push(Event::Received(i));
                y.yield_(i * 10);
            }
        });
        let out: Vec<u32> = tens.co_iter().collect();
        co_await!(producer).unwrap();
        out
    });
    assert_eq!(tens, (0..ITEMS).map(|i| i * 10).collect::<Vec<_>>());
    assert_received_in_step(&log.borrow());
}

#[test]
fn a_generator_writes_into_a_bounded_sink_drained_by_another_coroutine() {
    let log: Log = Rc::default();
    let (generator_log, consumer_log) = (Rc::clone(&log), Rc::clone(&log));
    run_within_10s(move || {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
        let consumer = corona::spawn_local(move || {
            // tokio's receiver as a stream, consumed with co_iter.
            let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
            for i in stream.co_iter() {
                consumer_log.borrow_mut().push(Event::Received(i));
            }
        });
        let numbers = corona::generator(|y| (0..ITEMS).for_each(|i| y.yield_(i)));
        for i in numbers.co_iter() {
            co_await!(tx.send(i)).unwrap();
            generator_log.borrow_mut().push(Event::Sent(i));
        }
        drop(tx);
        co_await!(consumer).unwrap();
    });
    let log = log.borrow();
    assert_eq!(received(&log), (0..ITEMS).collect::<Vec<_>>());
    assert!(max_lead(&log) <= 2, "{log:?}");
}
