//! [`scope`]: child coroutines that borrow from the coroutine that spawns them.
//!
//! # Design
//!
//! A scope is a function call on the enclosing coroutine's stack, and its body runs right
//! there, as part of that coroutine: its stack size, [`stack_usage`](crate::stack_usage) and a
//! generator's [`Yielder::yield_`](crate::Yielder::yield_) all work from the body.
//!
//! Each child is a [`RawCoroutine`] on a pooled stack of its own, owned by the [`Scope`],
//! which lives in `scope`'s call frame. The children run inside the enclosing coroutine's
//! polls: while `scope` runs, the enclosing coroutine's [`Frame`] carries the scope as its
//! [`SuspendHook`], and whenever the body (or `join`, or `scope` waiting for the last
//! children) waits for a pending future, `Frame::suspend` first resumes the children that are
//! ready, each with a `Context` of its own waker, then suspends. A child's waker puts the
//! child on the scope's ready list (once: a flag) and wakes the enclosing coroutine's waker
//! (registered by the latest round; a spawn by the body itself needs no wake-up),
//! so the bookkeeping per wake is O(1) and a wake never polls the children that did not
//! ask for it. Each child runs at most once per suspend of the enclosing coroutine, so a child
//! that yields in a loop cannot starve the executor. When a child finishes during that round,
//! the body re-polls its future instead of suspending (a `join` of that child is then ready
//! with no trip through the executor).
//!
//! Scopes nest: a scope opened inside a scope body chains to the outer one (its waits drive
//! both), and a scope opened inside a child hooks the child's own frame.
//!
//! # Soundness
//!
//! **What is borrowed.** A child's closure and its output are `'scope`: they may borrow
//! anything that outlives the `scope` call (`'env`), which lives in frames *below* `scope` on
//! the enclosing coroutine's stack, or in whatever that coroutine borrows (if it is itself a
//! child, or `run`'s coroutine). The children borrow nothing from the scope body, whose locals
//! die before the children are joined: the invariant `'scope` (as in `std::thread::scope`)
//! makes the compiler reject that, and also keeps `&Scope` and the join handles inside the
//! body.
//!
//! **Who can run a child.** Only the driver in this module, from the enclosing coroutine's
//! `Frame::suspend`, on that coroutine's stack, while `scope` is on that stack (the hook is
//! installed for exactly the duration of the call, and the frame belongs to this thread:
//! coroutines are `!Send`). So a child runs only while `scope`'s frame, and everything below
//! it, is alive, and while the enclosing coroutine is inside a wait. Rust's borrow rules hold
//! across that: a child's closure holds its borrows for all of `'scope`, so the body cannot
//! use anything that conflicts with them, exactly as with threads.
//!
//! **Why nothing freed can be reached.** `scope` returns only after every child finished; if
//! it unwinds instead (a panic in the body, or the enclosing coroutine dropped while it waits
//! inside the scope, which unwinds its stack), a guard in `scope`'s frame, dropped before any
//! borrowed local below that frame, drops every unfinished child, which
//! unwinds the child's stack (every destructor on it runs); should a destructor it runs panic
//! (or be cancelled at a wait or yield there), the `Core`'s own `Drop` finishes the job in the
//! same frame. Join handles share a finished
//! child's result only, never its coroutine, so a leaked handle keeps no stack alive. That
//! leaves leaking: the `Scope` cannot be leaked on its own (it is a local of `scope`, lent
//! out by reference only), only together with the enclosing coroutine's whole stack, with
//! `mem::forget` of that coroutine. Then the children stay suspended forever and what they
//! borrow stays on the leaked stack. (The `Core` holding the children erases their `'scope`
//! so that the compiler lets it be dropped at the end of `scope`; the guard above is what
//! keeps them from outliving it.) It is never freed under them because of two invariants:
//!
//! 1. **A stack is reused or unmapped only after its coroutine has been dropped**, never when
//!    it was leaked, also not at thread exit: a stack goes back to the pool only in
//!    `RawCoroutine`'s destructor, only the pool releases it (unmapping it if it is a
//!    mapping of its own), and slabs are never unmapped (see `stack::pool`).
//! 2. **Every coroutine that borrows non-`'static` data is owned by a call frame that cannot
//!    leak it except by leaking its own stack**: `run`'s coroutine (owned by `run`, which
//!    blocks) and scope children (owned by `scope`). Every other coroutine body is `'static`.
//!
//! So after a leak, a child can still be running code on another thread only through
//! something like `std::thread::scope` suspended inside it, and that thread reads memory on
//! leaked stacks or leaked heap allocations: both stay valid. A thread-local does not: it
//! is destroyed when its thread exits, leaked borrowers or not. No scope of this module can
//! prevent that (a `'static` coroutine body can do the same), so the crate guide's soundness
//! rules forbid leaking a coroutine whose scoped threads use a thread-local.
//!
//! # Where it differs from `std::thread::scope`
//!
//! * Children are coroutines on the same thread, not threads: they run while the body
//!   waits, not while it computes.
//! * In a destructor that runs while the body unwinds, a scope runs its children, but the
//!   body cannot wait for them (no waits are possible while a coroutine unwinds): a `join()`,
//!   or the end of the scope, panics if a child has to wait for something not yet ready.
//! * A panic of the body cancels the unfinished children instead of waiting for them.
//! * Dropping an enclosing coroutine whose child waits inside `std::thread::scope` blocks
//!   (while the child's stack unwinds) until those threads end.

