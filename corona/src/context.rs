//! The ambient "current coroutine": one thread-local cell, nothing more.
//!
//! `co_await!` may be called at any call depth, from plain sync functions that were never told
//! they run in a coroutine. It finds its way back through this thread-local, which holds the
//! address of the running coroutine's frame (the switch protocol's `raw::Frame`). This module
//! only stores that address; what it points to, and when it is set, is the switch protocol's
//! business (`raw.rs`), which is why the address is opaque here.
//!
//! Code that runs on a coroutine stack must never reuse a thread-local address (or value)
//! computed before a stack switch. Two implementations keep that promise:
//!
//! * **x86-64 Linux** (64-bit pointers): the cell is a thread-local variable of corona's own,
//!   defined and accessed in assembly ([`cell`]). Each access is one `fs`-relative `mov`
//!   inside an `asm!` block, which the compiler treats as having side effects: it can neither
//!   merge two of them nor move one across a call, so every access finds this thread's cell
//!   afresh, and can be inlined into `co_await!` (a ready future then costs the caller no
//!   call at all).
//! * **Elsewhere** (or with `RUSTFLAGS="--cfg corona_portable_context"`): a `thread_local!`
//!   read and written by [`get`] and [`set`], which are never inlined, so the address is
//!   computed inside a call made after the switch. Only the poller's [`Restore`] touches the
//!   cell directly: a resume returns on the thread that called it.

use core::ptr;

/// What the cell holds: [`NONE`], [`UNWINDING`], [`LENT`], or the address of the running
/// coroutine's frame.
pub(crate) type Current = *const ();

/// No coroutine runs on this thread right now.
pub(crate) const NONE: Current = ptr::null();

/// A suspended coroutine is being dropped on this thread and its stack unwound: there is no
/// executor behind the code that runs now. (The dangling address 1, which no frame on a real
/// stack can have.)
pub(crate) const UNWINDING: Current = ptr::dangling();

/// The running coroutine's `co_await!` has lent its `Context` to the `Future::poll` of the
/// future it drives, and that poll runs now: nothing may suspend the coroutine until it
/// returns. (The address 2, which no frame can have either; every tag is below every frame.)
pub(crate) const LENT: Current = ptr::without_provenance(2);

/// What runs on this thread now. Safe to call anywhere, also right after a stack switch.
#[inline(always)]
pub(crate) fn get() -> Current {
    cell::get()
}

/// Records what runs on this thread now. Safe to call anywhere, also right after a stack
/// switch.
#[inline(always)]
pub(crate) fn set(current: Current) {
    cell::set(current);
}

#[cfg(all(
    target_arch = "x86_64",
    target_pointer_width = "64",
    target_os = "linux",
    not(corona_portable_context)
))]
mod cell {
    //! The cell as an 8-byte thread-local of our own (`.tbss`, zero = [`NONE`](super::NONE)
    //! in every new thread), addressed with the initial-exec model: the linker turns it into
    //! a constant offset from `fs` in an executable, and it also works in a shared library
    //! (static TLS). Its symbol is hidden and named after [`ANCHOR`]'s mangled name, which
    //! is unique to this build of corona: two copies of corona in one program (two versions,
    //! or one version from two sources) get two cells.

    use super::Current;

    /// Never read: only its symbol name is used, to name the cell.
    static ANCHOR: u8 = 0;

    core::arch::global_asm!(
        ".pushsection .tbss,\"awT\",@nobits",
        ".p2align 3",
        ".globl {anchor}_current",
        ".hidden {anchor}_current",
        ".type {anchor}_current,@object",
        ".size {anchor}_current,8",
        "{anchor}_current:",
        ".zero 8",
        ".popsection",
        anchor = sym ANCHOR,
    );

