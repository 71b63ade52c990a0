//! The switch protocol: how a poll reaches a coroutine body, and how the body gets back.
//!
//! This is the one module that drives corosensei. Read top to bottom, it is the whole path of
//! one wait:
//!
//! 1. **poll**: [`Coroutine::poll`](crate::Coroutine) (or a generator's `poll_next`) calls
//!    [`RawCoroutine::resume`] with the poll's `Context`.
//! 2. **resume**: `resume` remembers the thread's current coroutine ([`Restore`]) and switches
//!    to the coroutine's stack. The first resume starts the body on top of a [`Frame`] at the
//!    bottom of that stack, which records the poll's `Context` and makes itself the thread's
//!    current coroutine. A later one first does that itself, on the poller's side (it knows
//!    the frame's address since the first suspend), and then returns out of
//!    [`Frame::suspend`], which has nothing left to do.
//! 3. **wait**: `co_await!` finds the frame ([`current`]) and [`Frame::wait`]s: it polls the
//!    future with that `Context`, marking the thread [`context::LENT`] meanwhile. `Ready`
//!    returns the output with no switch at all.
//! 4. **suspend**: on `Pending`, [`Frame::suspend`] switches back to the poller. `resume`
//!    returns [`Step::Suspended`], its [`Restore`] puts the previous current coroutine back,
//!    and the poll returns `Pending`. The future registered the waker; the next poll resumes
//!    the body inside `suspend` (step 2).
//!
//! The safe types above decide what a step means ([`Coroutine`](crate::Coroutine),
//! [`Generator`](crate::Generator)); `wait.rs` holds the public entry points. Bodies that
//! borrow start through [`RawCoroutine::new_unchecked`], and every suspend of every coroutine
//! passes through [`Frame::suspend`], which first runs the frame's [`SuspendHook`]: the two
//! places to extend the protocol, both used by `corona::scope`, which this module does not
//! name.
//!
//! Dropping a suspended [`RawCoroutine`] unwinds its stack with no executor behind it: the
//! thread is marked [`context::UNWINDING`] meanwhile, so `co_await!` in a destructor can tell.

use core::cell::Cell;
use core::future::Future;
use core::mem::ManuallyDrop;
use core::pin::pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};
use std::panic::{self, AssertUnwindSafe};

use corosensei::CoroutineResult;

use crate::context::{self, Restore};
use crate::stack::{self, Stack};

/// The value a coroutine is resumed with. The first resume passes the `Context` of its poll,
/// its lifetime erased (only dereferenced before the coroutine suspends again); every later
/// one passes null, because the resumer has already written everything into the frame (see
/// [`RawCoroutine::resume`]), so the coroutine side needs no work after a suspend.
pub(crate) type Resume = *mut Context<'static>;

/// Why a coroutine body suspended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Suspend {
    /// It waits for a future that returned `Pending`; the waker has been registered.
    Pending,
    /// A generator body offers an item: a pointer to it (a `ManuallyDrop<T>`) on the
    /// suspended coroutine's stack, valid until the coroutine is resumed. Only a generator's
    /// own `Yielder<T>` suspends with it, and only its `Generator<T>` resumes that coroutine,
    /// which moves the item out as soon as the resume returns.
    /// (`NonNull`, so that `Suspend` is one word and a resume's result stays in registers:
    /// a two-word `Suspend` cost ~4 ns per coroutine in `create + complete`.)
    Yielded(NonNull<()>),
}

/// corosensei's handle for suspending back to the resumer.
type SuspendTo = corosensei::Yielder<Resume, Suspend>;

/// What one resume ended with.
pub(crate) enum Step<T> {
    Suspended(Suspend),
    Done(T),
}

/// A coroutine body on its own stack.
pub(crate) struct RawCoroutine<T> {
    /// Always initialised; `ManuallyDrop` only so that `Drop` can take it out and give its
    /// stack back to the pool.
    inner: ManuallyDrop<corosensei::Coroutine<Resume, Suspend, T, Stack>>,
    /// The body's [`Frame`], at the bottom of the coroutine's stack: null until the body first
    /// suspends, then valid for as long as the body has not finished.
    frame: FramePtr,
}