use core::any::Any;
use core::cell::{Cell, RefCell};
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::task::{waker_ref, ArcWake};

use crate::raw::{self, Current, Frame, RawCoroutine, Step, SuspendHook};
use crate::stack::DEFAULT_STACK_SIZE;
use crate::Builder;

/// Runs `f` with a [`Scope`] whose children may borrow what outlives the call, and returns
/// only after `f` and every child spawned in the scope have finished.
///
/// Only inside a coroutine ([`run`](crate::run), `#[corona::coroutine]`, a
/// [`generator`](crate::generator) body, a [`Pool`](crate::Pool) job, any
/// [`Coroutine`](crate::Coroutine)). The body `f` runs as part of that coroutine, on its
/// stack; the children run on stacks of their own, on the same thread, whenever the body or
/// another child waits, so they wait concurrently (see [`Scope::spawn`]).
///
/// This is the scoped spawn async Rust cannot offer soundly: a future can be leaked with
/// `mem::forget` while a task it spawned still borrows from it. A scope is a function call
/// on a stack; leaking the coroutine around it leaks that whole stack, and corona never reuses
/// the stack of a leaked coroutine, so nothing a child borrows is ever freed under it (but a
/// thread-local dies with its thread: see the crate guide's
/// [soundness rules](crate#soundness-rules-and-why)).
///
/// # Panics
///
/// * Outside of a coroutine (the message contains `outside of a coroutine`), inside the
///   `Future::poll` of a future that [`co_await!`](crate::co_await) drives, and in the
///   destructors that run while a suspended coroutine is dropped.
/// * If a child panicked and nobody [joined](ScopedJoinHandle::join) it, that panic resumes
///   out of `scope` after every other child has finished.
/// * A panic in `f` cancels every unfinished child (its stack unwinds, every destructor on it
///   runs) and then resumes. So does dropping the enclosing coroutine while it waits inside
///   the scope: the children are gone before anything they borrow is dropped.
///
/// # Differences from `std::thread::scope`
///
/// * The children are coroutines on this thread: they run while the body (or another child)
///   waits, not while it computes.
/// * A panic in the body cancels the unfinished children instead of waiting for them.
/// * In a destructor that runs while the body unwinds, a scope runs its children, but the
///   body cannot wait for them: a `join()`, or the end of the scope, panics if a child has to
///   wait for something not yet ready.
/// * Dropping the enclosing coroutine while a child waits inside `std::thread::scope`
///   blocks (while the child's stack unwinds) until that scope's threads end.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use std::time::Duration;
/// use corona::co_await;
///
/// corona::run(|| {
///     let names = vec![String::from("alpha"), String::from("be")];
///     let mut calls = 0;
///     let total = corona::scope(|s| {
///         let a = s.spawn(|| {
///             co_await!(tokio::time::sleep(Duration::from_millis(5)));
///             names[0].len() // borrows `names`
///         });
///         let b = s.spawn(|| names[1].len());
///         calls += 1; // the body keeps its own borrows
///         a.join() + b.join()
///     });
///     assert_eq!((total, calls), (7, 1));
/// });
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let frame = match raw::current() {
        // SAFETY: `current` returned the frame of the coroutine running on this stack; it sits
        // at the bottom of this stack, below this call, so it outlives the call.
        Current::Running(frame) => unsafe { &*frame },
        Current::None => scope_outside_of_a_coroutine(),
        Current::Unwinding => scope_in_a_dropped_coroutine(),
        Current::Lent => scope_inside_poll(),
    };
    let scope = Scope {
        core: Core::new(frame),
        _scope: PhantomData,
        _env: PhantomData,
    };
    // Dropped in reverse order, on return and while unwinding: first the hook goes, then
    // every unfinished child is cancelled and every child dropped, then the scope.
    let _children = DropChildren(&scope.core);
    let _hook = Hook::install(frame, &scope.core);
    let out = f(&scope);
    scope.core.wait_for_children();
    if let Some(payload) = scope.core.take_unjoined_panic() {
        panic::resume_unwind(payload);
    }
    out
}

