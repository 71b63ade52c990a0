//! `CoStreamExt` (`co_next`, `co_iter`) and `CoSinkExt` (`co_send`, `co_feed`, `co_flush`,
//! `co_close`) inside coroutines.

use std::panic::catch_unwind;
use std::pin::Pin;
use std::task::{Context, Poll};

use corona::co_await;
use corona::prelude::*;
use corona_tests::panic_message;
use futures::channel::mpsc;
use futures::stream;

#[test]
fn co_next_returns_each_item_then_none() {
    corona::run(|| {
        let mut s = stream::iter(["a", "b"]);
        assert_eq!(s.co_next(), Some("a"));
        assert_eq!(s.co_next(), Some("b"));
        assert_eq!(s.co_next(), None);
    });
}

#[test]
fn co_iter_by_value_yields_every_item() {
    let squares: Vec<u32> = corona::run(|| stream::iter(1..=4).co_iter().map(|i| i * i).collect());
    assert_eq!(squares, [1, 4, 9, 16]);
}

#[test]
fn break_out_of_co_iter_on_mut_ref_leaves_the_rest_usable() {
    corona::run(|| {
        let mut gen = corona::generator(|y| (0..6u32).for_each(|i| y.yield_(i)));
        let mut head = Vec::new();
        for i in (&mut gen).co_iter() {
            head.push(i);
            if i == 2 {
                break;
            }
        }
        assert_eq!(head, [0, 1, 2]);
        assert_eq!(gen.co_next(), Some(3));
        assert_eq!(gen.co_iter().collect::<Vec<_>>(), [4, 5]);
    });
}

#[test]
fn co_iter_into_inner_gives_the_stream_back() {
    corona::run(|| {
        let mut iter = stream::iter(0..5).co_iter();
        assert_eq!(iter.by_ref().take(2).collect::<Vec<_>>(), [0, 1]);
        let mut rest = iter.into_inner();
        assert_eq!(rest.co_next(), Some(2));
    });
}

#[test]
fn co_next_works_on_boxed_and_pinned_streams() {
    corona::run(|| {
        let mut boxed: Box<dyn futures::Stream<Item = u8> + Unpin> = Box::new(stream::iter([7]));
        assert_eq!(boxed.co_next(), Some(7));
        // An `async` stream is `!Unpin`: pin it first.
        let pinned = Box::pin(stream::unfold(0u8, |n| async move {
            (n < 2).then_some((n, n + 1))
        }));
        assert_eq!(pinned.co_iter().collect::<Vec<_>>(), [0, 1]);
    });
}

#[test]
fn co_next_waits_for_an_item_another_coroutine_sends_later() {
    let got = corona::run(|| {
        let (tx, mut rx) = mpsc::unbounded();
        let sender = corona::spawn_local(move || {
            corona::yield_now();
            tx.unbounded_send("late").unwrap();
        });
        let got = rx.co_next();
        co_await!(sender).unwrap();
        (got, rx.co_next())
    });
    assert_eq!(got, (Some("late"), None));
}

#[test]
fn co_next_outside_a_coroutine_panics_with_the_co_await_message() {
    let payload = catch_unwind(|| stream::iter([1]).co_next()).expect_err("no panic");
    assert!(panic_message(&*payload).contains("outside of a coroutine"));
}

#[test]
fn co_send_delivers_and_reports_a_closed_receiver() {
    corona::run(|| {
        let (mut tx, mut rx) = mpsc::channel::<u32>(1);
        tx.co_send(1).unwrap();
        assert_eq!(rx.co_next(), Some(1));
        drop(rx);
        let err = tx.co_send(2).expect_err("sent into a closed channel");
        assert!(err.is_disconnected());
    });
}

/// A sink that keeps fed items in `pending` until it is flushed into `written`.
#[derive(Default)]
struct RecordingSink {
    pending: Vec<u32>,
    written: Vec<u32>,
    closed: bool,
}

impl futures::Sink<u32> for RecordingSink {
    type Error = std::convert::Infallible;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, item: u32) -> Result<(), Self::Error> {
        self.pending.push(item);
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = &mut *self;
        this.written.append(&mut this.pending);
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.as_mut().poll_flush(cx).map(|done| {
            self.closed = true;
            done
        })
    }
}

#[test]
fn co_feed_hands_items_over_and_co_flush_writes_them_out() {
    corona::run(|| {
        let mut sink = RecordingSink::default();
        sink.co_feed(10).unwrap();
        sink.co_feed(11).unwrap();
        assert_eq!(
            (&sink.pending[..], &sink.written[..]),
            (&[10, 11][..], &[][..])
        );
        sink.co_flush().unwrap();
        assert_eq!(
            (&sink.pending[..], &sink.written[..]),
            (&[][..], &[10, 11][..])
        );

        sink.co_send(12).unwrap();
        assert_eq!(sink.written, [10, 11, 12], "co_send did not flush");
        sink.co_feed(13).unwrap();
        assert!(!sink.closed);
        sink.co_close().unwrap();
        assert!(sink.closed);
        assert_eq!(sink.written, [10, 11, 12, 13], "co_close did not flush");
    });
}

#[test]
fn co_close_ends_the_receiving_stream() {
    corona::run(|| {
        let (mut tx, rx) = mpsc::channel::<&str>(4);
        tx.co_send("last").unwrap();
        tx.co_close().unwrap();
        assert_eq!(rx.co_iter().collect::<Vec<_>>(), ["last"]);
        assert!(tx.co_send("too late").is_err());
    });
}

#[test]
fn co_send_works_on_a_mut_ref_and_from_nested_sync_code() {
    fn send_all(sink: &mut impl CoSinkExt<u32, Error = mpsc::SendError>, items: &[u32]) {
        for &i in items {
            sink.co_send(i).unwrap();
        }
    }
    let got = corona::run(|| {
        let (mut tx, rx) = mpsc::channel(0);
        let consumer = corona::spawn_local(move || rx.co_iter().collect::<Vec<u32>>());
        send_all(&mut &mut tx, &[1, 2, 3]);
        drop(tx);
        co_await!(consumer).unwrap()
    });
    assert_eq!(got, [1, 2, 3]);
}