/// The address of a coroutine's [`Frame`], as its [`RawCoroutine`] keeps it.
///
/// A wrapper only so that the pointer does not change which auto traits a `RawCoroutine`
/// has (a raw pointer is neither `Send` nor `Sync`): whether a coroutine may change thread
/// is decided by the safe types that own it (`Coroutine`, `Generator` and scoped children
/// are `!Send` and `!Sync`), exactly as before the pointer was added.
#[derive(Clone, Copy)]
struct FramePtr(*const Frame);

// SAFETY: the pointer is only dereferenced by `RawCoroutine::resume` and its `Drop`, through
// `&mut RawCoroutine`, i.e. by whoever owns the coroutine and on the thread that runs it; the
// pointer adds no access of its own. See the type's doc for where thread-boundness lives.
unsafe impl Send for FramePtr {}
// SAFETY: `&RawCoroutine` gives no access to the pointer (only `started` and `done`).
unsafe impl Sync for FramePtr {}

impl<T> RawCoroutine<T> {
    /// A coroutine that will run `body` on a stack of at least `stack_size` bytes. The body
    /// gets its own [`Frame`], for waiting and suspending without looking it up.
    pub(crate) fn new<F>(stack_size: usize, body: F) -> Self
    where
        F: FnOnce(&Frame) -> T + 'static,
        T: 'static,
    {
        // SAFETY: `body` and `T` are `'static`, so nothing they hold can dangle however long
        // the coroutine lives, even if it is leaked.
        unsafe { Self::new_unchecked(stack_size, body) }
    }

    /// [`RawCoroutine::new`] without the `'static` bounds: what borrowing coroutines
    /// (`corona::run`, scoped children) are built on.
    ///
    /// # Safety
    ///
    /// Everything `body` borrows, and everything a `T` borrows, must stay valid until this
    /// coroutine has been dropped, or for ever if it is leaked. So the caller must own the
    /// coroutine in a call frame (`run`, `corona::scope`) that drops it (which unwinds it)
    /// before the borrows end, on every path including panics, and that cannot leak it except
    /// by leaking the stack the frame is on. Such a leak is sound because of two invariants:
    /// a stack is reused or unmapped only after its coroutine was dropped, never when it was
    /// leaked, also at thread exit (see `stack::pool`), so the borrowed data on a leaked stack
    /// stays valid; and every coroutine that borrows non-`'static` data is owned this way
    /// (everything else is `'static`), so a leaked stack is never freed by someone else.
    pub(crate) unsafe fn new_unchecked<F>(stack_size: usize, body: F) -> Self
    where
        F: FnOnce(&Frame) -> T,
    {
        // Runs at the first resume, at the bottom of the new stack.
        let trampoline = move |suspend_to: &SuspendTo, cx: Resume| {
            // The frame sits below the body on the coroutine stack and outlives it.
            let frame = Frame {
                suspend_to,
                cx: Cell::new(cx),
                panicking_at_resume: Cell::new(std::thread::panicking()),
                hook: Cell::new(None), // no `corona::scope` open yet
            };
            context::set(frame.address());
            body(&frame)
        };
        let stack = stack::pool::take(stack_size);
        stacks_out::taken();
        // SAFETY: forwarded from this function's contract.
        let inner = unsafe { corosensei::Coroutine::with_stack_unchecked(stack, trampoline) };
        RawCoroutine {
            inner: ManuallyDrop::new(inner),
            frame: FramePtr(core::ptr::null()),
        }
    }

