//! Coroutines talk over ordinary async channels on one thread.

use std::cell::RefCell;
use std::rc::Rc;

use corona::co_await;

#[test]
fn two_coroutines_ping_pong_over_bounded_channels() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (ping_log, pong_log) = (log.clone(), log.clone());
    let thread = std::thread::current().id();
    corona::run(move || {
        let (to_pong, mut pong_rx) = tokio::sync::mpsc::channel::<u32>(1);
        let (to_ping, mut ping_rx) = tokio::sync::mpsc::channel::<u32>(1);
        let pong = corona::spawn_local(move || {
            while let Some(n) = co_await!(pong_rx.recv()) {
                assert_eq!(std::thread::current().id(), thread);
                pong_log.borrow_mut().push(format!("pong {n}"));
                if co_await!(to_ping.send(n + 1)).is_err() {
                    break;
                }
            }
        });
        let mut n = 0;
        for _ in 0..3 {
            ping_log.borrow_mut().push(format!("ping {n}"));
            co_await!(to_pong.send(n)).unwrap();
            n = co_await!(ping_rx.recv()).unwrap() + 1;
        }
        drop(to_pong);
        co_await!(pong).unwrap();
    });
    assert_eq!(
        *log.borrow(),
        ["ping 0", "pong 0", "ping 2", "pong 2", "ping 4", "pong 4"]
    );
}

#[test]
fn a_bounded_channel_makes_the_producer_wait_for_the_consumer() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (producer_log, consumer_log) = (log.clone(), log.clone());
    corona::run(move || {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
        let producer = corona::spawn_local(move || {
            for i in 0..3 {
                co_await!(tx.send(i)).unwrap();
                producer_log.borrow_mut().push(format!("sent {i}"));
            }
        });
        while let Some(i) = co_await!(rx.recv()) {
            consumer_log.borrow_mut().push(format!("got {i}"));
            corona::yield_now();
        }
        co_await!(producer).unwrap();
    });
    let log = log.borrow();
    // The producer can never be more than one item (the channel's capacity) ahead.
    for i in 1..3 {
        let sent = log.iter().position(|l| *l == format!("sent {i}")).unwrap();
        let got_before = log
            .iter()
            .position(|l| *l == format!("got {}", i - 1))
            .unwrap();
        assert!(got_before < sent, "{log:?}");
    }
    assert_eq!(log.iter().filter(|l| l.starts_with("got")).count(), 3);
}
