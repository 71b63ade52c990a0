//! [`Generator<T>`]: a [`Stream`] whose items are yielded by a coroutine body, at any call
//! depth, through a [`Yielder<T>`]; made by [`generator`].
//!
//! # Design
//!
//! A generator is a [`RawCoroutine`] whose body hands items over on its own stack. Each
//! `poll_next` resumes the body with the poll's `Context`:
//!
//! * [`Yielder::yield_`] keeps the item in its own frame (a `ManuallyDrop<T>`) and suspends
//!   with [`Suspend::Yielded`] carrying a pointer to it; `poll_next` moves the item out while
//!   the body is suspended (the frame cannot change then) and returns `Ready(Some(item))`.
//!   The move happens in the very `poll_next` whose resume the body suspended from, so every
//!   item is moved out exactly once and `yield_` never drops it. No allocation per generator
//!   or per item.
//! * [`co_await!`](crate::co_await) on a pending future suspends with [`Suspend::Pending`]
//!   after the future registered the poll's waker; `poll_next` returns `Pending`.
//! * The body returning ends the stream: `Ready(None)`, then `None` forever
//!   ([`FusedStream`]).
//!
//! A `Yielded` suspend must only ever reach the generator's own `poll_next`. So `yield_`
//! checks that its generator is the thread's current coroutine: not one nested on top of it,
//! and not inside the `Future::poll` of a future `co_await!` drives (the thread-local says
//! `Lent` then); otherwise it panics instead of handing an item to the wrong poller.
//!
//! The `Yielder` is only lent to the body (`&'a Yielder<T>` for a lifetime the body cannot
//! name) and is `!Send`, so it cannot outlive the body or leave its thread.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use futures_core::stream::{FusedStream, Stream};

use crate::coroutine::StaysOnItsThread;
use crate::raw::{self, Current, Frame, RawCoroutine, Step, Suspend};
use crate::stack::DEFAULT_STACK_SIZE;

/// Creates a [`Generator`]: a stream whose items are produced by `body`, which runs as a
/// coroutine on its own stack and hands out items with [`Yielder::yield_`].
///
/// Nothing runs until the stream is first polled. The yielder can be passed down into plain
/// sync functions, and the body may [`co_await!`](crate::co_await) any future at any depth.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use corona::prelude::*;
/// use corona::Yielder;
///
/// // A plain recursive sync function that yields.
/// fn countdown(n: u32, y: &Yielder<u32>) {
///     if n > 0 {
///         y.yield_(n);
///         countdown(n - 1, y);
///     }
/// }
///
/// corona::run(|| {
///     let gen = corona::generator(|y| countdown(3, y));
///     let items: Vec<u32> = gen.co_iter().collect();
///     assert_eq!(items, [3, 2, 1]);
/// });
/// ```
///
/// It is a plain [`Stream`], usable from `async` code too:
///
/// ```
/// use futures::StreamExt;
///
/// # futures::executor::block_on(async {
/// let squares = corona::generator(|y| {
///     for i in 1..=3u64 {
///         let square = corona::co_await!(async move { i * i });
///         y.yield_(square);
///     }
/// });
/// assert_eq!(squares.collect::<Vec<_>>().await, [1, 4, 9]);
/// # });
/// ```
pub fn generator<T, F>(body: F) -> Generator<T>
where
    F: FnOnce(&Yielder<T>) + 'static,
    T: 'static,
{
    Generator::with_stack_size(DEFAULT_STACK_SIZE, body)
}

/// A [`Stream`] produced by a coroutine body; see [`generator`].
///
/// * **Lazy**: the body starts at the first `poll_next`.
/// * **`!Send`**, like [`Coroutine`](crate::Coroutine): its stack never changes thread.
/// * **Fused**: after the body returns (or panicked) `poll_next` returns `None` forever.
///   The stack goes back to the pool when the body returns; after a panic, at the next
///   poll or when the generator is dropped.
/// * **Early drop** of a suspended generator unwinds its stack: every destructor on it
///   runs, at every depth, including the future it was waiting for.
/// * **Panics** in the body resume out of `poll_next`, on the poller's thread.
///
/// # Cancel safety
///
/// Waiting for the next item (`co_next`, `StreamExt::next`, a `select!` branch) and giving up
/// loses nothing: the body only hands over an item from inside the `poll_next` that returns
/// it, and otherwise stays suspended where it was.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use corona::prelude::*;
///
/// corona::run(|| {
///     let mut words = corona::generator(|y| {
///         for w in "to be or not".split(' ') {
///             y.yield_(w.len());
///         }
///     });
///     assert_eq!(words.co_next(), Some(2));
///     assert_eq!(words.co_iter().sum::<usize>(), 2 + 2 + 3);
/// });
/// ```
///
/// Not `Send`:
///
/// ```compile_fail,E0277
/// fn assert_send<T: Send>(_: T) {}
/// assert_send(corona::generator(|y: &corona::Yielder<u8>| y.yield_(1)));
/// ```
#[must_use = "a generator does nothing until it is polled"]
pub struct Generator<T> {
    /// `None` once the body returned or panicked; its stack then went back to the pool.
    raw: Option<RawCoroutine<()>>,
    /// The items' type: they come from this generator's body (see `Suspend::Yielded`).
    /// (`fn() -> T`: a generator is `Unpin` whatever its items are, as before.)
    _items: PhantomData<fn() -> T>,
    /// Neither `Send` nor `Sync`: the stack belongs to the thread that first ran it.
    _not_send: StaysOnItsThread,
}

