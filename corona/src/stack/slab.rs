//! The process-wide stack allocator: stacks carved out of large mappings (slabs).
//!
//! One `mmap` per stack would cost two memory mappings (guard + stack), and the kernel
//! allows 65,530 per process (`vm.max_map_count`): a server would die at ~32,750 live
//! coroutines. Instead stacks of one size are cut from a 64 MiB slab, each slot a guard
//! page followed by the stack. The guard is installed with `madvise(MADV_GUARD_INSTALL)`
//! (Linux 6.13 and later), which marks the page in the page tables and does not split the
//! mapping: a million 256 KiB stacks take about 4,000 mappings. A new slab's guards are
//! installed together, with `process_madvise` where the kernel accepts it (one syscall for
//! up to 1,024 guards), before any of its stacks is handed out.
//!
//! Where the kernel refuses the advice (`EINVAL` before 6.13), every stack gets a mapping
//! of its own with an `mprotect`ed guard page below it, as corosensei's `DefaultStack`
//! does; that caps live coroutines near 32,000 but never runs a stack without a guard.
//! Setting the environment variable `CORONA_STACK_GUARD=mprotect` before the first
//! coroutine forces this fallback (tests use it); so does running under valgrind, which
//! knows neither guard advice nor `pidfd_open`.
//!
//! Stacks are never unmapped. A stack released by a thread's pool (see `pool`) has its
//! memory returned with `MADV_DONTNEED` and its address kept here, idle, for the next
//! coroutine of the same size; the mapping and its guard stay, so the overflow handler's
//! registry never goes stale.

use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{linux, overflow, registry, sys, Stack};

/// Bytes reserved per slab (address space only: pages cost memory when touched).
const SLAB_BYTES: usize = 64 << 20;

/// How guard pages are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guards {
    /// Not decided yet (decided when the first stack is carved).
    Undecided,
    /// Slabs with `MADV_GUARD_INSTALL` guard pages.
    Slabs,
    /// One mapping per stack with an `mprotect`ed guard page.
    PerStack,
}

/// The stacks of one size.
struct Class {
    /// Usable bytes per stack (a multiple of the page size).
    size: usize,
    /// Released stacks, ready to hand out again (their memory was given back), as runs of
    /// neighbours: after a burst of a million this is a few thousand entries, not a million.
    idle: Vec<Run>,
    /// The uncarved slots of the current slab: `[next, end)`.
    next: usize,
    end: usize,
}

/// `count` idle stacks of one class whose tops are `top`, `top + slot`, ...
struct Run {
    top: usize,
    count: usize,
}

struct Allocator {
    guards: Guards,
    classes: Vec<Class>,
}

static ALLOCATOR: Mutex<Allocator> = Mutex::new(Allocator {
    guards: Guards::Undecided,
    classes: Vec::new(),
});

fn lock() -> MutexGuard<'static, Allocator> {
    // The only panic under the lock is the allocation-failure report, raised before
    // anything was changed: the state is consistent even if the lock was poisoned.
    ALLOCATOR.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `count` stacks of `size` usable bytes (a multiple of the page size): idle ones where
/// there are, else freshly carved slots. Their top pages are pre-faulted in one syscall
/// (every coroutine writes there first).
///
/// # Panics
///
/// When the operating system refuses the memory.
pub(crate) fn allocate_many(size: usize, count: usize) -> Vec<Stack> {
    overflow::prepare_thread();
    let mut stacks = Vec::with_capacity(count);
    {
        let mut alloc = lock();
        for _ in 0..count {
            stacks.push(allocate_locked(&mut alloc, size));
        }
    }
    let page = sys::page_size();
    let tops: Vec<usize> = stacks.iter().map(|s| s.top() - page).collect();
    sys::populate(&tops);
    stacks
}

/// One stack, as `allocate_many` describes.
fn allocate_locked(alloc: &mut Allocator, size: usize) -> Stack {
    if alloc.guards == Guards::Undecided {
        let forced = std::env::var_os("CORONA_STACK_GUARD").is_some_and(|v| v == "mprotect");
        alloc.guards = if forced || sys::under_valgrind() {
            Guards::PerStack
        } else {
            Guards::Slabs
        };
    }
    // A size whose slot does not fit the address space is refused before any state is
    // made for it (no arithmetic overflow, no empty size class).
    let Some(slot) = slot_len(size) else {
        allocation_failed(size, io::ErrorKind::OutOfMemory.into());
    };
    let at = match alloc.classes.iter().position(|c| c.size == size) {
        Some(at) => at,
        None => {
            alloc.classes.push(Class {
                size,
                idle: Vec::new(),
                next: 0,
                end: 0,
            });
            alloc.classes.len() - 1
        }
    };
    let idle = &mut alloc.classes[at].idle;
    if let Some(run) = idle.last_mut() {
        run.count -= 1;
        let top = run.top + run.count * slot;
        if run.count == 0 {
            idle.pop();
        }
        return Stack::new(top, size);
    }
    let top = carve(alloc, at).unwrap_or_else(|err| allocation_failed(size, err));
    linux::register_with_valgrind(top, size);
    Stack::new(top, size)
}

/// A slot's length (guard page included) for stacks of `size` usable bytes, if it fits
/// in the address space.
fn slot_len(size: usize) -> Option<usize> {
    size.checked_add(sys::page_size())
        .filter(|&slot| slot <= isize::MAX as usize)
}

