//! The one place that drives corosensei: a body on a pooled stack, resumed with a `Context`.
//!
//! [`RawCoroutine`] is what [`Coroutine`](crate::Coroutine) and
//! [`Generator`](crate::Generator) are built on. It knows nothing of futures beyond handing
//! each resume its poll's `Context`; the safe types above it decide what a suspend means.

use core::cell::Cell;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::task::Context;

use corosensei::CoroutineResult;

use crate::context::{self, Frame, Restore};
use crate::stack::{self, Stack};

/// The value a coroutine is resumed with: the `Context` of the poll that resumes it, its
/// lifetime erased. It is only dereferenced before the coroutine suspends again.
pub(crate) type Resume = *mut Context<'static>;

/// Why a coroutine body suspended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Suspend {
    /// It waits for a future that returned `Pending`; the waker has been registered.
    Pending,
    /// A generator body offers an item: a pointer to an `Option<T>` holding it, on the
    /// suspended coroutine's stack, valid until the coroutine is resumed. Only a generator's
    /// own `Yielder<T>` suspends with it, and only its `Generator<T>` resumes that coroutine.
    /// (`NonNull`, so that `Suspend` is one word and a resume's result stays in registers:
    /// a two-word `Suspend` cost ~4 ns per coroutine in `create + complete`.)
    Yielded(NonNull<()>),
}

/// corosensei's handle for suspending back to the resumer.
pub(crate) type SuspendTo = corosensei::Yielder<Resume, Suspend>;

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
}

impl<T> RawCoroutine<T> {
    /// A coroutine that will run `body` on a stack of at least `stack_size` bytes.
    pub(crate) fn new<F>(stack_size: usize, body: F) -> Self
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        // SAFETY: `body` and `T` are `'static`, so nothing they hold can dangle however long
        // the coroutine lives, even if it is leaked.
        unsafe { Self::new_unchecked(stack_size, body) }
    }

    /// [`RawCoroutine::new`] without the `'static` bounds.
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
        F: FnOnce() -> T,
    {
        let trampoline = move |yielder: &SuspendTo, cx: Resume| {
            // The frame sits at the bottom of the coroutine stack and outlives the body.
            let frame = Frame {
                yielder,
                cx: Cell::new(cx),
                driving: Cell::new(false),
                scope: Cell::new(None), // `corona::scope` hook: none open yet
            };
            context::set_current(&frame);
            body()
        };
        // SAFETY: forwarded from this function's contract.
        let inner = unsafe {
            corosensei::Coroutine::with_stack_unchecked(stack::pool::take(stack_size), trampoline)
        };
        RawCoroutine {
            inner: ManuallyDrop::new(inner),
        }
    }

    /// Runs the body until it suspends or finishes. A panic in the body resumes here.
    ///
    /// # Panics
    ///
    /// If the body already finished (returned or panicked).
    #[inline]
    pub(crate) fn resume(&mut self, cx: &mut Context<'_>) -> Step<T> {
        if self.inner.done() {
            polled_after_completion();
        }
        let _restore = Restore::save();
        let cx = (cx as *mut Context<'_>).cast::<Context<'static>>();
        match self.inner.resume(cx) {
            CoroutineResult::Yield(why) => Step::Suspended(why),
            CoroutineResult::Return(value) => Step::Done(value),
        }
    }

    /// Whether the body has started running.
    pub(crate) fn started(&self) -> bool {
        self.inner.started()
    }
}

#[cold]
#[inline(never)]
fn polled_after_completion() -> ! {
    panic!("corona: a coroutine was polled again after it completed (returned or panicked)")
}

impl<T> Drop for RawCoroutine<T> {
    fn drop(&mut self) {
        // SAFETY: `inner` is initialised and this is the only place that takes it.
        let mut inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        if !inner.done() {
            // Unwind the suspended body (or drop the captures of an unstarted one) with no
            // executor in reach: `co_await!` in a destructor reports it cannot wait.
            let _restore = Restore::save_and_mark_unwinding();
            inner.force_unwind();
        }
        stack::pool::give(inner.into_stack());
    }
}
