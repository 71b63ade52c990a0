//! `use corona::prelude::*` and `use futures::{SinkExt, StreamExt}` together: every method of
//! both families resolves without ambiguity (this file would not compile otherwise).

use corona::co_await;
use corona::prelude::*;
use futures::{SinkExt, StreamExt};

#[test]
fn both_method_families_in_one_scope() {
    let got = corona::run(|| {
        let (mut tx, mut rx) = futures::channel::mpsc::channel::<u32>(8);
        // corona's, from plain code:
        tx.co_send(1).unwrap();
        tx.co_feed(2).unwrap();
        tx.co_flush().unwrap();
        // futures', from async code:
        co_await!(async {
            tx.send(3).await.unwrap();
            tx.feed(4).await.unwrap();
            tx.flush().await.unwrap();
        });
        let mut got = vec![rx.co_next().unwrap()];
        got.push(co_await!(rx.next()).unwrap());
        tx.co_close().unwrap();
        co_await!(tx.close()).unwrap();
        // futures' adapters feeding corona's iterator:
        got.extend(rx.map(|i| i * 10).co_iter());
        got
    });
    assert_eq!(got, [1, 2, 30, 40]);
}