/// The allocation-failure report. Raised with the allocator consistent: at most an empty
/// size class was added, and stacks already taken by the failing call are released as the
/// panic unwinds (after the lock was dropped).
#[cold]
#[inline(never)]
fn allocation_failed(size: usize, err: io::Error) -> ! {
    panic!(
        "corona: could not allocate a coroutine stack of {size} bytes: {err}; the \
         process is out of memory or of memory mappings (`sysctl vm.max_map_count`), or \
         the size is absurd: keep fewer coroutines alive or give them smaller stacks with \
         #[corona::coroutine(stack_size = ...)] or Builder::stack_size"
    )
}

/// A fresh slot for class `at`, its guard page installed; returns the stack's top.
fn carve(alloc: &mut Allocator, at: usize) -> io::Result<usize> {
    let page = sys::page_size();
    let size = alloc.classes[at].size;
    let slot = size + page;
    if alloc.guards == Guards::Slabs {
        let class = &mut alloc.classes[at];
        if class.next == class.end {
            let slots = (SLAB_BYTES / slot).max(1);
            let len = slots * slot;
            let start = sys::map(len)?;
            // Probe the kernel on the slab's first guard before anyone can use the slab.
            // SAFETY: `[start, start + len)` was just mapped by `sys::map` and is not yet
            // known to anyone (not registered, no stack handed out), so guarding pages of
            // it or unmapping it affects no live data.
            match unsafe { sys::install_guard(start) } {
                Ok(()) => {}
                Err(err) if err.raw_os_error() == Some(libc::EINVAL) => {
                    // SAFETY: as above.
                    unsafe { sys::unmap(start, len) };
                    alloc.guards = Guards::PerStack;
                    return carve(alloc, at);
                }
                Err(err) => {
                    // SAFETY: as above.
                    unsafe { sys::unmap(start, len) };
                    return Err(err);
                }
            }
            // The other slots' guards, in one go, before any of them is handed out.
            let rest: Vec<usize> = (1..slots).map(|i| start + i * slot).collect();
            // SAFETY: as above, each page of `rest` is a guard page of the new slab.
            if unsafe { sys::install_guards(&rest) }.is_err() {
                // Never a stack without a guard: `mprotect` them all (a guarded page stays
                // guarded).
                // SAFETY: as above.
                let protected = rest
                    .iter()
                    .try_for_each(|&guard| unsafe { sys::protect_guard(guard) });
                if let Err(err) = protected {
                    // SAFETY: as above.
                    unsafe { sys::unmap(start, len) };
                    return Err(err);
                }
            }
            registry::register(start, len, slot);
            class.next = start;
            class.end = start + len;
        }
        let start = class.next;
        class.next += slot;
        Ok(start + slot)
    } else {
        let start = sys::map(slot)?;
        // SAFETY: `[start, start + slot)` was just mapped and is known to no one yet: its
        // first page becomes the guard, or the whole mapping goes away.
        if let Err(err) = unsafe { sys::protect_guard(start) } {
            // SAFETY: as above.
            unsafe { sys::unmap(start, slot) };
            return Err(err);
        }
        registry::register(start, slot, slot);
        Ok(start + slot)
    }
}

/// Gives idle stacks back: their memory is returned to the kernel (`MADV_DONTNEED`, the
/// mapping stays) and their slots are kept for the next coroutines of the same size.
pub(crate) fn release(stacks: Vec<Stack>) {
    if stacks.is_empty() {
        return;
    }
    let ranges: Vec<(usize, usize, usize)> = stacks
        .into_iter()
        .map(|stack| {
            let (top, size) = (stack.top(), stack.size());
            core::mem::forget(stack);
            (top - size, top, size)
        })
        .collect();
    release_ranges(ranges);
}

/// Gives back the one stack of `size` bytes below `top`, as `release` does (for a `Stack`
/// dropped outside the pool).
pub(crate) fn release_slot(top: usize, size: usize) {
    release_ranges(vec![(top - size, top, size)]);
}

/// `release` for stacks given as `(bottom, top, size)`, each owned by the caller and idle.
fn release_ranges(mut ranges: Vec<(usize, usize, usize)>) {
    let page = sys::page_size();
    ranges.sort_unstable();
    let slabs = lock().guards == Guards::Slabs;
    // Neighbouring stacks of a slab are one guard page apart; `MADV_DONTNEED` keeps guard
    // markers, so one call covers a whole run of them.
    let mut run: Option<(usize, usize)> = None;
    for &(bottom, top, _) in &ranges {
        run = match run {
            Some((start, end)) if slabs && bottom == end + page => Some((start, top)),
            Some((start, end)) => {
                // SAFETY: `[start, end)` covers idle stacks the caller gave up (and the
                // guard pages between neighbours, which `MADV_DONTNEED` leaves guarded).
                unsafe { sys::release(start, end - start) };
                Some((bottom, top))
            }
            None => Some((bottom, top)),
        };
    }
    if let Some((start, end)) = run {
        // SAFETY: as above.
        unsafe { sys::release(start, end - start) };
    }
    let mut alloc = lock();
    for (_, top, size) in ranges {
        let slot = size + page;
        if let Some(class) = alloc.classes.iter_mut().find(|c| c.size == size) {
            match class.idle.last_mut() {
                Some(run) if run.top + run.count * slot == top => run.count += 1,
                _ => class.idle.push(Run { top, count: 1 }),
            }
        }
    }
}
