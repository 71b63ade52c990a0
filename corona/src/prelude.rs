//! The extension traits, for a glob import: `use corona::prelude::*;`.
//!
//! Their methods all start with `co_`, so this prelude can be imported next to
//! `use futures::{SinkExt, StreamExt};` without ambiguity.
//!
//! # Examples
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use corona::prelude::*;
//! use futures::{SinkExt, StreamExt};
//!
//! corona::run(|| {
//!     let (mut tx, mut rx) = futures::channel::mpsc::channel(4);
//!     tx.co_send(1).unwrap(); // corona, from a plain call
//!     corona::co_await!(async {
//!         tx.send(2).await.unwrap(); // futures, from async code
//!     });
//!     assert_eq!(rx.co_next(), Some(1));
//!     assert_eq!(corona::co_await!(rx.next()), Some(2));
//! });
//! ```

pub use crate::stream::{CoSinkExt, CoStreamExt};