/// A scope to spawn borrowing child coroutines in; see [`scope`].
///
/// `'scope` is the lifetime of the scope itself: children may borrow what lives at least that
/// long, and their handles cannot outlive it. `'env` is the lifetime of what the children
/// borrow, from outside the scope. Both are invariant, as in
/// [`std::thread::Scope`], so a `&Scope` and its handles cannot leave the body.
///
/// A scope belongs to the thread of its coroutine, where its children run: unlike
/// `std::thread::Scope` it is not `Sync`, so no other thread can spawn into it.
///
/// ```compile_fail,E0277
/// corona::run(|| {
///     corona::scope(|s| {
///         std::thread::scope(|threads| {
///             threads.spawn(|| drop(s.spawn(|| 1))); // `&Scope` is not `Send`
///         });
///     });
/// });
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    core: Core,
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns a child coroutine in this scope on a stack of the default size
    /// ([`DEFAULT_STACK_SIZE`](crate::DEFAULT_STACK_SIZE)); [`Builder::spawn_scoped`] takes
    /// another size.
    ///
    /// `f` may borrow anything that outlives the scope, may [`co_await!`](crate::co_await) at
    /// any depth, and may spawn further children through the scope. It runs on this thread,
    /// whenever the body or another child waits, starting no later than the body's next wait
    /// (or the end of the body). A child costs its stack (from the thread's pool) and a few
    /// words of bookkeeping: no executor task, no `Send`, no `'static`.
    ///
    /// Dropping the returned handle detaches nothing: the scope still waits for the child.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// corona::run(|| {
    ///     let mut hits = vec![0; 3];
    ///     corona::scope(|s| {
    ///         for (i, slot) in hits.iter_mut().enumerate() {
    ///             s.spawn(move || {
    ///                 corona::yield_now();
    ///                 *slot = i * 10; // each child owns one `&mut` slot
    ///             });
    ///         }
    ///     });
    ///     assert_eq!(hits, [0, 10, 20]);
    /// });
    /// ```
    ///
    /// A child cannot borrow a local of the scope body, which ends before the children do:
    ///
    /// ```compile_fail,E0373
    /// corona::run(|| {
    ///     corona::scope(|s| {
    ///         let local = String::from("dies with the body");
    ///         s.spawn(|| local.len());
    ///     });
    /// });
    /// ```
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + 'scope,
        T: 'scope,
    {
        self.spawn_sized(DEFAULT_STACK_SIZE, f)
    }

    fn spawn_sized<F, T>(&'scope self, stack_size: usize, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + 'scope,
        T: 'scope,
    {
        // SAFETY: `f` and `T` outlive `'scope`, so they stay valid at least until `scope`
        // returns or unwinds. The coroutine is owned by `self.core`, a local of `scope`:
        // `scope` returns only after it finished, and its `DropChildren` drops it (unwinding
        // its stack) on every other path, before `scope`'s frame is gone (or, if a destructor
        // `DropChildren` runs panics, the `Core`'s own `Drop`, in the same frame, while that
        // panic unwinds). Nothing else owns
        // it (handles share only its result). It is leaked only if the enclosing coroutine's
        // stack is leaked, and then what it borrows is leaked with that stack: see the module
        // docs, "Soundness".
        let raw = unsafe { RawCoroutine::new_unchecked(stack_size, move |_: &Frame| f()) };
        let child = Rc::new(Child {
            raw: Cell::new(Some(raw)),
            finished: Cell::new(false),
            result: RefCell::new(None),
            joiner: Cell::new(None),
            wake: Arc::new(ChildWake {
                index: self.core.children.borrow().len(),
                queued: AtomicBool::new(false),
                shared: Arc::clone(&self.core.shared),
            }),
        });
        let erased: Rc<dyn Run + 'scope> = child.clone();
        // SAFETY: only the lifetime is erased (same fat pointer), so that `Core` carries no
        // lifetime and the compiler lets it be dropped at the end of `scope`, while the
        // borrows are alive. The child never outlives `'scope`: `scope`'s `DropChildren`
        // (or, after a panic there, the `Core`'s `Drop`) cancels the child (if unfinished)
        // and drops its `Rc` in `scope`'s frame, one child at a time, never through the
        // `Vec`'s drop glue (the children's destructors may still push to it).
        let erased: Rc<dyn Run> = unsafe { core::mem::transmute(erased) };
        self.core.children.borrow_mut().push(erased);
        self.core.running.set(self.core.running.get() + 1);
        // Ready to start: it runs at the enclosing coroutine's next wait. Spawned by the body
        // itself, nothing needs waking: that wait drives it. Spawned anywhere else (a child),
        // the enclosing coroutine is woken for another round.
        child.wake.queued.store(true, Ordering::Relaxed);
        let wake = !self.core.runs_now();
        self.core.shared.push_ready(child.wake.index, wake);
        ScopedJoinHandle {
            child,
            _scope: PhantomData,
        }
    }
}