impl<T: 'static> Generator<T> {
    /// Like [`generator`], on a stack of `bytes` usable bytes (at least
    /// [`MIN_STACK_SIZE`](crate::MIN_STACK_SIZE)) instead of
    /// [`DEFAULT_STACK_SIZE`](crate::DEFAULT_STACK_SIZE).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # futures::executor::block_on(async {
    /// let small = corona::Generator::with_stack_size(32 * 1024, |y| y.yield_("tiny"));
    /// assert_eq!(small.collect::<Vec<_>>().await, ["tiny"]);
    /// # });
    /// ```
    pub fn with_stack_size<F>(bytes: usize, body: F) -> Self
    where
        F: FnOnce(&Yielder<T>) + 'static,
    {
        let raw = RawCoroutine::new(bytes, move |frame: &Frame| {
            let yielder = Yielder {
                frame,
                _items: PhantomData,
                _not_send: PhantomData,
            };
            body(&yielder);
        });
        Generator {
            raw: Some(raw),
            _items: PhantomData,
            _not_send: PhantomData,
        }
    }
}

impl<T> Generator<T> {
    /// Whether the body has finished (returned or panicked): the stream is exhausted.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # futures::executor::block_on(async {
    /// let mut one = corona::generator(|y| y.yield_(1));
    /// assert!(!one.is_finished());
    /// assert_eq!(one.next().await, Some(1));
    /// assert_eq!(one.next().await, None);
    /// assert!(one.is_finished());
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.as_ref().is_none_or(RawCoroutine::done)
    }

    /// Ends the stream: drops the finished coroutine, whose stack goes back to the pool for
    /// the next one.
    #[cold]
    fn finished(&mut self) -> Poll<Option<T>> {
        self.raw = None;
        Poll::Ready(None)
    }
}

impl<T> Stream for Generator<T> {
    type Item = T;

    #[inline(always)]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let raw = match &mut this.raw {
            // A body that panicked is finished too (the panic went out of the poll that
            // resumed it); its stack goes back to the pool now.
            Some(raw) if !raw.done() => raw,
            _ => return this.finished(),
        };
        match raw.resume(cx) {
            Step::Suspended(Suspend::Yielded(offered)) => {
                // SAFETY: only this generator's own `Yielder<T>` suspends its coroutine with
                // `Yielded` (`yield_` checks that its frame is the running one, and the body
                // gets no other `Yielder` for that frame), pointing to a `ManuallyDrop<T>` in
                // `yield_`'s frame on the coroutine's stack, which holds an item and never
                // drops it. The coroutine stays suspended, so that frame is alive and nothing
                // else touches the item; this is the one read of it (a `Yielded` suspend
                // returns nowhere else, and `yield_` never reads the item again).
                Poll::Ready(Some(unsafe { offered.cast::<T>().read() }))
            }
            Step::Suspended(Suspend::Pending) => Poll::Pending,
            Step::Done(()) => this.finished(),
        }
    }
}

impl<T> FusedStream for Generator<T> {
    fn is_terminated(&self) -> bool {
        self.is_finished()
    }
}

impl<T> fmt::Debug for Generator<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.raw {
            None => "finished",
            Some(raw) if raw.done() => "finished",
            Some(raw) if raw.started() => "suspended",
            Some(_) => "not started",
        };
        f.debug_struct("Generator").field("state", &state).finish()
    }
}