    /// Runs the body until it suspends or finishes. A panic in the body resumes here, and
    /// leaves the coroutine [`done`](RawCoroutine::done).
    ///
    /// # Panics
    ///
    /// If the body already finished (returned or panicked).
    ///
    /// Everything the body needs after it is resumed is written here, on the poller's side,
    /// before the switch: the poll's `Context` and the panicking flag into the frame, the
    /// frame's address into the thread-local. So the coroutine side of a suspend does no
    /// thread-local access at all once it is resumed.
    #[inline(always)]
    pub(crate) fn resume(&mut self, cx: &mut Context<'_>) -> Step<T> {
        if self.inner.done() {
            polled_after_completion();
        }
        let cx = (cx as *mut Context<'_>).cast::<Context<'static>>();
        let frame = self.frame.0;
        if frame.is_null() {
            return self.first_resume(cx);
        }
        {
            // SAFETY: the body started and has not finished, so its frame is alive at the
            // bottom of its stack, and it is suspended: nothing on that stack runs now.
            let frame = unsafe { &*frame };
            frame.cx.set(cx);
            // The body cleared the flag as it suspended (`Frame::suspend`): only a resume
            // during a panic has anything to write, so the common one only reads the count.
            if std::thread::panicking() {
                frame.panicking_at_resume.set(true);
            }
        }
        let _restore = Restore::save_and_set(frame.cast());
        Self::step(self.inner.resume(core::ptr::null_mut()))
    }

    /// The first resume: the body builds its frame from the `Context`, and records it as the
    /// thread's current coroutine itself.
    #[inline(always)]
    fn first_resume(&mut self, cx: *mut Context<'static>) -> Step<T> {
        let restore = Restore::save();
        let result = self.inner.resume(cx);
        if let CoroutineResult::Yield(_) = result {
            // The body suspended through `Frame::suspend`, on its own stack with no coroutine
            // nested on top, so the thread's current coroutine is its frame (the trampoline
            // recorded it, and every nested resume put it back).
            self.frame = FramePtr(restore.current().cast());
        }
        drop(restore);
        Self::step(result)
    }

    #[inline(always)]
    fn step(result: CoroutineResult<Suspend, T>) -> Step<T> {
        match result {
            CoroutineResult::Yield(why) => Step::Suspended(why),
            CoroutineResult::Return(value) => Step::Done(value),
        }
    }

    /// Whether the body has started running.
    pub(crate) fn started(&self) -> bool {
        self.inner.started()
    }

    /// Whether the body has finished: it returned, or it panicked out of [`resume`].
    ///
    /// [`resume`]: RawCoroutine::resume
    pub(crate) fn done(&self) -> bool {
        self.inner.done()
    }
}

#[cold]
#[inline(never)]
fn polled_after_completion() -> ! {
    panic!("corona: a coroutine was polled again after it completed (returned or panicked)")
}

impl<T> Drop for RawCoroutine<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `inner` is initialised and this is the only place that takes it.
        let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        if inner.done() {
            give_back(inner);
        } else {
            unwind_and_give_back(inner);
        }
    }
}

/// Returns a finished coroutine's stack to the pool.
#[inline]
fn give_back<T>(inner: corosensei::Coroutine<Resume, Suspend, T, Stack>) {
    stack::pool::give(inner.into_stack());
    stacks_out::given();
}

/// Unwinds a suspended body (or drops the captures of an unstarted one) with no executor in
/// reach, then returns the stack to the pool. Meanwhile the thread is marked
/// [`context::UNWINDING`]: `co_await!` in the body's destructors can only poll once.
///
/// The thread's current coroutine is never the unwinding one's frame meanwhile, so a
/// `Yielder::yield_` in a destructor on the unwinding stack cannot suspend it (it panics
/// instead), even when `Frame::unwinding` cannot tell (the coroutine was last resumed during a
/// panic).
#[cold]
#[inline(never)]
fn unwind_and_give_back<T>(mut inner: corosensei::Coroutine<Resume, Suspend, T, Stack>) {
    let unwound = {
        let _unwinding = Restore::save_and_mark_unwinding();
        // A body that caught the cancellation (`catch_unwind` around a wait) and then
        // panicked makes this panic; the stack goes back to the pool all the same.
        panic::catch_unwind(AssertUnwindSafe(|| inner.force_unwind()))
    };
    if !inner.done() {
        // Only an unstarted body gets here: a started one is done once `force_unwind`
        // returns or panics. Its captures' drop glue panicked, and corosensei, unwound
        // before it could mark the coroutine done, would drop them all again in its own
        // `Drop` (`into_stack` refuses an unfinished coroutine and drops it).
        debug_assert!(unwound.is_err() && !inner.started());
        // SAFETY: nothing is left on the stack to drop. Drop glue that panics still drops
        // every remaining capture while it unwinds, so the closure is gone; what
        // `force_reset` skips is exactly that second drop.
        unsafe { inner.force_reset() };
    }
    give_back(inner);
    if let Err(panic) = unwound {
        panic::resume_unwind(panic);
    }
}

