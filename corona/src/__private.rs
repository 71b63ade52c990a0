//! What the macros expand to. Not public API: it may change in any release.

pub use crate::coroutine::{Builder, Coroutine};
#[cfg(feature = "tokio")]
pub use crate::runtime::run;
pub use crate::stack::DEFAULT_STACK_SIZE;

/// `#[corona::coroutine]` and `#[corona::coroutine(stack_size = N)]` call this.
#[inline]
pub fn coroutine<F, T>(stack_size: usize, body: F) -> Coroutine<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    Builder::new().stack_size(stack_size).build(body)
}

/// How many coroutine stacks this thread's coroutines hold right now: taken from the stack
/// pool and not yet given back. Tests use it to check that cancellation loses no stack.
pub fn stacks_in_use() -> usize {
    crate::raw::stacks_out::get()
}