impl Builder {
    /// Spawns a child coroutine in `scope` with this builder's settings (its stack size):
    /// [`Scope::spawn`] with another stack.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// fn depth(n: u32) -> u32 {
    ///     let frame = std::hint::black_box([n as u8; 4096]);
    ///     if n == 0 { 0 } else { 1 + depth(n - 1) + u32::from(frame[1]) * 0 }
    /// }
    ///
    /// corona::run(|| {
    ///     let levels = 300;
    ///     let deep = corona::scope(|s| {
    ///         corona::Builder::new()
    ///             .stack_size(4 * 1024 * 1024)
    ///             .spawn_scoped(s, || depth(levels))
    ///             .join()
    ///     });
    ///     assert_eq!(deep, 300);
    /// });
    /// ```
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + 'scope,
        T: 'scope,
    {
        scope.spawn_sized(self.stack_size, f)
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("children", &self.core.children.borrow().len())
            .field("running", &self.core.running.get())
            .finish()
    }
}

/// The handle of a child spawned with [`Scope::spawn`]: [`join`](Self::join) it for its
/// output.
///
/// Dropping it detaches nothing: the scope still waits for the child.
pub struct ScopedJoinHandle<'scope, T> {
    /// Shares the child's result with the scope, never its coroutine (see `Child`).
    child: Rc<Child<T>>,
    _scope: PhantomData<&'scope mut &'scope ()>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits inside the current coroutine for the child to finish and returns its output.
    /// Other children and the executor's other tasks run meanwhile.
    ///
    /// # Panics
    ///
    /// If the child panicked, that panic resumes here (and then not out of [`scope`]); if it
    /// already came out of [`scope`] (a join in a destructor that runs as the scope ends),
    /// a panic that says so. Also a panic, instead of a wait for ever, for a join in such a
    /// destructor of a child that has not finished: children run only until their scope
    /// ends (one spawned later never runs). Like
    /// [`co_await!`](crate::co_await), outside of a coroutine if the child has not finished.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// corona::run(|| {
    ///     let text = "four";
    ///     let n = corona::scope(|s| s.spawn(|| text.len()).join());
    ///     assert_eq!(n, 4);
    /// });
    /// ```
    #[track_caller]
    pub fn join(self) -> T {
        if !self.child.finished.get() && self.child.wake.shared.ended.load(Ordering::Relaxed) {
            panic_joined_after_the_scope_ended();
        }
        crate::await_future(Join(&self.child));
        match self.child.result.borrow_mut().take() {
            Some(Ok(out)) => out,
            Some(Err(payload)) => panic::resume_unwind(payload),
            // Finished without a result: `scope` took its panic, nobody having joined it.
            None => panic_already_out_of_the_scope(),
        }
    }

    /// Whether the child has finished (returned or panicked); [`join`](Self::join) then
    /// returns without waiting.
    ///
    /// # Examples
    ///
    #[cfg_attr(feature = "tokio", doc = "```")]
    #[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
    /// corona::run(|| {
    ///     corona::scope(|s| {
    ///         let child = s.spawn(|| 1);
    ///         assert!(!child.is_finished()); // it starts at the body's next wait
    ///         corona::yield_now();
    ///         assert!(child.is_finished());
    ///         assert_eq!(child.join(), 1);
    ///     });
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.child.finished.get()
    }
}

