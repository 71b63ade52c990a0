//! The ambient "current coroutine": one thread-local cell, nothing more.
//!
//! `co_await!` may be called at any call depth, from plain sync functions that were never told
//! they run in a coroutine. It finds its way back through this thread-local, which holds the
//! address of the running coroutine's frame (the switch protocol's `raw::Frame`). This module
//! only stores that address; what it points to, and when it is set, is the switch protocol's
//! business (`raw.rs`), which is why the address is opaque here.
//!
//! * Code that runs on a coroutine stack only reads and writes the cell through [`get`] and
//!   [`set`], which are never inlined, so no thread-local address computed before a stack
//!   switch is reused after it.
//! * Only the poller's [`Restore`] touches the cell directly: a resume returns on the thread
//!   that called it, so the address it uses is this thread's.

use core::cell::Cell;
use core::ptr;

/// What the cell holds: [`NONE`], [`UNWINDING`], or the address of the running coroutine's
/// frame.
pub(crate) type Current = *const ();

/// No coroutine runs on this thread right now.
pub(crate) const NONE: Current = ptr::null();

/// A suspended coroutine is being dropped on this thread and its stack unwound: there is no
/// executor behind the code that runs now. (The dangling address 1, which no frame on a real
/// stack can have.)
pub(crate) const UNWINDING: Current = ptr::dangling();

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(NONE) };
}

/// What runs on this thread now.
///
/// Never inlined: after a stack switch the compiler must not reuse a thread-local address or
/// value it computed before the switch.
#[inline(never)]
pub(crate) fn get() -> Current {
    CURRENT.with(Cell::get)
}

/// Records what runs on this thread now.
#[inline(never)]
pub(crate) fn set(current: Current) {
    CURRENT.with(|c| c.set(current));
}

/// Restores the previous "current coroutine" when dropped: on return, on suspend and while a
/// panic unwinds out of a resume.
pub(crate) struct Restore {
    previous: Current,
}

impl Restore {
    /// Remembers the current coroutine; the caller is about to resume another one.
    #[inline]
    pub(crate) fn save() -> Self {
        Restore {
            previous: CURRENT.with(Cell::get),
        }
    }

    /// Remembers the current coroutine and records `next` as the current one until dropped:
    /// the caller is about to switch to `next`'s stack. (Poller side, like [`Restore::save`]:
    /// the write happens before the switch, in the resumer's own call, so the coroutine side
    /// needs no thread-local access when it is resumed.)
    #[inline(always)]
    pub(crate) fn save_and_set(next: Current) -> Self {
        let restore = Self::save();
        CURRENT.with(|c| c.set(next));
        restore
    }

    /// What is current now, read directly: for the resumer, after the resumed coroutine
    /// switched back to it (poller side).
    #[inline(always)]
    pub(crate) fn current(&self) -> Current {
        CURRENT.with(Cell::get)
    }

    /// What was current before this resume: [`NONE`], [`UNWINDING`] or a frame's address.
    #[inline(always)]
    pub(crate) fn previous(&self) -> Current {
        self.previous
    }

    /// Remembers the current coroutine and marks this thread as unwinding a dropped coroutine
    /// ([`UNWINDING`]) until dropped.
    #[inline]
    pub(crate) fn save_and_mark_unwinding() -> Self {
        let restore = Self::save();
        CURRENT.with(|c| c.set(UNWINDING));
        restore
    }
}

impl Drop for Restore {
    /// Runs on the poller's side, after the resumed coroutine switched back to it: this
    /// thread's own `CURRENT` is written directly, like [`Restore::save`] read it. Only the
    /// coroutine side (after a suspend, on its own stack) goes through the non-inlined
    /// [`set`].
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}
