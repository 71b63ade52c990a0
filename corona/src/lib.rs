//! Stackful coroutines that speak futures.
//!
//! Native `async`/`await` colours functions: a sync function cannot wait for a future without
//! blocking its thread. Corona removes that wall. A [`Coroutine`] is a future whose body runs
//! on a stack of its own; anywhere below that body — in plain sync helpers, callbacks,
//! recursion, `std::io::Read` impls — [`co_await!`] suspends just that coroutine, and the
//! executor runs other work meanwhile.
//!
//! ```
//! use std::time::Duration;
//!
//! // A plain sync function that waits: no `async`, no `.await`.
//! fn slow_double(x: u64) -> u64 {
//!     corona::co_await!(tokio::time::sleep(Duration::from_millis(1)));
//!     x * 2
//! }
//!
//! #[corona::coroutine]
//! fn fetch(n: u64) -> u64 {
//!     slow_double(n) + 1
//! }
//!
//! corona::run(|| {
//!     let a = corona::spawn_local(|| slow_double(10));
//!     let b = fetch(20); // a Coroutine<u64>: runs nothing yet
//!     assert_eq!(corona::co_await!(b), 41);
//!     assert_eq!(corona::co_await!(a).unwrap(), 20);
//! });
//! ```
//!
//! # The model
//!
//! * Each [`Coroutine`] owns a stack (from a per-thread pool). Every `poll` resumes the body
//!   and hands it that poll's `Context`; `co_await!` pins the awaited future on the
//!   coroutine's stack and polls it with that context. On `Pending` the coroutine suspends
//!   back into `poll`, which returns `Pending`. The context is never used after a suspend.
//! * The "current coroutine" is a thread-local, saved and restored around every resume, so
//!   coroutines nest and `co_await!` needs no argument.
//! * Costs on the development machine (see the README for the benchmark): a switch is a few
//!   nanoseconds, an await allocates nothing, and a coroutine on a pooled stack is created
//!   and completed in tens of nanoseconds.
//!
//! # Soundness rules
//!
//! * [`Coroutine`] is `!Send`: a stack never changes thread. Use [`spawn_local`] or any
//!   single-threaded executor.
//! * Coroutine bodies are `'static` ([`run`] excepted, which blocks until its body is done).
//!   A body that borrowed could be leaked with `mem::forget` while a `std::thread::scope`
//!   inside it still used the borrow. Awaited futures need not be `'static`.
//! * Dropping a suspended coroutine unwinds its stack so that every destructor runs. **Corona
//!   needs `panic = "unwind"`** (Rust's default); with `panic = "abort"` dropping a suspended
//!   coroutine aborts.
//! * `co_await!` outside a coroutine, or inside a `Future::poll` that `co_await!` drives,
//!   panics with a message saying what happened and what to do.
//!
//! # Stacks
//!
//! * A coroutine gets [`DEFAULT_STACK_SIZE`] (256 KiB) of address space unless told
//!   otherwise (`#[corona::coroutine(stack_size = ...)]`, [`Builder::stack_size`]). Only the
//!   pages it touches cost memory: one 4 KiB page for a coroutine that waits on I/O.
//! * Stacks are carved from 64 MiB slabs, a guard page below each installed with
//!   `madvise(MADV_GUARD_INSTALL)` (Linux 6.13 and later), so a million live coroutines
//!   need a few thousand memory mappings. Older kernels get one mapping per stack with an
//!   `mprotect`ed guard page (about 32,000 live coroutines at most); setting
//!   `CORONA_STACK_GUARD=mprotect` forces that. No stack ever runs without a guard.
//! * Each thread keeps up to [`stack_pool_limit`] idle stacks for reuse without a syscall;
//!   the memory of stacks returned beyond it goes back to the kernel, so resident memory
//!   falls after a burst.
//! * A stack overflow aborts with `corona: coroutine stack overflow (stack size N bytes);
//!   raise it with #[corona::coroutine(stack_size = ...)] or Builder::stack_size` instead
//!   of a bare `SIGSEGV`. [`stack_usage`] tells how much of its stack a coroutine used.