impl<T> fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedJoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Ready once the child finished; registers the joiner's waker until then.
struct Join<'a, T>(&'a Child<T>);

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.finished.get() {
            return Poll::Ready(());
        }
        let joiner = match self.0.joiner.take() {
            Some(joiner) if joiner.will_wake(cx.waker()) => joiner,
            _ => cx.waker().clone(),
        };
        self.0.joiner.set(Some(joiner));
        Poll::Pending
    }
}

/// One child: its coroutine while it runs, its result once it finished.
struct Child<T> {
    /// The suspended (or not yet started) coroutine; `None` while the driver runs it (it is
    /// then on the driver's frame), and for good once it finished or was cancelled. Only the
    /// scope's `Core` takes it: handles never own a coroutine, so a leaked handle keeps no
    /// stack alive and cannot outlive what the coroutine borrows.
    raw: Cell<Option<RawCoroutine<T>>>,
    /// Set once the body returned or panicked.
    finished: Cell<bool>,
    /// The output or panic, until joined (or dropped with the last `Rc`).
    result: RefCell<Option<std::thread::Result<T>>>,
    /// The waker of whoever waits in `join`.
    joiner: Cell<Option<Waker>>,
    /// This child's waker: puts it on the scope's ready list.
    wake: Arc<ChildWake>,
}

/// What the scope needs of a child, whatever its output type.
trait Run {
    /// Resumes the child once with its own waker. True if it finished (returned or panicked).
    fn run(&self) -> bool;
    /// Wakes whoever waits to join the finished child, unless that is `parent`, the enclosing
    /// coroutine's waker: the driver makes the waiting body re-poll anyway.
    fn wake_joiner(&self, parent: &Waker);
    /// Drops the coroutine if it has not finished, unwinding its stack.
    fn cancel(&self);
    /// The panic of a child nobody joined.
    fn take_unjoined_panic(&self) -> Option<Box<dyn Any + Send>>;
}

