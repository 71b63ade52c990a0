//! The per-thread stack pool.
//!
//! A stack never changes thread while a coroutine runs on it, and a finished coroutine's
//! stack is handed back on the thread that dropped it. Keeping the pool thread-local makes
//! taking and giving a stack a `Vec` push or pop with no lock and no syscall.

use core::cell::RefCell;

use super::{normalize, Stack};

/// How many idle stacks one thread keeps. A burst beyond it frees the extra stacks.
pub const POOL_CAPACITY: usize = 64;

thread_local! {
    static POOL: RefCell<Vec<Stack>> = const { RefCell::new(Vec::new()) };
}

/// A stack of `size` bytes (at least), from the pool when one of that size is idle.
pub(crate) fn take(size: usize) -> Stack {
    let size = normalize(size);
    let reused = POOL
        .try_with(|pool| {
            let mut pool = pool.borrow_mut();
            let at = pool.iter().rposition(|s| s.size() == size)?;
            Some(pool.swap_remove(at))
        })
        .ok()
        .flatten();
    reused.unwrap_or_else(|| Stack::new(size))
}

/// Gives a stack back; it is freed when the pool is full or the thread is exiting.
pub(crate) fn give(stack: Stack) {
    let _ = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOL_CAPACITY {
            pool.push(stack);
        }
    });
}
