//! [`Interrupt`]: a flag that makes waiting [`Blocking`](super::Blocking) calls return
//! `WouldBlock`, so that one coroutine can both read and send.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

/// Wakes a coroutine blocked in a [`Blocking`](super::Blocking) call so that it can do
/// something else: while the interrupt is raised, every call of a `Blocking` it is attached
/// to (with [`set_interrupt`](super::Blocking::set_interrupt)) that would wait returns
/// [`io::ErrorKind::WouldBlock`](std::io::ErrorKind::WouldBlock) at once.
///
/// This is full duplex on one coroutine: a WebSocket or chat connection blocked in `read`
/// gets a message to push, the pusher raises the interrupt, the read returns `WouldBlock`,
/// and the owner of the connection clears the interrupt, sends what is queued and reads
/// again. The interrupt stays raised until the owner [`clear`](Interrupt::clear)s it, so a
/// protocol library that swallows one `WouldBlock` (tungstenite's `read` flushes pending
/// output first and ignores the `WouldBlock` of that flush) still returns on its next wait.
/// See [the io guide](super#interrupts-full-duplex-on-one-coroutine) for the loop.
///
/// * A call that can make progress without waiting is not affected: data already there is
///   read, a write the socket accepts is written.
/// * No data is lost by the call that returns `WouldBlock`: it transferred nothing.
/// * One interrupt may be attached to several `Blocking`s: raising it wakes every one that
///   waits.
/// * `Clone + Send + Sync`: clones share the flag, so it can be raised from another
///   coroutine or another thread.
///
/// # Examples
///
#[cfg_attr(feature = "tokio", doc = "```")]
#[cfg_attr(not(feature = "tokio"), doc = "```ignore")]
/// use std::io::{ErrorKind, Read};
/// use corona::io::{Blocking, Interrupt};
///
/// corona::run(|| {
///     let (_client, server) = tokio::io::duplex(64); // the client never writes
///     let interrupt = Interrupt::new();
///     let mut conn = Blocking::new(server);
///     conn.set_interrupt(Some(interrupt.clone()));
///
///     let pusher = interrupt.clone();
///     corona::spawn_local(move || pusher.interrupt()); // "there is something to send"
///
///     let err = conn.read(&mut [0; 16]).unwrap_err(); // waits until the interrupt
///     assert_eq!(err.kind(), ErrorKind::WouldBlock);
///     assert!(interrupt.clear()); // it was raised; lowered now
/// });
/// ```
#[derive(Clone, Default)]
pub struct Interrupt {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Written by `interrupt` before it takes the `waiters` lock, read by waiting calls under
    /// that lock: either a waiter sees it raised, or `interrupt` sees (and wakes) the waiter.
    raised: AtomicBool,
    waiters: Mutex<Waiters>,
}

/// The wakers of the calls waiting now, each under the key of its [`Registration`].
#[derive(Default)]
struct Waiters {
    next_key: u64,
    wakers: Vec<(u64, Waker)>,
}

impl Interrupt {
    /// A new interrupt, not raised.
    ///
    /// # Examples
    ///
    /// ```
    /// let interrupt = corona::io::Interrupt::new();
    /// assert!(!interrupt.is_raised());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the interrupt and wakes every call waiting on a `Blocking` it is attached to.
    /// It stays raised until [`clear`](Interrupt::clear).
    ///
    /// # Panics
    ///
    /// If a waiting call's waker panics as it is woken; every other waiting call is woken
    /// first.
    ///
    /// # Examples
    ///
    /// ```
    /// let interrupt = corona::io::Interrupt::new();
    /// interrupt.interrupt();
    /// interrupt.interrupt(); // raising it twice is the same as once
    /// assert!(interrupt.clear());
    /// assert!(!interrupt.clear());
    /// ```
    pub fn interrupt(&self) {
        self.shared.raised.store(true, Ordering::Release);
        // Every waiter is woken once and removed; one that waits again registers again.
        // Woken outside the lock: a waker may run arbitrary code.
        let woken = std::mem::take(&mut self.shared.waiters().wakers);
        // A waker that panics must not cost the others their wake-up (they are off the list:
        // their calls would wait on with the interrupt raised): all are woken, then the
        // first panic resumes.
        let mut panicked = None;
        for (_, waker) in woken {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| waker.wake())) {
                panicked.get_or_insert(payload);
            }
        }
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
    }

    /// Lowers the interrupt; returns whether it was raised. Calls wait normally again.
    ///
    /// # Examples
    ///
    /// ```
    /// let interrupt = corona::io::Interrupt::new();
    /// assert!(!interrupt.clear());
    /// interrupt.interrupt();
    /// assert!(interrupt.clear());
    /// assert!(!interrupt.is_raised());
    /// ```
    pub fn clear(&self) -> bool {
        self.shared.raised.swap(false, Ordering::AcqRel)
    }

    /// Whether the interrupt is raised now.
    ///
    /// # Examples
    ///
    /// ```
    /// let interrupt = corona::io::Interrupt::new();
    /// interrupt.clone().interrupt(); // clones share the flag
    /// assert!(interrupt.is_raised());
    /// ```
    pub fn is_raised(&self) -> bool {
        self.shared.raised.load(Ordering::Acquire)
    }

    /// Starts a wait that this interrupt can cut short.
    pub(super) fn register(&self) -> Registration<'_> {
        Registration {
            shared: &self.shared,
            key: None,
        }
    }
}

impl fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interrupt")
            .field("raised", &self.is_raised())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        // The lock is only held to edit the list, which no panic leaves half-edited.
        self.waiters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One waiting call's place among the interrupt's waiters; removed when dropped (when the
/// call returns, or its coroutine is dropped while it waits).
pub(super) struct Registration<'a> {
    shared: &'a Shared,
    key: Option<u64>,
}

impl Registration<'_> {
    /// The call is about to wait: true if the interrupt is raised (the call must return
    /// `WouldBlock`), else `waker` is woken when it is raised.
    ///
    /// A waker is cloned, and the one it replaces dropped, with the list unlocked: a waker's
    /// code may use this interrupt (raise it, or wait on it), and would deadlock on the lock.
    pub(super) fn raised_or_register(&mut self, waker: &Waker) -> bool {
        let key = {
            let mut waiters = self.shared.waiters();
            if self.shared.raised.load(Ordering::Acquire) {
                return true;
            }
            let key = *self.key.get_or_insert_with(|| {
                waiters.next_key += 1;
                waiters.next_key - 1
            });
            if waiters.slot(key).is_some_and(|w| w.will_wake(waker)) {
                return false; // registered already
            }
            key
        };
        let fresh = waker.clone();
        let replaced = {
            let mut waiters = self.shared.waiters();
            // Raised since the check above: its wakes went out, this call returns at once.
            if self.shared.raised.load(Ordering::Acquire) {
                return true;
            }
            match waiters.slot(key) {
                Some(registered) => Some(core::mem::replace(registered, fresh)),
                None => {
                    waiters.wakers.push((key, fresh));
                    None
                }
            }
        };
        drop(replaced);
        false
    }
}

impl Waiters {
    fn slot(&mut self, key: u64) -> Option<&mut Waker> {
        let slot = self.wakers.iter_mut().find(|(k, _)| *k == key);
        slot.map(|(_, waker)| waker)
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let removed = {
                let mut waiters = self.shared.waiters();
                let at = waiters.wakers.iter().position(|(k, _)| *k == key);
                at.map(|at| waiters.wakers.swap_remove(at))
            };
            // Outside the lock: see `raised_or_register`.
            drop(removed);
        }
    }
}