impl<T> Run for Child<T> {
    fn run(&self) -> bool {
        // Cleared first: a wake during this run queues the child for the next round.
        self.wake.queued.store(false, Ordering::Release);
        // `None`: a stale wake of a finished or cancelled child.
        let Some(mut raw) = self.raw.take() else {
            return false;
        };
        let waker = waker_ref(&self.wake);
        let mut cx = Context::from_waker(&waker);
        let result = match panic::catch_unwind(AssertUnwindSafe(|| raw.resume(&mut cx))) {
            Ok(Step::Suspended(why)) => {
                debug_assert_eq!(why, crate::raw::Suspend::Pending, "a child never yields");
                self.raw.set(Some(raw));
                return false;
            }
            Ok(Step::Done(out)) => Ok(out),
            Err(payload) => Err(payload),
        };
        // The stack goes back to the pool now, not at the end of the scope.
        drop(raw);
        *self.result.borrow_mut() = Some(result);
        self.finished.set(true);
        true
    }

    fn wake_joiner(&self, parent: &Waker) {
        match self.joiner.take() {
            Some(joiner) if !joiner.will_wake(parent) => joiner.wake(),
            _ => {}
        }
    }

    fn cancel(&self) {
        drop(self.raw.take());
    }

    fn take_unjoined_panic(&self) -> Option<Box<dyn Any + Send>> {
        let mut result = self.result.borrow_mut();
        match result.take() {
            Some(Err(payload)) => Some(payload),
            other => {
                *result = other;
                None
            }
        }
    }
}

/// The scope's children and its ready list.
struct Core {
    /// Every child spawned, in order; a child's index is its place here. Their lifetime
    /// `'scope` is erased (see `Scope::spawn_sized`): they are dropped in `scope`'s frame.
    children: RefCell<Vec<Rc<dyn Run>>>,
    /// How many children have not finished.
    running: Cell<usize>,
    /// The ready list and the enclosing coroutine's waker, shared with the children's wakers
    /// (which may be woken from any thread).
    shared: Arc<Shared>,
    /// The ready list's previous contents, kept to be swapped in (no allocation per round).
    batch: Cell<Vec<usize>>,
    /// The hook installed on the frame before this scope's: an enclosing scope of the same
    /// coroutine, which outlives this one. Driven after this scope's children.
    outer: Option<NonNull<dyn SuspendHook>>,
    /// The enclosing coroutine's frame: code running with it current is the scope body (or
    /// an enclosing scope's), whose next wait drives the children.
    frame: *const Frame,
}

struct Shared {
    ready: Mutex<Ready>,
    /// Set as the scope drops its children: from then on no child runs any more.
    ended: AtomicBool,
}

/// What the children's wakers hand the driver, under one lock.
#[derive(Default)]
struct Ready {
    /// The indices of the children woken since the last round, each once.
    indices: Vec<usize>,
    /// The enclosing coroutine's waker, from its latest wait inside the scope; taken (and
    /// woken) by the first wake after it was registered.
    parent: Option<Waker>,
}

/// A child's waker.
struct ChildWake {
    index: usize,
    /// Whether the child is on the ready list already (set by a wake, cleared by `run`).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl ArcWake for ChildWake {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if !arc_self.queued.swap(true, Ordering::AcqRel) {
            arc_self.shared.push_ready(arc_self.index, true);
        }
    }
}

