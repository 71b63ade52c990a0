//! Stackful coroutines that speak futures.
//!
//! Native `async`/`await` colours functions: a sync function cannot wait for a future without
//! blocking its thread. Corona removes that wall. A [`Coroutine`] is a future whose body runs
//! on a stack of its own; anywhere below that body — in plain sync helpers, callbacks,
//! recursion, `std::io::Read` impls — [`co_await!`] suspends just that coroutine, and the
//! executor runs other work meanwhile.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
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
//! * Each [`Coroutine`] owns a stack of its own, taken from a per-thread pool. Creating one
//!   runs nothing. Every `poll` resumes the body and hands it that poll's `Context`.
//! * [`co_await!`] pins the awaited future on the coroutine's stack and polls it with that
//!   context. On `Ready` it returns the output, with no switch at all. On `Pending` the
//!   coroutine suspends back into `poll`, which returns `Pending`; the future registered the
//!   waker, and the executor polls the coroutine again when it fires. The context is never
//!   used after a suspend.
//! * The "current coroutine" is a thread-local, saved and restored around every resume, so
//!   `co_await!` needs no argument, works at any call depth, and coroutines nest (a coroutine
//!   may await another coroutine, or a `select` of several).
//!
//! # When to use corona, and when plain async is better
//!
//! Use corona where synchronous code must wait for asynchronous things: sync parsers and
//! codecs over sockets ([`io::Blocking`]), callbacks of sync libraries, visitors and
//! recursive descent, trait impls that cannot be `async`, generators that yield from nested
//! calls ([`generator`]), and porting blocking code to an async server a function at a time.
//!
//! Prefer plain `async` for code that is yours to colour and hot: a native future is a
//! state machine of a few bytes that needs no stack, awaits that are ready cost nothing, it
//! can be `Send` and move between threads under a work-stealing runtime, and creating one
//! costs no page fault. A coroutine costs a stack (address space, plus the pages it
//! touches) and stays on the thread that first ran it.
//!
//! # Costs
//!
//! * Awaiting a future that is ready costs no switch: a thread-local read to find the
//!   coroutine and a mark on that thread-local while the future's poll runs, under a
//!   nanosecond more than a native `.await`.
//! * Awaiting one that is pending costs two stack switches and the save and restore of the
//!   current coroutine. Under a real executor that is lost in the executor's own work; it
//!   only shows in a loop that does nothing else per await. Keep `co_await!` in the
//!   function that loops on hot paths: an await inside a callee that is not inlined makes
//!   the CPU mispredict the returns around each switch.
//! * A `co_await!` allocates nothing.
//! * A [`generator`] item is two stack switches, several times the cost of a state-machine
//!   stream that the optimiser flattens into its consumer's loop: the price of yielding from
//!   any call depth.
//! * Creating a coroutine takes a stack from the thread's pool, a `Vec` pop. A fresh stack
//!   costs the kernel's first touch of one page, which is what mass spawning pays for.
//! * A waiting coroutine keeps one 4 KiB stack page resident (plus page tables), where a
//!   native task needs a few hundred bytes.
//!
//! Every figure, against native async and the physical floor where one exists, is in
//! `BENCHMARKS.md` at the root of corona's repository, with the machine it was measured on
//! and the one script (`corona/benches/run-all.sh`) that reproduces it.
//!
//! # Soundness rules, and why
//!
//! * **[`Coroutine`] and [`Generator`] are `!Send`.** A stack holds whatever the body holds,
//!   `Rc`s and thread-locals' borrows included; moving it to another thread would smuggle
//!   them across. Use [`spawn_local`] or any single-threaded executor, and [`Pool`] for many
//!   cores.
//! * **Coroutine bodies are `'static`**, with two exceptions: [`run`], which blocks until
//!   its body is done, and the children of a [`scope`], which may borrow what outlives the
//!   scope. A body that borrowed could be leaked with `mem::forget` while a
//!   `std::thread::scope` inside it still used the borrow. The futures a body awaits may
//!   borrow freely: they live on its stack.
//! * **Corona needs `panic = "unwind"`** (Rust's default). Dropping a suspended coroutine
//!   unwinds its stack so that every destructor on it runs; with `panic = "abort"` that
//!   aborts the process.
//! * **Misuse panics with advice** rather than misbehaving: `co_await!` outside of a
//!   coroutine, or inside the `Future::poll` of a future that `co_await!` is driving (which
//!   would freeze that `poll` half-way). [`try_await`] and [`in_coroutine`] ask first. The
//!   panic names the line of the call that misused it.
//! * **Never suspend inside a scope that sets and restores a thread-local.** This cannot be
//!   enforced, so it is yours to keep: see [below](#thread-locals-set-for-a-scope).
//! * **Never leak a coroutine suspended inside `std::thread::scope`** (or a rayon or
//!   crossbeam scope) whose threads use a thread-local of the coroutine's thread. A leaked
//!   coroutine never leaves that scope, so the threads run on, and what a leaked coroutine
//!   borrows stays valid for ever (its stack is never reused, its heap never freed), except
//!   a thread-local: it is destroyed when its thread exits, under those threads. Corona
//!   cannot detect this either; it is simplest not to wait inside a scope of threads at all.
//! * **Cancellation is unwinding**, with all that implies for `catch_unwind` and for
//!   destructors that panic: see [below](#cancellation-and-panics).
//!
//! ## Thread-locals set for a scope
//!
//! A scope that sets a thread-local and restores the previous value when it ends
//! (`scoped-tls`'s `set`, `tokio::task_local!`'s `sync_scope`, a hand-written guard over a
//! `Cell`) assumes that scopes on one thread nest. Coroutines on one thread interleave: a
//! wait inside such a scope lets other coroutines run, set and restore the same
//! thread-local, and the scopes end in the wrong order. Each coroutine then reads the
//! others' values, and the scopes restore each other's. With `scoped-tls`, whose values
//! are references, safe code then reads freed memory.
//!
//! ```
//! use std::cell::Cell;
//!
//! thread_local! {
//!     static USER: Cell<&'static str> = const { Cell::new("nobody") };
//! }
//!
//! /// Sets `USER` until dropped, then puts the previous value back.
//! struct AsUser(&'static str);
//!
//! fn as_user(name: &'static str) -> AsUser {
//!     AsUser(USER.replace(name))
//! }
//!
//! impl Drop for AsUser {
//!     fn drop(&mut self) {
//!         USER.set(self.0);
//!     }
//! }
//!
//! // WRONG: the scope spans a wait.
//! fn handle(name: &'static str) -> &'static str {
//!     let _scope = as_user(name);
//!     corona::yield_now(); // other coroutines run here, and set USER too
//!     USER.get()
//! }
//!
//! let both = futures::future::join(
//!     corona::Coroutine::new(|| handle("alice")),
//!     corona::Coroutine::new(|| handle("bob")),
//! );
//! let seen = futures::executor::block_on(both);
//! assert_eq!(seen, ("bob", "nobody")); // each saw someone else
//! assert_eq!(USER.get(), "alice"); // and a value outlived its scope
//! # USER.set("nobody");
//!
//! // RIGHT: wait first, and keep the scope inside code that does not wait.
//! fn handle_well(name: &'static str) -> &'static str {
//!     corona::yield_now();
//!     let _scope = as_user(name);
//!     USER.get()
//! }
//!
//! let both = futures::future::join(
//!     corona::Coroutine::new(|| handle_well("alice")),
//!     corona::Coroutine::new(|| handle_well("bob")),
//! );
//! assert_eq!(futures::executor::block_on(both), ("alice", "bob"));
//! assert_eq!(USER.get(), "nobody");
//! ```
//!
//! The other fix is to take the value out before waiting (clone what the scope provides
//! into a local) and not read the thread-local after the wait. Thread-locals that are
//! only read, or set once per thread, are fine.
//!
//! # Cancellation and panics
//!
//! Dropping a coroutine cancels it, as with any future: a suspended one is unwound from the
//! point where it waits, running the destructors of every frame and of the awaited future;
//! one that never ran drops its closure. So `tokio::time::timeout`, `select` and
//! `JoinHandle::abort` work on coroutines as they do on async blocks.
//!
//! The destructors that run during that unwinding have no executor behind them.
//! `co_await!` there polls the future once: a future that is already ready (an
//! uncontended `tokio::sync::Mutex::lock()`, a coroutine that finishes without waiting)
//! gives its output; one that is pending cannot be waited for, and `co_await!` panics,
//! which inside a destructor **aborts the process**. [`try_await`] returns an error
//! instead. Do asynchronous clean-up before the body returns, or spawn it as a task.
//!
//! Cancellation *is* a panic unwinding the coroutine's stack, so:
//!
//! * `catch_unwind` around a `co_await!` catches the cancellation too. The body then runs on
//!   with no executor, and its next wait for a pending future fails. Do not swallow what
//!   you catch across a wait: `resume_unwind` a payload that is not your own.
//! * A destructor that panics while a suspended coroutine is dropped aborts the process,
//!   as any panic escaping a destructor during unwinding does.
//!
//! ```
//! use std::panic::catch_unwind;
//! use futures::FutureExt;
//!
//! let mut c = corona::Coroutine::new(|| {
//!     // WRONG: this catches the cancellation as well as the panics it meant to.
//!     let caught = catch_unwind(|| corona::co_await!(futures::future::pending::<()>()));
//!     assert!(caught.is_err(), "the coroutine is being dropped");
//!     // No executor any more: a pending future cannot be waited for.
//!     assert!(corona::try_await(futures::future::pending::<()>()).is_err());
//! });
//! assert!((&mut c).now_or_never().is_none()); // suspended
//! drop(c); // cancels it
//! ```
//!
//! A coroutine never suspends while its own stack unwinds: a destructor run by a panic in
//! the body can await ready futures, and a pending one panics as above. Coroutines that
//! have nothing to do with the panic work normally: a destructor may drive a new
//! coroutine or generator to completion (with `futures::executor::block_on`, say) while
//! some panic, or some other coroutine's cancellation, is in progress.
//!
//! One case is beyond this check. The standard library tells whether the thread is
//! panicking, not how many panics are in flight, so when a coroutine driven from such a
//! destructor panics too, corona cannot tell its own panic from the one in progress: a
//! pending future awaited by a destructor on its stack then suspends it in the middle of its
//! unwinding. Polling it again finishes the unwinding; dropping it aborts the process (a
//! panic in a destructor during unwinding), and until then `std::thread::panicking()` stays
//! true on the thread. Give such a coroutine no destructor that waits.
//!
//! A panic in a body unwinds the coroutine's stack and resumes out of `poll` on the poller's
//! thread, where `catch_unwind`, tokio's `JoinError::is_panic` or [`JoinError::is_panic`]
//! see it. The coroutine is then finished ([`Coroutine::is_finished`]); polling it again
//! panics.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use std::time::Duration;
//!
//! let timed_out = corona::run(|| {
//!     let slow = corona::Coroutine::new(|| {
//!         corona::co_await!(tokio::time::sleep(Duration::from_secs(60)));
//!     });
//!     // The timeout drops `slow`, which unwinds its stack.
//!     corona::co_await!(tokio::time::timeout(Duration::from_millis(1), slow)).is_err()
//! });
//! assert!(timed_out);
//! ```
//!
//! # Executors
//!
//! A [`Coroutine`] is a plain `Future + Unpin`: poll it with `futures::executor::block_on`
//! or `LocalPool`, smol's `LocalExecutor`, tokio's `LocalSet` or current-thread runtime —
//! and `co_await!` any future inside it, whatever runtime it belongs to, as long as that
//! runtime is running. With the default `tokio` feature, [`run`] (and `#[corona::main]`,
//! `#[corona::test]`) start a current-thread runtime with a `LocalSet`, and [`spawn_local`]
//! spawns coroutines on it.
//!
//! ```
//! // No tokio at all: the futures crate's executor.
//! let c = corona::Coroutine::new(|| corona::co_await!(async { 40 }) + 2);
//! assert_eq!(futures::executor::block_on(c), 42);
//! ```
//!
//! # Streams, sinks and generators
//!
//! * [`CoStreamExt`] (`co_next`, `co_iter`) and [`CoSinkExt`] (`co_send`, `co_feed`,
//!   `co_flush`, `co_close`) wait for streams and sinks inside a coroutine; import them with
//!   `use corona::prelude::*;`. Select, merge and timeouts come from `futures` and `tokio`
//!   (see [the example](CoStreamExt#waiting-for-the-first-of-many)).
//! * [`generator`] turns a coroutine body into a [`Stream`](futures_core::Stream): the body hands
//!   out items with [`Yielder::yield_`] from any call depth and may `co_await!` between them.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
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
//! # Scoped coroutines
//!
//! [`scope`] spawns child coroutines that borrow from the code around them, like
//! `std::thread::scope` does for threads: they may borrow anything that outlives the scope,
//! wait with [`co_await!`] at any depth, and run concurrently with the scope body and with
//! each other on the same thread; `scope` returns only after every child finished.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use std::time::Duration;
//!
//! corona::run(|| {
//!     let urls = ["a.example", "bb.example", "ccc.example"];
//!     let lengths: Vec<usize> = corona::scope(|s| {
//!         let children: Vec<_> = urls
//!             .iter()
//!             .map(|url| {
//!                 s.spawn(move || {
//!                     corona::co_await!(tokio::time::sleep(Duration::from_millis(5)));
//!                     url.len() // borrows `urls`: no Arc, no 'static, no clone
//!                 })
//!             })
//!             .collect();
//!         children.into_iter().map(|child| child.join()).collect()
//!     });
//!     assert_eq!(lengths, [9, 10, 11]);
//! });
//! ```
//!
//! Async Rust cannot offer this soundly: a future can be leaked with `mem::forget`, and a
//! task it spawned would then still be using a borrow whose owner is gone (hence tokio's
//! `'static` spawns). A scope is instead a function call on a coroutine's stack that does
//! not return before its children are done. Leaking the coroutine leaks that whole stack
//! with everything the children borrow, and corona never reuses or unmaps the stack of a
//! coroutine that was not dropped, so nothing is ever freed under a child. Dropping the
//! coroutine, or a panic in the scope body, unwinds the unfinished children first. A child
//! costs its stack from the pool and a few words, less than [`spawn_local`] + join.
//!
//! # Sync I/O over async I/O
//!
//! [`io::Blocking`] wraps an async socket, pipe or file and implements `std::io::{Read,
//! Write, BufRead, Seek}` by waiting inside the current coroutine, so sync consumers
//! (`serde_json::from_reader`, `flate2`, `BufRead::lines`) serve many connections on one
//! thread. See [`io`].
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! use std::io::{BufRead, Write};
//! use corona::io::Blocking;
//!
//! corona::run(|| {
//!     let (client, server) = tokio::io::duplex(64);
//!     let writer = corona::spawn_local(move || {
//!         let mut out = Blocking::new(client);
//!         for i in 0..3 {
//!             writeln!(out, "line {i}").unwrap(); // waits while the pipe is full
//!         }
//!     }); // dropping `client` ends the stream
//!     let input = Blocking::new(tokio::io::BufReader::new(server));
//!     let lines: Vec<String> = input.lines().map(Result::unwrap).collect();
//!     corona::co_await!(writer).unwrap();
//!     assert_eq!(lines, ["line 0", "line 1", "line 2"]);
//! });
//! ```
//!
//! # Many cores
//!
//! A coroutine never changes thread. [`Pool`] spreads coroutines over worker threads (each a
//! current-thread tokio runtime with a `LocalSet`), pinning each job to the least busy one;
//! [`Pool::spawn`] takes a `Send` closure and returns a `Send` future of
//! `Result<T, JoinError>`, awaitable from any executor, including tokio's multi-thread one.
//!
#![cfg_attr(feature = "tokio", doc = "```")]
#![cfg_attr(not(feature = "tokio"), doc = "```ignore")]
//! let pool = corona::Pool::new(2);
//! let job = pool.spawn(|| {
//!     let local = std::rc::Rc::new(6); // !Send values are fine inside the job
//!     corona::yield_now();
//!     *local * 7
//! });
//! assert_eq!(futures::executor::block_on(job).unwrap(), 42);
//! ```
//!
//! # Stacks
//!
//! * A coroutine gets [`DEFAULT_STACK_SIZE`] (256 KiB) of address space unless told
//!   otherwise (`#[corona::coroutine(stack_size = ...)]`, [`Builder::stack_size`]). Only the
//!   pages it touches cost memory: one 4 KiB page for a coroutine that waits on I/O. Deep
//!   parsers and compressors in debug builds may want 1 MiB or more.
//! * On Linux, stacks are carved from 64 MiB slabs, a guard page below each installed with
//!   `madvise(MADV_GUARD_INSTALL)` (Linux 6.13 and later), so a million live coroutines
//!   need a few thousand memory mappings. Older kernels get one mapping per stack with an
//!   `mprotect`ed guard page (about 32,000 live coroutines at most); setting
//!   `CORONA_STACK_GUARD=mprotect` forces that, and so does running under valgrind
//!   (detected). No stack ever runs without a guard. The guard is one page, as for a
//!   thread's stack: Rust code probes every page of a large frame, so it cannot step over
//!   the guard, but C code built without `-fstack-clash-protection` that puts more than a
//!   page on its stack at once (a large array, `alloca`) can, and then writes into the stack
//!   below (on the slab path, another coroutine's). Give such code a thread of its own.
//! * Every other platform, and Linux built with `RUSTFLAGS="--cfg corona_portable_stacks"`,
//!   gets one corosensei `DefaultStack` (its own mapping, a guard page below) per stack,
//!   pooled the same way. There an overflow is the operating system's crash, without
//!   corona's message.
//! * Each thread keeps idle stacks for reuse without a syscall: as many as recent bursts
//!   needed, so a repeated burst costs no page fault; once demand falls, the memory of
//!   those beyond [`stack_pool_limit`] goes back to the kernel within seconds (at once with
//!   [`trim_stack_pool`]), so resident memory falls after a burst.
//! * A stack overflow aborts with `corona: coroutine stack overflow (stack size N bytes);
//!   raise it with #[corona::coroutine(stack_size = ...)] or Builder::stack_size` instead
//!   of a bare `SIGSEGV` (Linux, feature `overflow-report`). [`stack_usage`] tells how much
//!   of its stack a coroutine used.
//!
//! # Feature flags
//!
//! * `tokio` (default): [`run`], [`spawn_local`], `#[corona::main]`, `#[corona::test]`,
//!   [`Pool`], and [`io::Blocking`] over tokio's I/O traits. Everything else works on any
//!   executor without it.
//! * `futures-io`: `io::BlockingFutures`, the `std::io` traits over `futures::io` types
//!   (smol, async-std).
//! * `overflow-report` (default, Linux): a `SIGSEGV`/`SIGBUS` handler that reports a
//!   coroutine stack overflow with its stack size. It is installed once, at the first
//!   coroutine stack, keeps the handler that was there before and passes it every fault
//!   outside a corona guard page (std's thread-overflow report, a sanitizer's). Without the
//!   feature nothing is installed and an overflow is the plain `SIGSEGV`.
//! * `sanitizer`: tells AddressSanitizer about every stack switch; build with
//!   `RUSTFLAGS=-Zsanitizer=address` on nightly. (valgrind needs no feature: corona
//!   registers its stacks with it and detects it at run time.)