/// The handle a [`generator`] body yields its items through.
///
/// The body gets a `&Yielder<T>` and may pass it into any function it calls. It cannot keep
/// it beyond the body or send it to another thread.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use corona::prelude::*;
/// use corona::Yielder;
///
/// fn emit_twice(word: &'static str, y: &Yielder<&'static str>) {
///     y.yield_(word);
///     y.yield_(word);
/// }
///
/// corona::run(|| {
///     let echo = corona::generator(|y| emit_twice("hey", y));
///     assert_eq!(echo.co_iter().collect::<Vec<_>>(), ["hey", "hey"]);
/// });
/// ```
///
/// The yielder cannot escape the body:
///
/// ```compile_fail,E0521
/// let mut stolen = None;
/// let _gen = corona::generator(move |y: &corona::Yielder<u8>| stolen = Some(y));
/// ```
pub struct Yielder<T> {
    /// The frame of this generator's coroutine, at the bottom of its stack.
    frame: *const Frame,
    /// Invariant in `T`: a `Yielder<&'static str>` must not become a `Yielder<&'a str>` and
    /// hand a short-lived item to a consumer that expects `'static` ones.
    _items: PhantomData<fn(T) -> T>,
    /// `!Send` and `!Sync`: it suspends a stack that belongs to this thread.
    _not_send: StaysOnItsThread,
}

impl<T> Yielder<T> {
    /// Hands `item` to the generator's consumer and suspends the generator until the next
    /// `poll_next`. Returns when the consumer asks for the next item.
    ///
    /// If the consumer drops the generator instead, this never returns: the generator's stack
    /// is unwound from here, running every destructor on it.
    ///
    /// # Panics
    ///
    /// When called anywhere but the generator's own coroutine: inside a coroutine nested in
    /// it, or inside the `Future::poll` of a future that [`co_await!`](crate::co_await) is
    /// driving. Also when called from a destructor while the generator unwinds.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # futures::executor::block_on(async {
    /// let letters = corona::generator(|y| "abc".chars().for_each(|c| y.yield_(c)));
    /// assert_eq!(letters.collect::<String>().await, "abc");
    /// # });
    /// ```
    // As `await_future`: inlined in optimised builds, not forced in debug builds, where it
    // made each level of a recursion that yields 384 bytes against 48 for a plain call (the
    // test `a_function_that_yields_costs_about_the_stack_of_a_plain_call`).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    #[track_caller]
    pub fn yield_(&self, item: T) {
        // SAFETY: the yielder is only lent to the body, for a lifetime the body cannot name,
        // and the frame sits below the body on the generator's stack: it is alive.
        let frame = unsafe { &*self.frame };
        // Code that holds this yielder (the body, what it calls, coroutines it resumes or
        // drops, scope children it drives) may run on another stack, or inside a driven poll:
        // only where the thread's current coroutine is this generator's may it suspend.
        if !frame.may_yield() {
            cannot_yield(self.frame);
        }
        // The consumer's `poll_next` moves the item out of here while we are suspended, before
        // it returns, every time: so this frame never drops it (not even if the generator is
        // dropped at this suspend, which unwinds from here).
        let item = ManuallyDrop::new(item);
        let offered = Suspend::Yielded(NonNull::from(&item).cast());
        // SAFETY: `may_yield` returned true just now: we run on this frame's own stack
        // (nothing nested runs on top of it), not inside a `Future::poll` driven by
        // `co_await!` (the current coroutine is not `Lent`), and the stack is not unwinding.
        unsafe { frame.suspend(offered) };
    }
}

/// Why `yield_` may not suspend its generator (`frame`) now: the panic to raise.
#[cold]
#[inline(never)]
#[track_caller]
fn cannot_yield(frame: *const Frame) -> ! {
    match raw::current() {
        // `may_yield` refused its own running frame: the stack unwinds.
        Current::Running(current) if core::ptr::eq(current, frame) => yield_while_unwinding(),
        Current::Running(_) => yield_from_nested_coroutine(),
        Current::Lent => yield_inside_poll(),
        Current::Unwinding => yield_while_unwinding(),
        Current::None => yield_outside_of_the_generator(),
    }
}

impl<T> fmt::Debug for Yielder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn yield_inside_poll() -> ! {
    panic!(
        "corona: Yielder::yield_ was called from inside the poll() of a future that co_await! \
         is driving. A Future::poll must not suspend its caller: yield after the co_await! \
         returns, from the generator body or a function it calls."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn yield_from_nested_coroutine() -> ! {
    panic!(
        "corona: Yielder::yield_ was called from a coroutine nested inside the generator, not \
         from the generator's own coroutine. Only the generator body (and the functions it \
         calls directly) can yield: return the items from the nested coroutine and yield them \
         in the generator, or make the nested coroutine a generator and forward its items."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn yield_while_unwinding() -> ! {
    panic!(
        "corona: Yielder::yield_ was called while the generator is unwinding (its body \
         panicked, or the generator was dropped), so no consumer will ever take the item. \
         Destructors that run during unwinding cannot yield."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn yield_outside_of_the_generator() -> ! {
    panic!(
        "corona: Yielder::yield_ was called outside of any coroutine. Only the generator body \
         (and the functions it calls) can yield."
    )
}