// The enclosing coroutine's waker is woken, cloned and dropped with the list unlocked: its
// code may wake a child of this scope (which takes the lock), or panic (which must leave the
// list usable: the body may catch the panic and wait on).
impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ready> {
        self.ready.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts child `index` on the ready list; with `wake`, wakes the enclosing coroutine.
    #[inline]
    fn push_ready(&self, index: usize, wake: bool) {
        let parent = {
            let mut ready = self.lock();
            ready.indices.push(index);
            if wake {
                ready.parent.take()
            } else {
                None
            }
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }

    /// Registers `waker` as the enclosing coroutine's, and swaps `batch` (empty) for the
    /// ready list.
    fn start_round(&self, mut batch: Vec<usize>, waker: &Waker) -> Vec<usize> {
        let mut ready = self.lock();
        let mut replaced = None;
        if !ready.parent.as_ref().is_some_and(|w| w.will_wake(waker)) {
            drop(ready);
            let fresh = waker.clone();
            ready = self.lock();
            replaced = ready.parent.replace(fresh);
        }
        core::mem::swap(&mut batch, &mut ready.indices);
        drop(ready);
        drop(replaced);
        batch
    }
}

impl Core {
    /// Whether the enclosing coroutine runs now (this is the body, not a child).
    fn runs_now(&self) -> bool {
        matches!(raw::current(), Current::Running(frame) if core::ptr::eq(frame, self.frame))
    }

    fn new(frame: &Frame) -> Self {
        Core {
            children: RefCell::new(Vec::new()),
            running: Cell::new(0),
            shared: Arc::new(Shared {
                ready: Mutex::new(Ready::default()),
                ended: AtomicBool::new(false),
            }),
            batch: Cell::new(Vec::new()),
            outer: frame.suspend_hook(),
            frame,
        }
    }

    /// Waits (driving the children through the hook) until every child has finished.
    fn wait_for_children(&self) {
        crate::await_future(AllFinished(self));
    }

    fn take_unjoined_panic(&self) -> Option<Box<dyn Any + Send>> {
        self.children
            .borrow()
            .iter()
            .find_map(|child| child.take_unjoined_panic())
    }
}

/// Ready once no child of the scope is running. Wakes come from the children's wakers (which
/// wake the enclosing coroutine) and from the driver (a child finished: the wait re-polls).
struct AllFinished<'a>(&'a Core);

impl Future for AllFinished<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0.running.get() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// At the end of `scope` (returning or unwinding), while everything the children borrow is
/// still alive: cancels every unfinished child, newest first, and drops every child (with its
/// unjoined output). Through a shared reference, and with no borrow of the list held while a
/// child unwinds or an output drops, because that code may still use the `&Scope` (even
/// spawn: such a child is cancelled in turn).
struct DropChildren<'a>(&'a Core);

impl Drop for DropChildren<'_> {
    fn drop(&mut self) {
        self.0.drop_children();
    }
}

impl Core {
    /// Cancels and drops the children one at a time, newest first, until none is left
    /// (see [`DropChildren`]).
    fn drop_children(&self) {
        // The hook is gone: nothing drives the children any more.
        self.shared.ended.store(true, Ordering::Relaxed);
        loop {
            let Some(child) = self.children.borrow_mut().pop() else {
                break;
            };
            child.cancel();
            drop(child);
        }
    }
}

impl Drop for Core {
    /// Empty already, unless a destructor that `DropChildren` ran panicked (an unjoined
    /// output's, or a cancelled child's that caught its cancellation and panicked): then the
    /// rest are dropped here, the same way, while that panic unwinds. Never by the `Vec`'s
    /// own drop glue: the children's destructors may still spawn into this scope, which
    /// would push onto the `Vec` while it is being dropped (reallocating it under the drop
    /// loop, and leaking what it pushed).
    fn drop(&mut self) {
        self.drop_children();
    }
}

