//! The ambient "current coroutine".
//!
//! `co_await!` may be called at any call depth, from plain sync functions that were never told
//! they run in a coroutine. It finds its way back through a thread-local that names the
//! [`Frame`] of the coroutine running on this thread right now.
//!
//! * A coroutine's [`Frame`] lives at the bottom of its own stack, so it is valid for as long
//!   as the body runs and needs no allocation.
//! * [`Coroutine::poll`](crate::Coroutine) saves the thread-local before every resume and
//!   restores it when the coroutine suspends, returns or panics ([`Restore`]), so a coroutine
//!   can poll another coroutine and each sees its own frame.
//! * Code that runs on a coroutine stack only reads the thread-local through [`current`] and
//!   writes it through [`set_current`], which are never inlined, and no borrow of it is held
//!   across a stack switch. Only the poller's [`Restore`] touches it directly: a resume
//!   returns on the thread that called it, so the address it uses is this thread's.

use core::cell::Cell;
use core::ptr;
use core::task::Context;

use crate::raw::SuspendTo;

/// What a coroutine body needs in order to wait: its way back to the poller, and the
/// `Context` of the poll that is running it now.
pub(crate) struct Frame {
    /// Suspends this coroutine back into [`Coroutine::poll`](crate::Coroutine).
    ///
    /// Valid for as long as the frame: both live on the coroutine's stack.
    pub(crate) yielder: *const SuspendTo,
    /// The `Context` handed in by the poll that resumed this coroutine most recently.
    ///
    /// It is only valid until the coroutine suspends again: every resume overwrites it before
    /// the body runs, and nothing reads it after a suspend without that.
    pub(crate) cx: Cell<*mut Context<'static>>,
    /// True while `co_await!` is inside the `poll` of the future it drives. A `co_await!` that
    /// finds it set was called from that `poll` and must not suspend (the caller is not
    /// prepared to be frozen mid-poll), so it panics instead.
    pub(crate) driving: Cell<bool>,
    /// `corona::scope` hook: the innermost scope open on this coroutine's stack, whose
    /// children [`Frame::suspend`] runs before this coroutine suspends for a pending future.
    /// Set and restored by `scope` for exactly the duration of its call (see `scope.rs`).
    pub(crate) scope: Cell<Option<core::ptr::NonNull<dyn crate::scope::Drive>>>,
}

/// What [`current`] finds on this thread.
#[derive(Clone, Copy)]
pub(crate) enum Current {
    /// No coroutine runs on this thread right now.
    None,
    /// A suspended coroutine is being dropped and its stack unwound: there is no executor.
    Unwinding,
    /// The frame of the coroutine that runs now.
    Frame(*const Frame),
}

/// Tag stored in the thread-local for [`Current::Unwinding`]: the dangling address
/// `align_of::<Frame>()`, which no frame on a real stack can have.
const UNWINDING: *const Frame = ptr::dangling();

thread_local! {
    static CURRENT: Cell<*const Frame> = const { Cell::new(ptr::null()) };
}

/// Which coroutine runs on this thread now.
///
/// Never inlined: after a stack switch the compiler must not reuse a thread-local address or
/// value it computed before the switch.
#[inline(never)]
pub(crate) fn current() -> Current {
    let raw = CURRENT.with(Cell::get);
    if raw.is_null() {
        Current::None
    } else if raw == UNWINDING {
        Current::Unwinding
    } else {
        Current::Frame(raw)
    }
}

/// Makes `frame` the current coroutine of this thread.
#[inline(never)]
pub(crate) fn set_current(frame: *const Frame) {
    CURRENT.with(|c| c.set(frame));
}

/// Restores the previous "current coroutine" when dropped: on return, on suspend and while a
/// panic unwinds out of a resume.
pub(crate) struct Restore {
    previous: *const Frame,
}

impl Restore {
    /// Remembers the current coroutine; the caller is about to resume another one.
    #[inline]
    pub(crate) fn save() -> Self {
        Restore {
            previous: CURRENT.with(Cell::get),
        }
    }

    /// Remembers the current coroutine and marks this thread as unwinding a dropped coroutine,
    /// so that `co_await!` in its destructors reports that it cannot wait.
    #[inline]
    pub(crate) fn save_and_mark_unwinding() -> Self {
        let restore = Self::save();
        set_current(UNWINDING);
        restore
    }
}

impl Drop for Restore {
    /// Runs on the poller's side, after the resumed coroutine switched back to it: this
    /// thread's own `CURRENT` is written directly, like [`Restore::save`] read it. Only the
    /// coroutine side (after a suspend, on its own stack) goes through the non-inlined
    /// [`set_current`].
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

impl Frame {
    /// Suspends this coroutine back into the poll that resumed it, and returns once a later
    /// poll resumes it, with that poll's `Context` in place. Inside a `corona::scope` it may
    /// return at once for `Pending` (the caller re-polls, as after any wake-up).
    ///
    /// # Safety
    ///
    /// Must be called on this frame's own coroutine stack, i.e. `self` is the frame that
    /// [`current`] returned, with no `Future::poll` of `co_await!` in between.
    #[inline(always)]
    pub(crate) unsafe fn suspend(&self, why: crate::raw::Suspend) {
        if std::thread::panicking() {
            cannot_wait_while_unwinding();
        }
        // `corona::scope` hook: before waiting, run the scope's ready children; if one of them
        // finished, return at once (a spurious wake-up: the caller re-polls its future).
        if let (crate::raw::Suspend::Pending, Some(scope)) = (why, self.scope.get()) {
            // SAFETY: `scope` is this frame's hook, read just now on its own stack, and `cx`
            // is from the poll running this coroutine, which has not suspended since.
            if unsafe { crate::scope::drive_children(scope, self.cx.get()) } {
                return;
            }
        }
        // SAFETY: the yielder lives on this stack, below the frame, for as long as the frame;
        // the caller guarantees we are running on that stack.
        let cx = unsafe { (*self.yielder).suspend(why) };
        // The poll that resumed us restored its own "current" before switching here.
        self.cx.set(cx);
        set_current(self);
    }
}

#[cold]
#[inline(never)]
fn cannot_wait_while_unwinding() -> ! {
    panic!(
        "corona: co_await! found a pending future while this coroutine is unwinding \
         (it panicked, or it was dropped while suspended), so nothing will ever resume it. \
         Destructors that run during unwinding cannot wait: do the asynchronous clean-up \
         before the coroutine ends, or spawn it as a task of its own."
    )
}