/// What a coroutine body needs in order to wait: its way back to the poller, and the
/// `Context` of the poll that is running it now. It lives at the bottom of the coroutine's
/// own stack, so it needs no allocation and is valid for as long as the body runs.
pub(crate) struct Frame {
    /// Suspends this coroutine back into [`RawCoroutine::resume`]. It lives on the coroutine's
    /// stack, below the frame, for as long as the frame.
    suspend_to: *const SuspendTo,
    /// The `Context` handed in by the poll that resumed this coroutine most recently.
    ///
    /// It is only valid until the coroutine suspends again: every resume overwrites it before
    /// the body runs, and nothing reads it after a suspend without that.
    cx: Cell<*mut Context<'static>>,
    /// Whether the thread was already panicking when this coroutine was last resumed (a
    /// destructor running during some panic may drive a new coroutine to completion). A
    /// panic that began since is unwinding this coroutine's own stack, and then it must not
    /// suspend: see [`Frame::unwinding`].
    ///
    /// Set by the first resume (in the trampoline), cleared by [`Frame::suspend`] just
    /// before every suspend, and set again by the next [`RawCoroutine::resume`] only if the
    /// thread is panicking then: outside a panic, a resume only reads the panic count and
    /// the body writes one constant as it suspends.
    panicking_at_resume: Cell<bool>,
    /// What [`Frame::suspend`] runs before this coroutine suspends for a pending future: the
    /// innermost `corona::scope` open on its stack, which drives its children then. Valid
    /// while installed: see [`Frame::replace_suspend_hook`].
    hook: Cell<Option<NonNull<dyn SuspendHook>>>,
}

/// The extension point of [`Frame::suspend`]: what runs on the coroutine's stack before it
/// suspends for a pending future. `corona::scope` drives its children here (`scope.rs`).
pub(crate) trait SuspendHook {
    /// Runs with the `Context` of the poll that runs the coroutine, which is marked lent
    /// meanwhile (nothing can suspend it). True to return from the suspend at once instead:
    /// a spurious wake-up, after which the waiting code re-polls its future.
    fn before_suspend(&self, cx: &mut Context<'_>) -> bool;
}

/// What [`current`] finds on this thread.
#[derive(Clone, Copy)]
pub(crate) enum Current {
    /// No coroutine runs on this thread right now.
    None,
    /// A suspended coroutine is being dropped and its stack unwound: there is no executor.
    Unwinding,
    /// The code runs inside the `Future::poll` of a future that `co_await!` drives (see
    /// [`Frame::wait`]): it must not suspend the coroutine. The caller of `poll` is not
    /// prepared to be frozen mid-poll, and would use its `Context` after a later resume
    /// replaced it.
    Lent,
    /// The frame of the coroutine that runs now, at the bottom of the current stack, free to
    /// suspend: no other coroutine runs on top of it and no driven poll is in between.
    Running(*const Frame),
}

/// Which coroutine runs on this thread now.
#[inline(always)]
pub(crate) fn current() -> Current {
    classify(context::get())
}

/// What a value of the thread-local means.
#[inline(always)]
fn classify(current: context::Current) -> Current {
    // One comparison on the hot path: every tag is below every real address.
    if current.addr() > context::LENT.addr() {
        Current::Running(current.cast())
    } else {
        classify_tag(current)
    }
}

#[cold]
#[inline(never)]
fn classify_tag(tag: context::Current) -> Current {
    match tag {
        context::NONE => Current::None,
        context::UNWINDING => Current::Unwinding,
        _ => Current::Lent,
    }
}

impl Frame {
    /// The frame's address, as the thread-local stores it.
    #[inline(always)]
    pub(crate) fn address(&self) -> context::Current {
        (self as *const Frame).cast()
    }

    /// Whether this coroutine's own stack is unwinding: a panic began after its last resume.
    /// It must not suspend then: nothing would finish the unwinding, and the thread's panic
    /// state would leak into the code the poller runs next.
    ///
    /// (A panic that was already in progress at the resume belongs to the code that polls
    /// this coroutine, and does not stop it from waiting. A coroutine resumed during a
    /// panic whose own body then panics too cannot be told apart, and may still suspend.)
    #[inline(always)]
    pub(crate) fn unwinding(&self) -> bool {
        std::thread::panicking() && !self.panicking_at_resume.get()
    }

