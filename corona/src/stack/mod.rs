//! Coroutine stacks: what one is, and the per-thread pool that reuses them.
//!
//! A fresh stack costs a few microseconds (`mmap`, a guard page, the first page fault); a
//! reused one about twenty nanoseconds. Every coroutine therefore takes its stack from
//! [`pool`] and gives it back when it finishes or is dropped.

pub(crate) mod pool;

use corosensei::stack::{DefaultStack, StackPointer};

/// Stack size when none is asked for: 256 KiB.
///
/// Enough for 128 levels of recursion with 1 KiB frames in a debug build (tested), and
/// for deep sync parsers. Only touched pages cost memory; the rest is address space.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack corona hands out, whatever was asked for.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// One coroutine stack with a guard page below it.
pub(crate) struct Stack {
    inner: DefaultStack,
    /// The usable size that was asked for (after rounding up to [`MIN_STACK_SIZE`]): the
    /// pool hands this stack out again only for the same size.
    size: usize,
}

impl Stack {
    /// Maps a fresh stack of `size` usable bytes.
    ///
    /// # Panics
    ///
    /// When the operating system refuses the memory.
    pub(crate) fn new(size: usize) -> Stack {
        match DefaultStack::new(size) {
            Ok(inner) => Stack { inner, size },
            Err(err) => panic!(
                "corona: could not allocate a coroutine stack of {size} bytes: {err} \
                 (too many live coroutines for vm.max_map_count, or out of memory)"
            ),
        }
    }

    /// The usable size this stack was made for.
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

/// Rounds a requested size to what corona hands out.
pub(crate) fn normalize(size: usize) -> usize {
    size.max(MIN_STACK_SIZE)
}

// SAFETY: forwards to `DefaultStack`, which keeps a guard page below `limit` and at least
// `size` usable bytes, the two things the trait asks for.
unsafe impl corosensei::stack::Stack for Stack {
    #[inline]
    fn base(&self) -> StackPointer {
        self.inner.base()
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        self.inner.limit()
    }
}
