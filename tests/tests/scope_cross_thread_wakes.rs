//! `corona::scope`'s children woken from other threads while the enclosing coroutine runs
//! its rounds: every wake must reach the enclosing coroutine (the children's wakers and the
//! driver share the ready list and the enclosing coroutine's waker under one lock).

use std::time::Duration;

use corona_tests::finish_within;

/// 64 children wait for values that 4 other threads send in a shuffled order, some while the
/// body waits and some while it drives children; the scope must see every child finish.
#[test]
fn children_woken_from_other_threads_all_finish() {
    finish_within(Duration::from_secs(60), || {
        corona::run(|| {
            for round in 0..20u64 {
                let mut senders = Vec::new();
                let mut receivers = Vec::new();
                for _ in 0..64 {
                    let (tx, rx) = futures::channel::oneshot::channel::<u64>();
                    senders.push(tx);
                    receivers.push(rx);
                }
                let mut rng = corona_tests::Rng(round + 1);
                rng.shuffle(&mut senders);
                let threads: Vec<_> = (0..4)
                    .map(|t| {
                        let mine: Vec<_> = senders.drain(..senders.len() / (4 - t)).collect();
                        std::thread::spawn(move || {
                            for (i, tx) in mine.into_iter().enumerate() {
                                if i % 4 == 0 {
                                    std::thread::yield_now();
                                }
                                tx.send(1).unwrap();
                            }
                        })
                    })
                    .collect();
                let total: u64 = corona::scope(|s| {
                    let handles: Vec<_> = receivers
                        .into_iter()
                        .map(|rx| {
                            s.spawn(move || {
                                let v = corona::co_await!(rx).unwrap();
                                corona::yield_now();
                                v
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join()).sum()
                });
                assert_eq!(total, 64);
                for thread in threads {
                    thread.join().unwrap();
                }
            }
        })
    });
}