    /// Polls `fut` with the `Context` of the poll that resumed this coroutine until it is
    /// ready, suspending the coroutine on every `Pending`. During each poll the thread is
    /// marked [`context::LENT`] ([`Current::Lent`]): code inside `Future::poll` finds no
    /// coroutine it may suspend.
    ///
    /// # Panics
    ///
    /// On `Pending` while this coroutine's own stack unwinds.
    ///
    /// # Safety
    ///
    /// `self` is the frame [`current`] returned on this thread just now: we run on its stack.
    #[inline(always)]
    #[track_caller]
    pub(crate) unsafe fn wait<F: Future>(&self, fut: F) -> F::Output {
        // SAFETY: forwarded from this function's contract.
        match unsafe { self.poll_until_ready::<F, false>(fut) } {
            Some(out) => out,
            None => unreachable!("corona: only try_wait gives up"),
        }
    }

    /// [`Frame::wait`], except that where it would have to suspend while this coroutine's
    /// stack unwinds it gives up and returns `None` instead of panicking.
    ///
    /// # Safety
    ///
    /// As [`Frame::wait`].
    #[inline(always)]
    #[track_caller]
    pub(crate) unsafe fn try_wait<F: Future>(&self, fut: F) -> Option<F::Output> {
        // SAFETY: forwarded from this function's contract.
        unsafe { self.poll_until_ready::<F, true>(fut) }
    }

    /// The loop of [`Frame::wait`]; with `GIVE_UP`, `None` where it would have to suspend
    /// while unwinding.
    ///
    /// # Safety
    ///
    /// As [`Frame::wait`].
    #[inline(always)]
    #[track_caller]
    unsafe fn poll_until_ready<F: Future, const GIVE_UP: bool>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        loop {
            let polled = {
                // SAFETY: `cx` was stored by the poll that resumed this coroutine, which is
                // still on the stack of the thread below us: we have not suspended since. It
                // is lent to this poll alone: until `_lent` is dropped, nothing can suspend
                // this coroutine or reach its `Context` (`current` says `Lent`).
                let cx = unsafe { &mut *self.cx.get() };
                let _lent = Lent::mark(self);
                fut.as_mut().poll(cx)
            };
            match polled {
                Poll::Ready(out) => return Some(out),
                Poll::Pending if GIVE_UP && self.unwinding() => return None,
                // SAFETY: forwarded from this function's contract; `_lent` is dropped, so the
                // thread-local names this frame again and no driven poll is in between.
                Poll::Pending => unsafe { self.suspend(Suspend::Pending) },
            }
        }
    }

    /// Suspends this coroutine back into the poll that resumed it, and returns once a later
    /// poll resumes it, with that poll's `Context` in place. Every suspend of every coroutine
    /// passes through here.
    ///
    /// # Panics
    ///
    /// For [`Suspend::Pending`], while this coroutine's own stack unwinds
    /// ([`Frame::unwinding`]).
    ///
    /// # Safety
    ///
    /// Must be called on this frame's own coroutine stack, i.e. `self` is the frame that
    /// [`current`] returned, with no `Future::poll` of `co_await!` in between. For
    /// [`Suspend::Yielded`], [`Frame::may_yield`] must have returned true just now (it also
    /// checks for unwinding, so this does not check again on the generator's hot path).
    #[inline(always)]
    #[track_caller]
    pub(crate) unsafe fn suspend(&self, why: Suspend) {
        // The hook (a `corona::scope` runs its ready children here) may cancel the suspend.
        // Also while this stack unwinds: scope children run on their own stacks, so a scope
        // in a destructor works as long as its children need not wait.
        if let (Suspend::Pending, Some(hook)) = (why, self.hook.get()) {
            // The hook runs wakers' code (a registered waker's drop, a joiner's wake) on this
            // stack while it holds `cx`: lent, so that code cannot suspend this coroutine and
            // leave the hook holding a `Context` a later poll has replaced.
            let _lent = Lent::mark(self);
            // SAFETY: an installed hook stays valid until it is replaced (the contract of
            // `replace_suspend_hook`), and we run on this frame's stack, so it was not. `cx`
            // is from the poll running this coroutine, which has not suspended since and
            // cannot until `_lent` is dropped.
            if unsafe { hook.as_ref().before_suspend(&mut *self.cx.get()) } {
                return;
            }
        }
        if why == Suspend::Pending && self.unwinding() {
            cannot_wait_while_unwinding();
        }
        // The resume that ends this suspend sets it again if the thread panics by then.
        self.panicking_at_resume.set(false);
        // SAFETY: the yielder lives on this stack, below the frame, for as long as the frame;
        // the caller guarantees we are running on that stack.
        unsafe { (*self.suspend_to).suspend(why) };
        // Resumed: the poll that resumed us already stored its `Context` and the panicking
        // flag in this frame and made it the thread's current coroutine (see
        // `RawCoroutine::resume`), so there is nothing left to do here: in particular no
        // thread-local access, which could otherwise reuse an address from before the switch.
    }

