//! The errors a `Blocking` call returns besides the inner type's own: each is an
//! [`io::Error`] whose [`get_ref`](io::Error::get_ref) downcasts to a type a program can
//! match, [`NotInCoroutine`] or [`Unwinding`].

use std::fmt;
use std::io;

use crate::NotInCoroutine;

/// The error inside the [`io::Error`] a [`Blocking`](super::Blocking) call returns while its
/// coroutine unwinds (its body panicked, or it was dropped while suspended): nothing could
/// resume a wait then, so the call did no I/O. This is what a `BufWriter` flushing in its
/// destructor during that unwinding gets, instead of an abort. (A coroutine that merely runs
/// while some other panic unwinds the thread, started by a destructor, waits as usual.)
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use std::io::Write;
///
/// struct Check;
/// impl Drop for Check {
///     fn drop(&mut self) {
///         let err = corona::io::Blocking::new(Vec::<u8>::new()).write(b"x").unwrap_err();
///         assert!(err.get_ref().unwrap().is::<corona::io::Unwinding>());
///     }
/// }
///
/// let unwound = std::panic::catch_unwind(|| {
///     futures::executor::block_on(corona::Coroutine::new(|| {
///         let _check = Check;
///         panic!("on purpose");
///     }))
/// });
/// assert!(unwound.is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Unwinding;

impl fmt::Display for Unwinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "corona: a Blocking call was made while its coroutine unwinds (it panicked, or it \
             was dropped while suspended), when nothing could resume a wait, so it did no I/O. \
             Flush and shut down explicitly before the coroutine ends.",
        )
    }
}

impl std::error::Error for Unwinding {}

#[cold]
#[inline(never)]
pub(super) fn not_in_coroutine() -> io::Error {
    io::Error::other(NotInCoroutine)
}

#[cold]
#[inline(never)]
pub(super) fn unwinding() -> io::Error {
    io::Error::other(Unwinding)
}

#[cold]
#[inline(never)]
pub(super) fn interrupted() -> io::Error {
    // No message: a push loop sees this often, and a bare kind does not allocate.
    io::ErrorKind::WouldBlock.into()
}

#[cfg(feature = "tokio")]
#[cold]
#[inline(never)]
pub(super) fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "corona: the Blocking's timeout elapsed before the inner I/O was ready; the call \
         transferred nothing",
    )
}

/// A timeout was set, but there is no tokio runtime to run its timer.
#[cfg(feature = "tokio")]
#[cold]
#[inline(never)]
pub(super) fn no_timer() -> io::Error {
    io::Error::other(
        "corona: a Blocking with a read or write timeout was used outside a tokio runtime, \
         which its timer needs. Run it under corona::run or a tokio runtime with time \
         enabled, or remove the timeout.",
    )
}

/// `poll_fill_buf` was `Ready` and then `Pending` without a `consume` in between.
#[cold]
#[inline(never)]
pub(super) fn lost_buffer() -> io::Error {
    io::Error::other(
        "corona: Blocking::fill_buf: the inner AsyncBufRead returned Pending right after it \
         returned a non-empty buffer, with no consume in between; its buffered data should \
         still be there. Wrap the inner reader in a tokio::io::BufReader (or \
         futures::io::BufReader).",
    )
}
