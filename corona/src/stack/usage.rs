//! How much of the current coroutine's stack is used: a debug aid for sizing stacks.

use core::fmt;
use core::ops::Range;

use super::backend;

/// How much of the current coroutine's stack is in use, from [`stack_usage`].
///
/// Use it to size stacks from data: run the deepest path of a coroutine, then look at
/// [`touched`](StackUsage::touched) and give the coroutine that (plus a margin) with
/// `#[corona::coroutine(stack_size = ...)]` or [`Builder::stack_size`](crate::Builder::stack_size).
///
/// # Examples
///
/// ```
/// fn deep(n: u32) -> u32 {
///     let frame = std::hint::black_box([n as u8; 512]);
///     if n == 0 { 0 } else { deep(n - 1) + u32::from(frame[0] > 0) }
/// }
///
/// # futures::executor::block_on(async {
/// let usage = corona::Coroutine::new(|| {
///     deep(40);
///     corona::stack_usage().expect("inside a coroutine")
/// })
/// .await;
/// assert!(usage.touched() >= 40 * 512, "{usage:?}");
/// assert!(usage.touched() <= usage.size());
/// # });
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StackUsage {
    range: Range<usize>,
    used: usize,
    touched: usize,
}

impl StackUsage {
    /// The usable size of the stack in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let c = corona::Builder::new()
    ///     .stack_size(64 * 1024)
    ///     .build(|| corona::stack_usage().unwrap().size());
    /// assert_eq!(c.await, 64 * 1024);
    /// # });
    /// ```
    pub fn size(&self) -> usize {
        self.range.end - self.range.start
    }

    /// Bytes in use now: from the top of the stack down to the frame that called
    /// [`stack_usage`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let used = corona::Coroutine::new(|| corona::stack_usage().unwrap().used()).await;
    /// assert!(used > 0 && used < 16 * 1024);
    /// # });
    /// ```
    pub fn used(&self) -> usize {
        self.used
    }

    /// The high-water mark: bytes of the stack that were ever written (whole pages, as
    /// the kernel counts them), so this is also the memory the stack costs.
    ///
    /// A stack reused from the per-thread pool keeps the pages of the coroutines that ran
    /// on it before, so this is the deepest any of them went: an upper bound for the
    /// current one. For an exact figure, measure with
    /// [`set_stack_pool_limit(0)`](crate::set_stack_pool_limit) (every stack then starts
    /// with no pages).
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let touched = corona::Coroutine::new(|| corona::stack_usage().unwrap().touched()).await;
    /// assert!(touched >= 4096);
    /// # });
    /// ```
    pub fn touched(&self) -> usize {
        self.touched
    }

    /// The addresses of the usable stack. The guard page is the page just below
    /// `range().start`: touching it is a stack overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (range, size) = corona::Coroutine::new(|| {
    ///     let usage = corona::stack_usage().unwrap();
    ///     (usage.range(), usage.size())
    /// })
    /// .await;
    /// assert_eq!(range.end - range.start, size);
    /// # });
    /// ```
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }
}

/// Sizes, not addresses: `StackUsage { size: 262144, used: 1200, touched: 4096 }`.
impl fmt::Debug for StackUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackUsage")
            .field("size", &self.size())
            .field("used", &self.used)
            .field("touched", &self.touched)
            .finish()
    }
}

/// How much of the current coroutine's stack is in use; `None` outside a coroutine.
///
/// A debug aid (it makes a `mincore` syscall): see [`StackUsage`].
///
/// # Examples
///
/// ```
/// assert!(corona::stack_usage().is_none()); // the thread's own stack
///
/// # futures::executor::block_on(async {
/// let usage = corona::Coroutine::new(|| corona::stack_usage()).await.unwrap();
/// assert_eq!(usage.size(), corona::DEFAULT_STACK_SIZE);
/// # });
/// ```
#[inline(never)]
pub fn stack_usage() -> Option<StackUsage> {
    let here = stack_pointer();
    let range = backend::stack_containing(here)?;
    Some(StackUsage {
        used: range.end - here,
        touched: backend::touched(range.clone()),
        range,
    })
}

/// Where the calling frame's stack is now: the stack pointer itself, not the address of a
/// local, which AddressSanitizer's fake stacks (`detect_stack_use_after_return`) move to the
/// heap.
#[inline(always)]
fn stack_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: reads a register; touches no memory.
        unsafe {
            core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        sp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let sp: usize;
        // SAFETY: reads a register; touches no memory.
        unsafe {
            core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        sp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let marker = core::hint::black_box(0u8);
        core::ptr::addr_of!(marker) as usize
    }
}