#![cfg_attr(docsrs, feature(doc_cfg))]
// The guide is written for the default features, as docs.rs builds it; without `tokio` its
// links to `run`, `spawn_local`, `Pool` and the tokio side of `io` have nothing to point at
// and render as plain text. CI checks the links with the default features.
#![cfg_attr(not(feature = "tokio"), allow(rustdoc::broken_intra_doc_links))]
#![deny(
    missing_docs,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

mod context;
mod coroutine;
mod generator;
#[cfg(any(feature = "tokio", feature = "futures-io"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tokio", feature = "futures-io"))))]
pub mod io;
#[cfg(feature = "tokio")]
mod pool;
mod raw;
#[cfg(feature = "tokio")]
mod runtime;
mod scope;
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
pub use crate::scope::{scope, Scope, ScopedJoinHandle};
pub use crate::stack::{
    set_stack_pool_limit, stack_pool_limit, stack_usage, trim_stack_pool, StackUsage,
    DEFAULT_STACK_POOL_LIMIT, DEFAULT_STACK_SIZE, MIN_STACK_SIZE,
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
///   Methods may take `self`, `self: Box<Self>`, `self: Rc<Self>` or `&'static self`.
/// * Type parameters and `impl Trait` arguments say `'static` themselves (`T: Debug +
///   'static`, inline or in the `where` clause; `impl Debug + 'static`): the arguments move
///   into the body, which outlives the call.
/// * The return type `T` becomes `Coroutine<T>` (`Coroutine<()>` when there is none;
///   `-> impl Trait` becomes `-> Coroutine<impl Trait>`).
/// * Options: `stack_size = EXPR` (bytes; evaluated at each call, before the body runs, so it
///   may read the arguments the signature names: `stack_size = kib * 1024` with `kib: usize`),
///   `crate = path` (where corona is, for re-exports; `crate = "path"` too, as tokio and serde
///   spell it).
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
/// Option: `crate = path` (or `crate = "path"`), where corona is when it is re-exported.
///
/// # Examples
///
/// ```
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
/// It registers the test itself: write it in place of `#[test]`, not beside it. A `#[test]`
/// below it is refused; one above it is out of the macro's sight (attributes are expanded top
/// down) and registers the test a second time, so that it runs twice.
///
/// Option: `crate = path` (or `crate = "path"`), where corona is when it is re-exported.
///
/// # Examples
///
/// ```
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
/// Outside of a coroutine (the message contains `outside of a coroutine`), inside the
/// `Future::poll` of a future that `co_await!` is driving, and for a pending future in a
/// destructor while the coroutine unwinds (there the panic aborts the process; use
/// [`try_await`](crate::try_await)). The panic names the line of the `co_await!`. See
/// [`await_future`](crate::await_future).
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
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

/// The README's Rust examples run as doc tests, so they cannot go stale. They use `run`, so
/// they need the default `tokio` feature.
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