/// The scope's driver: before the enclosing coroutine suspends for a pending future, it
/// resumes the ready children once each (then those of the enclosing scopes). True if a
/// child finished: the waiting body re-polls its future instead of suspending.
impl SuspendHook for Core {
    fn before_suspend(&self, cx: &mut Context<'_>) -> bool {
        let batch = self.shared.start_round(self.batch.take(), cx.waker());
        let mut finished = false;
        // User code runs in this loop (a joiner's waker wakes the enclosing coroutine's), and
        // may panic out of the body's wait: then the children not run yet go back on the
        // ready list (their wakes are spent: they are marked queued).
        let mut round = Round {
            batch,
            done: 0,
            shared: &self.shared,
        };
        while let Some(&index) = round.batch.get(round.done) {
            round.done += 1;
            // Cloned out so that no borrow is held while the child runs (it may spawn).
            let child = Rc::clone(&self.children.borrow()[index]);
            if child.run() {
                self.running.set(self.running.get() - 1);
                finished = true;
                child.wake_joiner(cx.waker());
            }
        }
        let mut batch = core::mem::take(&mut round.batch);
        batch.clear();
        self.batch.set(batch);
        if let Some(outer) = self.outer {
            // SAFETY: `outer` was the hook installed before this scope's, by an enclosing
            // `scope` call on the same stack, which outlives this one (see `Hook`).
            finished |= unsafe { outer.as_ref() }.before_suspend(cx);
        }
        finished
    }
}

/// One round of the driver: the children woken before it, and how many of them it took.
struct Round<'a> {
    batch: Vec<usize>,
    done: usize,
    shared: &'a Shared,
}

impl Drop for Round<'_> {
    /// Puts the children the round did not reach back on the ready list: a panic (of a
    /// waker) cut it short.
    fn drop(&mut self) {
        if let Some(rest) = self.batch.get(self.done..).filter(|rest| !rest.is_empty()) {
            self.shared.lock().indices.extend_from_slice(rest);
        }
    }
}

/// Installs a scope on the enclosing coroutine's frame and restores the previous hook when
/// dropped (on return and while unwinding).
struct Hook<'a> {
    frame: &'a Frame,
    previous: Option<NonNull<dyn SuspendHook>>,
}

impl<'a> Hook<'a> {
    /// The hook is removed by this guard's destructor, which runs before `core` (declared
    /// earlier in `scope`) is dropped, so the frame never holds it past its lifetime.
    fn install(frame: &'a Frame, core: &Core) -> Self {
        let core: NonNull<dyn SuspendHook> = NonNull::from(core);
        // SAFETY: `core` stays valid until this guard is dropped (see above), whose destructor
        // replaces it with the previous hook, on return and while unwinding.
        let previous = unsafe { frame.replace_suspend_hook(Some(core)) };
        Hook { frame, previous }
    }
}

impl Drop for Hook<'_> {
    fn drop(&mut self) {
        // SAFETY: the previous hook is an enclosing scope's on the same stack, whose own
        // guard is still live and will replace it before that scope's `Core` goes away.
        unsafe { self.frame.replace_suspend_hook(self.previous) };
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn scope_outside_of_a_coroutine() -> ! {
    panic!(
        "corona::scope was called outside of a coroutine: its children run while the \
         coroutine around it waits, so there must be one. Call it inside corona::run(..), \
         #[corona::main], a #[corona::coroutine] fn, a corona::Coroutine, a generator body \
         or a Pool job."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn scope_in_a_dropped_coroutine() -> ! {
    panic!(
        "corona::scope was called while a suspended coroutine is being dropped: its \
         destructors run with no executor, so they cannot wait for children. Do the work \
         before the coroutine ends, or spawn it as a task of its own."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn scope_inside_poll() -> ! {
    panic!(
        "corona::scope was called from inside the poll() of a future that co_await! is \
         driving, where the coroutine cannot wait for its children. Open the scope outside \
         that poll, in the coroutine body or a function it calls."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn panic_already_out_of_the_scope() -> ! {
    panic!(
        "corona: this scoped child panicked, and as nobody had joined it when its scope \
         ended, its panic came out of corona::scope instead. Join the child inside the scope \
         body to receive its panic here."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn panic_joined_after_the_scope_ended() -> ! {
    panic!(
        "corona: this scoped child was joined after its scope ended (in a destructor that \
         runs as corona::scope drops its children), but it had not finished, and no child \
         runs past the end of its scope: it was, or will be, cancelled. A child spawned \
         after its scope ended never runs. Join the child inside the scope body."
    )
}
