//! Streams and sinks inside a coroutine: [`CoStreamExt`] (`co_next`, `co_iter`) and
//! [`CoSinkExt`] (`co_send`, `co_feed`, `co_flush`, `co_close`).
//!
//! Each method is the matching `futures` combinator waited for with
//! [`co_await!`](crate::co_await), so it suspends only the current coroutine and works at any
//! call depth. The `co_` prefix keeps them apart from `futures`' [`StreamExt`] and
//! [`SinkExt`]: `use futures::{SinkExt, StreamExt};` and `use corona::prelude::*;` can be
//! imported together.

use futures_core::stream::{FusedStream, Stream};
use futures_sink::Sink;
use futures_util::{SinkExt, StreamExt};

use crate::wait::await_future;

/// Waiting for the items of a [`Stream`] inside a coroutine.
///
/// Implemented for every `Stream + Unpin`, including `&mut S`, `Box<dyn Stream + Unpin>`,
/// [`Generator`](crate::Generator)s and `Pin<Box<S>>` (use `Box::pin` for a `!Unpin`
/// stream).
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use corona::prelude::*;
///
/// fn total(numbers: impl futures::Stream<Item = u32> + Unpin) -> u32 {
///     // A plain sync function consuming an async stream.
///     numbers.co_iter().sum()
/// }
///
/// corona::run(|| {
///     assert_eq!(total(futures::stream::iter([1, 2, 3])), 6);
/// });
/// ```
///
/// # Waiting for the first of many
///
/// Corona has no `select` of its own: the `futures` and `tokio` combinators build one future
/// or stream out of many, and `co_await!` / `co_iter` wait for that.
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use std::time::Duration;
///
/// use corona::co_await;
/// use corona::prelude::*;
/// use futures::future::{self, Either};
/// use futures::{stream, FutureExt, StreamExt};
///
/// corona::run(|| {
///     // Many streams merged into one: items in the order they become ready.
///     let evens = corona::generator(|y| (0..3).for_each(|i| y.yield_(i * 2)));
///     let odds = corona::generator(|y| (0..3).for_each(|i| y.yield_(i * 2 + 1)));
///     let mut all: Vec<u32> = stream::select_all([evens, odds]).co_iter().collect();
///     all.sort();
///     assert_eq!(all, [0, 1, 2, 3, 4, 5]);
///
///     // The first of two futures; the loser is handed back, still usable.
///     let slow = Box::pin(tokio::time::sleep(Duration::from_secs(60)));
///     match co_await!(future::select(slow, future::ready("fast"))) {
///         Either::Right((winner, _slow)) => assert_eq!(winner, "fast"),
///         Either::Left(..) => unreachable!(),
///     }
///
///     // A deadline on the next item of a stream that never yields one.
///     let mut silent = stream::pending::<u32>();
///     let next = co_await!(tokio::time::timeout(Duration::from_millis(5), silent.next()));
///     assert!(next.is_err(), "timed out");
///
///     // `futures::select!` needs an async block; co_await! waits for it.
///     let mut ticks = corona::generator(|y| y.yield_("tick"));
///     let got = co_await!(async {
///         futures::select! {
///             item = ticks.next() => item,
///             _ = tokio::time::sleep(Duration::from_secs(60)).fuse() => None,
///         }
///     });
///     assert_eq!(got, Some("tick"));
/// });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Stream + Unpin`, so corona cannot wait for its items",
    label = "not a `Stream + Unpin`",
    note = "a stream that is not `Unpin` can be pinned first: `Box::pin(stream)` or \
            `std::pin::pin!(stream)`"
)]
pub trait CoStreamExt: Stream + Unpin {
    /// Waits for the next item; `None` when the stream has ended.
    ///
    /// # Panics
    ///
    /// Outside of a coroutine, like [`co_await!`](crate::co_await).
    ///
    /// # Cancel safety
    ///
    /// No item is lost if the coroutine is dropped while it waits here: the item stays in
    /// the stream.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// use corona::prelude::*;
    ///
    /// corona::run(|| {
    ///     let (tx, mut rx) = futures::channel::mpsc::unbounded();
    ///     tx.unbounded_send("hi").unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.co_next(), Some("hi"));
    ///     assert_eq!(rx.co_next(), None);
    /// });
    /// ```
    #[inline]
    #[track_caller]
    fn co_next(&mut self) -> Option<Self::Item> {
        await_future(StreamExt::next(self))
    }