    /// The cell's offset from the thread pointer (`fs`): the same in every thread, fixed once
    /// the program is loaded. Only the `fs`-relative access in [`get`] and [`set`] finds
    /// *this* thread's cell, so the compiler may compute the offset once and keep it (across
    /// a stack switch too): it is a constant, not a thread-local address.
    #[inline(always)]
    fn offset() -> usize {
        let offset: usize;
        // SAFETY: loads the offset the dynamic linker stored in the GOT before any code ran
        // (in an executable, the static linker turns the load into an immediate). That slot
        // never changes afterwards, so the asm is a pure function of nothing: `pure, nomem`.
        unsafe {
            core::arch::asm!(
                "mov {offset}, qword ptr [rip + {anchor}_current@GOTTPOFF]",
                offset = out(reg) offset,
                anchor = sym ANCHOR,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        offset
    }

    /// Reads this thread's cell.
    #[inline(always)]
    pub(super) fn get() -> Current {
        let current: usize;
        // SAFETY: reads the 8 bytes of this thread's own cell, which the `global_asm!` above
        // reserves in every thread's TLS block; nothing else writes them but `set`, on this
        // thread. Not `pure`: the compiler must execute every read where it is written, and
        // keep it in order with every `set` (both have side effects). `nomem`: no memory the
        // compiler knows of is read; the cell is only ever accessed through these two blocks.
        unsafe {
            core::arch::asm!(
                "mov {current}, qword ptr fs:[{offset}]",
                current = lateout(reg) current,
                offset = in(reg) offset(),
                options(nostack, preserves_flags, nomem),
            );
        }
        // The address `set` stored, with the provenance it exposed there.
        core::ptr::with_exposed_provenance(current)
    }

    /// Writes this thread's cell.
    #[inline(always)]
    pub(super) fn set(current: Current) {
        // SAFETY: writes the 8 bytes of this thread's own cell (see `get`); no Rust object
        // lives there, so no reference is invalidated, and `nomem` holds as for `get`. Only
        // the address goes in, as an integer: `get` turns it back into a pointer.
        unsafe {
            core::arch::asm!(
                "mov qword ptr fs:[{offset}], {current}",
                offset = in(reg) offset(),
                current = in(reg) current.expose_provenance(),
                options(nostack, preserves_flags, nomem),
            );
        }
    }

    /// The poller's side reads the cell the same way.
    pub(super) use get as get_here;
    /// The poller's side writes the cell the same way.
    pub(super) use set as set_here;
}

#[cfg(not(all(
    target_arch = "x86_64",
    target_pointer_width = "64",
    target_os = "linux",
    not(corona_portable_context)
)))]
mod cell {
    //! The cell as a `thread_local!`. The compiler may compute its address once and reuse it
    //! within a function, so code on a coroutine stack reaches it only through calls that are
    //! never inlined ([`get`], [`set`]).

    use super::{Current, NONE};
    use core::cell::Cell;

    thread_local! {
        static CURRENT: Cell<Current> = const { Cell::new(NONE) };
    }

    #[inline(never)]
    pub(super) fn get() -> Current {
        CURRENT.with(Cell::get)
    }

    #[inline(never)]
    pub(super) fn set(current: Current) {
        CURRENT.with(|c| c.set(current));
    }

    /// For the poller's side only: a resume returns on the thread that called it, so the
    /// address computed before it is still this thread's.
    #[inline(always)]
    pub(super) fn get_here() -> Current {
        CURRENT.with(Cell::get)
    }

    /// For the poller's side only, like [`get_here`].
    #[inline(always)]
    pub(super) fn set_here(current: Current) {
        CURRENT.with(|c| c.set(current));
    }
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
            previous: cell::get_here(),
        }
    }

    /// Remembers the current coroutine and records `next` as the current one until dropped:
    /// the caller is about to switch to `next`'s stack. (Poller side, like [`Restore::save`]:
    /// the write happens before the switch, in the resumer's own call, so the coroutine side
    /// needs no thread-local access when it is resumed.)
    #[inline(always)]
    pub(crate) fn save_and_set(next: Current) -> Self {
        let restore = Self::save();
        cell::set_here(next);
        restore
    }

    /// What is current now, read directly: for the resumer, after the resumed coroutine
    /// switched back to it (poller side).
    #[inline(always)]
    pub(crate) fn current(&self) -> Current {
        cell::get_here()
    }

    /// Remembers the current coroutine and marks this thread as unwinding a dropped coroutine
    /// ([`UNWINDING`]) until dropped.
    #[inline]
    pub(crate) fn save_and_mark_unwinding() -> Self {
        let restore = Self::save();
        cell::set_here(UNWINDING);
        restore
    }
}

impl Drop for Restore {
    /// Runs on the poller's side, after the resumed coroutine switched back to it, on the
    /// thread that saved: the cell is written directly, like [`Restore::save`] read it.
    #[inline]
    fn drop(&mut self) {
        cell::set_here(self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each thread has a cell of its own, empty when the thread starts, and a write is seen by
    /// the next read on the same thread only. (In spawned threads: with `--test-threads=1`
    /// the harness runs tests on one thread, and no test may leave a bogus frame behind.)
    #[test]
    fn each_thread_has_its_own_cell_starting_empty() {
        std::thread::spawn(|| {
            let fake: Current = ptr::without_provenance(0x1000);
            assert_eq!(get(), NONE);
            set(fake);
            assert_eq!(get(), fake);
            let other = std::thread::spawn(|| {
                let at_start = get();
                set(UNWINDING);
                (at_start == NONE, get() == UNWINDING)
            });
            assert_eq!(other.join().unwrap(), (true, true));
            assert_eq!(get(), fake, "another thread's write must not show here");
            {
                let _restore = Restore::save_and_set(UNWINDING);
                assert_eq!(get(), UNWINDING);
            }
            assert_eq!(get(), fake, "Restore puts the saved value back");
            set(NONE);
        })
        .join()
        .unwrap();
    }
}