    /// The [`SuspendHook`] installed now, if any.
    pub(crate) fn suspend_hook(&self) -> Option<NonNull<dyn SuspendHook>> {
        self.hook.get()
    }

    /// Installs `hook` (or none) for [`Frame::suspend`] to run, and returns the one it
    /// replaces.
    ///
    /// # Safety
    ///
    /// `hook` must stay valid until a later call replaces it: whoever installs a hook puts
    /// the previous one back before the hook's referent goes away, also while unwinding (as
    /// `corona::scope`'s guard does). Putting back the hook this call returned is sound
    /// while whoever installed that one still keeps it valid.
    pub(crate) unsafe fn replace_suspend_hook(
        &self,
        hook: Option<NonNull<dyn SuspendHook>>,
    ) -> Option<NonNull<dyn SuspendHook>> {
        self.hook.replace(hook)
    }

    /// Whether `Yielder::yield_` may suspend this coroutine now, i.e. whether it is the
    /// running coroutine and in a state to suspend: the thread's current coroutine (so no
    /// coroutine runs on top of it and no `Future::poll` driven by `co_await!` is in
    /// between), and its own stack not unwinding.
    #[inline(always)]
    pub(crate) fn may_yield(&self) -> bool {
        context::get() == self.address() && !self.unwinding()
    }
}

/// Marks the thread [`context::LENT`] for one `Future::poll` of a future `co_await!` drives,
/// and makes `frame` the current coroutine again when dropped, even if the poll panics.
struct Lent<'a> {
    frame: &'a Frame,
}

impl<'a> Lent<'a> {
    #[inline(always)]
    fn mark(frame: &'a Frame) -> Self {
        context::set(context::LENT);
        Lent { frame }
    }
}

impl Drop for Lent<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        context::set(self.frame.address());
    }
}

/// What `co_await!` does where it finds [`Current::Lent`].
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn reentrant_await() -> ! {
    panic!(
        "corona: co_await! was called from inside the poll() of a future that co_await! is \
         driving. A Future::poll must not suspend its caller: return Poll::Pending from it, \
         or wrap the waiting code in its own corona::Coroutine and await that."
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn cannot_wait_while_unwinding() -> ! {
    panic!(
        "corona: co_await! found a pending future while this coroutine is unwinding \
         (it panicked), so nothing will ever resume it. Destructors that run during \
         unwinding cannot wait: do the asynchronous clean-up before the coroutine ends, or \
         spawn it as a task of its own; corona::try_await gives up with an error instead \
         of panicking."
    )
}

/// How many stacks this thread's coroutines hold right now: taken from the pool and not yet
/// given back. Tests read it (`corona::__private::stacks_out`) to check that cancellation
/// loses no stack.
pub(crate) mod stacks_out {
    use core::cell::Cell;

    thread_local! {
        static OUT: Cell<usize> = const { Cell::new(0) };
    }

    #[inline(always)]
    pub(super) fn taken() {
        OUT.with(|n| n.set(n.get().wrapping_add(1)));
    }

    #[inline(always)]
    pub(super) fn given() {
        OUT.with(|n| n.set(n.get().wrapping_sub(1)));
    }

    /// The current count on this thread.
    pub(crate) fn get() -> usize {
        OUT.with(Cell::get)
    }
}