    /// Turns the stream into an [`Iterator`] whose `next` waits for the next item inside the
    /// coroutine ([`co_next`](CoStreamExt::co_next)).
    ///
    /// Takes the stream by value; call it on `&mut stream` to keep the stream, so that after
    /// a `break` the rest of it is still there.
    ///
    /// # Panics
    ///
    /// The iterator's `next` panics outside of a coroutine, like
    /// [`co_await!`](crate::co_await).
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// use corona::prelude::*;
    ///
    /// corona::run(|| {
    ///     let mut numbers = futures::stream::iter(1..=5);
    ///     for n in (&mut numbers).co_iter() {
    ///         if n == 2 {
    ///             break;
    ///         }
    ///     }
    ///     // The stream kept its place.
    ///     assert_eq!(numbers.co_iter().collect::<Vec<_>>(), [3, 4, 5]);
    /// });
    /// ```
    #[inline]
    fn co_iter(self) -> CoIter<Self>
    where
        Self: Sized,
    {
        CoIter { stream: self }
    }
}

impl<S: Stream + Unpin + ?Sized> CoStreamExt for S {}

/// An [`Iterator`] over a [`Stream`] that waits for each item inside the current coroutine;
/// made by [`CoStreamExt::co_iter`].
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use corona::prelude::*;
///
/// corona::run(|| {
///     let iter: corona::CoIter<_> = futures::stream::iter(["a", "b"]).co_iter();
///     assert_eq!(iter.collect::<String>(), "ab");
/// });
/// ```
#[derive(Debug)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct CoIter<S> {
    stream: S,
}

impl<S> CoIter<S> {
    /// Gives the stream back, with the items not taken yet.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// use corona::prelude::*;
    ///
    /// corona::run(|| {
    ///     let mut iter = futures::stream::iter(1..=3).co_iter();
    ///     assert_eq!(iter.next(), Some(1));
    ///     let mut rest = iter.into_inner();
    ///     assert_eq!(rest.co_next(), Some(2));
    /// });
    /// ```
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Stream + Unpin> Iterator for CoIter<S> {
    type Item = S::Item;

    #[inline]
    #[track_caller]
    fn next(&mut self) -> Option<S::Item> {
        self.stream.co_next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<S: FusedStream + Unpin> core::iter::FusedIterator for CoIter<S> {}

/// Sending into a [`Sink`] inside a coroutine.
///
/// Implemented for every `Sink<I> + Unpin`, including `&mut K`.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use corona::prelude::*;
///
/// fn greet(out: &mut impl CoSinkExt<String, Error = futures::channel::mpsc::SendError>) {
///     // A plain sync function writing into an async sink.
///     out.co_send(String::from("hello")).unwrap();
/// }
///
/// corona::run(|| {
///     let (mut tx, rx) = futures::channel::mpsc::channel(1);
///     greet(&mut tx);
///     drop(tx);
///     assert_eq!(rx.co_iter().collect::<Vec<_>>(), ["hello"]);
/// });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Sink<{I}> + Unpin`, so corona cannot send it items",
    label = "not a `Sink<{I}> + Unpin`",
    note = "a sink that is not `Unpin` can be pinned first: `Box::pin(sink)` or \
            `std::pin::pin!(sink)`"
)]
pub trait CoSinkExt<I>: Sink<I> + Unpin {
    /// Sends `item` and flushes the sink: waits until the sink has taken the item and
    /// written out everything buffered.
    ///
    /// # Errors
    ///
    /// The sink's error, for example when the receiving side of a channel is gone.
    ///
    /// # Panics
    ///
    /// Outside of a coroutine, like [`co_await!`](crate::co_await).
    ///
    /// # Cancel safety
    ///
    /// If the coroutine is dropped while it waits here, the item may be lost: it is dropped
    /// with the coroutine unless the sink already took it.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// use corona::prelude::*;
    ///
    /// corona::run(|| {
    ///     let (mut tx, mut rx) = futures::channel::mpsc::channel(1);
    ///     tx.co_send(7).unwrap();
    ///     assert_eq!(rx.co_next(), Some(7));
    ///     drop(rx);
    ///     assert!(tx.co_send(8).is_err(), "the receiver is gone");
    /// });
    /// ```
    #[inline]
    #[track_caller]
    fn co_send(&mut self, item: I) -> Result<(), Self::Error> {
        await_future(SinkExt::send(self, item))
    }