//! # Streams, sinks and generators
//!
//! * [`CoStreamExt`] (`co_next`, `co_iter`) and [`CoSinkExt`] (`co_send`, `co_feed`,
//!   `co_flush`, `co_close`) wait for streams and sinks inside a coroutine; import them with
//!   `use corona::prelude::*;`. Select, merge and timeouts come from `futures` and `tokio`
//!   (see [the example](CoStreamExt#waiting-for-the-first-of-many)).
//! * [`generator`] turns a coroutine body into a [`Stream`](futures::Stream): the body hands
//!   out items with [`Yielder::yield_`] from any call depth and may `co_await!` between them.
//!
//! ```
//! use corona::prelude::*;
//!
//! fn split_words(line: &str, y: &corona::Yielder<String>) {
//!     line.split_whitespace().for_each(|w| y.yield_(w.to_uppercase()));
//! }
//!
//! corona::run(|| {
//!     let words = corona::generator(|y| {
//!         for line in ["hello stackful", "world"] {
//!             split_words(line, y);
//!         }
//!     });
//!     assert_eq!(words.co_iter().collect::<Vec<_>>(), ["HELLO", "STACKFUL", "WORLD"]);
//! });
//! ```
//!
//! # Feature flags
//!
//! * `tokio` (default): [`run`], [`spawn_local`], `#[corona::main]`, `#[corona::test]`,
//!   [`Pool`], and [`io::Blocking`] over tokio's I/O traits. Everything else works on any
//!   executor without it.
//! * `futures-io`: `io::BlockingFutures`, the `std::io` traits over `futures::io` types.
//!
//! # Many cores
//!
//! A coroutine never changes thread. [`Pool`] spreads coroutines over worker threads (each a
//! current-thread tokio runtime with a `LocalSet`), pinning each job to the least busy one;
//! [`Pool::spawn`] takes a `Send` closure and returns a `Send` future of
//! `Result<T, JoinError>`, awaitable from any executor, including tokio's multi-thread one.
//!
//! # Sync I/O over async I/O
//!
//! [`io::Blocking`] wraps an async socket, pipe or file and implements `std::io::{Read,
//! Write, BufRead, Seek}` by waiting inside the current coroutine, so sync consumers
//! (`serde_json::from_reader`, `flate2`, `BufRead::lines`) serve many connections on one
//! thread. See [`io`].
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(
    missing_docs,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

mod context;
mod coroutine;
mod generator;
pub mod io;
#[cfg(feature = "tokio")]
mod pool;
mod raw;
#[cfg(feature = "tokio")]
mod runtime;
mod stack;
mod stream;
mod wait;

#[doc(hidden)]
pub mod __private;
pub mod prelude;

pub use crate::coroutine::{Builder, Coroutine};
pub use crate::generator::{generator, Generator, Yielder};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use crate::pool::{JoinError, Pool, PoolHandle, PoolJoinHandle};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use crate::runtime::{run, spawn_local};
pub use crate::stack::{
    set_stack_pool_limit, stack_pool_limit, stack_usage, StackUsage, DEFAULT_STACK_POOL_LIMIT,
    DEFAULT_STACK_SIZE, MIN_STACK_SIZE,
};
pub use crate::stream::{CoIter, CoSinkExt, CoStreamExt};
pub use crate::wait::{await_future, in_coroutine, try_await, yield_now, NotInCoroutine};

/// Turns a function into one whose call returns a [`Coroutine`]: the body runs on its own
/// stack when the coroutine is polled, and may [`co_await!`] at any depth.
///
/// Use it by path, `#[corona::coroutine]`: a bare `#[coroutine]` clashes with rustc's
/// built-in attribute of that name (error E0659).
///
/// * Arguments must be owned (`'static`): no `&T`, `&self`, `&mut self` or lifetimes. Every
///   argument moves into the coroutine and lives until the body ends, as with `async fn`.
///   Methods may take `self`, `self: Box<Self>` or `self: Rc<Self>`.
/// * The return type `T` becomes `Coroutine<T>` (`Coroutine<()>` when there is none).
/// * Options: `stack_size = EXPR` (bytes), `crate = path` (where corona is, for re-exports).
///
/// # Examples
///
/// ```
/// #[corona::coroutine(stack_size = 128 * 1024)]
/// fn add_later(a: u32, b: u32) -> u32 {
///     corona::co_await!(async { a + b })
/// }
///
/// # futures::executor::block_on(async {
/// let c: corona::Coroutine<u32> = add_later(1, 2);
/// assert_eq!(c.await, 3);
/// # });
/// ```
pub use corona_macros::coroutine;

/// Runs `fn main()` as a coroutine inside [`run`].
///
/// # Examples
///
/// ```no_run
/// #[corona::main]
/// fn main() {
///     corona::co_await!(tokio::time::sleep(std::time::Duration::from_millis(1)));
/// }
/// ```
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use corona_macros::main;

/// Runs a `#[test]` function as a coroutine inside [`run`].
///
/// # Examples
///
/// ```no_run
/// #[corona::test]
/// fn sleeps() {
///     corona::co_await!(tokio::time::sleep(std::time::Duration::from_millis(1)));
/// }
/// ```
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use corona_macros::test;

/// Waits for a future inside the current coroutine, at any call depth:
/// `co_await!(fut)` is [`await_future(fut)`](crate::await_future).
///
/// Takes anything that implements [`IntoFuture`](core::future::IntoFuture) and evaluates to
/// its output. Only the current coroutine is suspended, never the thread.
///
/// # Panics
///
/// Outside of a coroutine (the message contains `outside of a coroutine`), and inside the
/// `Future::poll` of a future that `co_await!` is driving. See
/// [`await_future`](crate::await_future).
///
/// # Examples
///
/// ```
/// use corona::co_await;
///
/// fn read_config() -> String {
///     co_await!(async { String::from("verbose = true") })
/// }
///
/// corona::run(|| assert_eq!(read_config(), "verbose = true"));
/// ```
#[macro_export]
macro_rules! co_await {
    ($future:expr $(,)?) => {
        $crate::await_future($future)
    };
}

/// The README's Rust examples run as doc tests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