    /// Hands `item` to the sink without flushing: waits only until the sink has room for it.
    /// Use it to send many items and [`co_flush`](CoSinkExt::co_flush) once.
    ///
    /// # Errors
    ///
    /// The sink's error.
    ///
    /// # Panics
    ///
    /// Outside of a coroutine, like [`co_await!`](crate::co_await).
    ///
    /// # Cancel safety
    ///
    /// As [`co_send`](CoSinkExt::co_send): an item not yet taken is dropped with the
    /// coroutine.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// use corona::prelude::*;
    ///
    /// corona::run(|| {
    ///     let mut out: Vec<u32> = Vec::new();
    ///     for i in 0..3 {
    ///         out.co_feed(i).unwrap();
    ///     }
    ///     out.co_flush().unwrap();
    ///     assert_eq!(out, [0, 1, 2]);
    /// });
    /// ```
    #[inline]
    #[track_caller]
    fn co_feed(&mut self, item: I) -> Result<(), Self::Error> {
        await_future(SinkExt::feed(self, item))
    }

    /// Waits until everything handed to the sink has been written out.
    ///
    /// # Errors
    ///
    /// The sink's error.
    ///
    /// # Panics
    ///
    /// Outside of a coroutine, like [`co_await!`](crate::co_await).
    ///
    /// # Cancel safety
    ///
    /// Nothing is lost if the coroutine is dropped while it waits here; buffered items stay
    /// in the sink.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// use corona::prelude::*;
    ///
    /// corona::run(|| {
    ///     let (mut tx, mut rx) = futures::channel::mpsc::channel::<u8>(4);
    ///     tx.co_feed(1).unwrap();
    ///     tx.co_flush().unwrap();
    ///     assert_eq!(rx.co_next(), Some(1));
    /// });
    /// ```
    #[inline]
    #[track_caller]
    fn co_flush(&mut self) -> Result<(), Self::Error> {
        await_future(SinkExt::flush(self))
    }

    /// Flushes and closes the sink: no more items can be sent.
    ///
    /// # Errors
    ///
    /// The sink's error.
    ///
    /// # Panics
    ///
    /// Outside of a coroutine, like [`co_await!`](crate::co_await).
    ///
    /// # Cancel safety
    ///
    /// If the coroutine is dropped while it waits here, the sink may be left half-closed, as
    /// with the `futures` combinator.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// use corona::prelude::*;
    ///
    /// corona::run(|| {
    ///     let (mut tx, mut rx) = futures::channel::mpsc::channel::<u8>(1);
    ///     tx.co_close().unwrap();
    ///     assert_eq!(rx.co_next(), None, "closing the sender ends the stream");
    /// });
    /// ```
    #[inline]
    #[track_caller]
    fn co_close(&mut self) -> Result<(), Self::Error> {
        await_future(SinkExt::close(self))
    }
}

impl<I, K: Sink<I> + Unpin + ?Sized> CoSinkExt<I> for K {}
