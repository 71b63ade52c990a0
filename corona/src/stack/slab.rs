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
//! Slabs are never unmapped. A slab stack released by a thread's pool (see `pool`) has its
//! memory returned with `MADV_DONTNEED` and its address kept here, idle, for the next
//! coroutine of the same size; the mapping and its guard stay. A stack with a mapping of
//! its own (the fallback) is unmapped when released instead: kept, each would hold two of
//! the kernel's mappings for good, and after a burst the process could not map anything
//! more. Either way a stack is released only after its coroutine was dropped (see `pool`),
//! and the overflow handler's registry names every stack mapping while it is mapped, and
//! only then.
//!
//! A call that fails leaves nothing behind: the mappings it made are unmapped and the idle
//! stacks it took are idle again. A thread's pool asks for stacks a few at a time (see
//! `pool::REFILL_BYTES`), so a call maps at most one new slab, and a stack of 32 MiB or
//! more is carved alone, in a slab of its own.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};

use corosensei::stack::valgrind::ValgrindStackRegistration;

use super::{linux, overflow, registry, sys, Stack};

/// Bytes reserved per slab (address space only: pages cost memory when touched).
const SLAB_BYTES: usize = 64 << 20;

// A pool's refill then takes at most a slab's slots: it maps at most one new slab.
const _: () = assert!(super::pool::REFILL_BYTES <= SLAB_BYTES);

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
    /// The stacks that are a mapping of their own (`Guards::PerStack`), by top, with their
    /// valgrind registration: they are unmapped when released, and withdrawn from valgrind
    /// then.
    own: BTreeMap<usize, ValgrindStackRegistration>,
}

static ALLOCATOR: Mutex<Allocator> = Mutex::new(Allocator {
    guards: Guards::Undecided,
    classes: Vec::new(),
    own: BTreeMap::new(),
});

fn lock() -> MutexGuard<'static, Allocator> {
    // Nothing panics under the lock (failures are reported after it was dropped): the
    // state is consistent even if the lock was poisoned.
    ALLOCATOR.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a stack could not be made.
#[derive(Debug)]
enum Refused {
    /// The operating system refused the memory or a mapping, or the size does not fit the
    /// address space.
    Os(io::Error),
    /// Every entry of the overflow handler's registry is in use.
    Registry,
}

impl From<io::Error> for Refused {
    fn from(err: io::Error) -> Self {
        Refused::Os(err)
    }
}

/// Up to `count` stacks of `size` usable bytes (a multiple of the page size): idle ones
/// where there are, else freshly carved slots. When not all `count` can be made (the
/// memory or the mappings left are short), one is enough: what the caller needs now, the
/// rest being stock. Their top pages are pre-faulted in one syscall (every coroutine writes
/// there first).
///
/// # Panics
///
/// When not even one stack can be made. A failed attempt leaves nothing behind: the
/// mappings it made are unmapped, the idle stacks it took are idle again.
pub(crate) fn allocate_many(size: usize, count: usize) -> Vec<Stack> {
    overflow::prepare_thread();
    let tops = match try_allocate_many(size, count) {
        Ok(tops) => tops,
        Err(_) if count > 1 => {
            try_allocate_many(size, 1).unwrap_or_else(|refused| allocation_failed(size, refused))
        }
        Err(refused) => allocation_failed(size, refused),
    };
    let page = sys::page_size();
    let firsts: Vec<usize> = tops.iter().map(|&top| top - page).collect();
    sys::populate(&firsts);
    tops.into_iter().map(|top| Stack::new(top, size)).collect()
}

/// The tops of `count` stacks of `size` bytes, all or none: a call that fails leaves
/// nothing behind.
fn try_allocate_many(size: usize, count: usize) -> Result<Vec<usize>, Refused> {
    let mut tops = Vec::with_capacity(count);
    let failed = {
        let mut alloc = lock();
        let existed = alloc.classes.iter().any(|c| c.size == size);
        // The mappings made by this call, `(start, len)`, to give back if it fails.
        let mut fresh = Vec::new();
        let mut failed = None;
        for _ in 0..count {
            match allocate_locked(&mut alloc, size, &mut fresh) {
                Ok(top) => tops.push(top),
                Err(refused) => {
                    failed = Some(refused);
                    break;
                }
            }
        }
        failed.map(|refused| {
            give_back_locked(&mut alloc, size, existed, &tops, &fresh);
            (refused, fresh)
        })
    };
    match failed {
        None => Ok(tops),
        Some((refused, fresh)) => {
            for (start, len) in fresh {
                // SAFETY: `[start, start + len)` was mapped by this call, which handed none
                // of its stacks out, and was removed from the registry and the size class.
                unsafe { sys::unmap(start, len) };
            }
            Err(refused)
        }
    }
}

/// One stack, as `allocate_many` describes; returns its top. A mapping it makes is added
/// to `fresh`.
fn allocate_locked(
    alloc: &mut Allocator,
    size: usize,
    fresh: &mut Vec<(usize, usize)>,
) -> Result<usize, Refused> {
    if alloc.guards == Guards::Undecided {
        let forced = std::env::var_os("CORONA_STACK_GUARD").is_some_and(|v| v == "mprotect");
        alloc.guards = if forced || sys::under_valgrind() {
            Guards::PerStack
        } else {
            Guards::Slabs
        };
    }
    // A size whose slot does not fit the address space is refused before any state is
    // made for it (no arithmetic overflow, no size class).
    let slot = slot_len(size).ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
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
        return Ok(top);
    }
    let top = carve(alloc, at, fresh)?;
    let registration = linux::register_with_valgrind(top, size);
    if alloc.guards == Guards::PerStack {
        alloc.own.insert(top, registration);
    } else {
        // Slab slots are never unmapped, so their registration is never withdrawn.
        core::mem::forget(registration);
    }
    Ok(top)
}

/// Undoes a failed `allocate_many` that took the stacks `tops` of `size` bytes and made
/// the mappings `fresh`, handing none out (`existed`: the size had a class before the
/// call). Stacks of a fresh mapping go with it, the others are idle again (untouched: no
/// page was pre-faulted yet). The caller unmaps `fresh` once the lock is dropped.
fn give_back_locked(
    alloc: &mut Allocator,
    size: usize,
    existed: bool,
    tops: &[usize],
    fresh: &[(usize, usize)],
) {
    let page = sys::page_size();
    let in_fresh = |addr: usize| {
        fresh
            .iter()
            .any(|&(start, len)| (start..start + len).contains(&addr))
    };
    for &(start, _) in fresh {
        registry::unregister(start);
    }
    let Some(at) = alloc.classes.iter().position(|c| c.size == size) else {
        return;
    };
    for &top in tops.iter().rev() {
        if in_fresh(top - page) {
            alloc.own.remove(&top);
        } else {
            push_idle(&mut alloc.classes[at], top, size + page);
        }
    }
    let class = &mut alloc.classes[at];
    if class.next < class.end && in_fresh(class.next) {
        class.next = 0;
        class.end = 0;
    }
    // A class this call made holds nothing now (all its stacks were in fresh mappings):
    // a refused size leaves no class behind.
    if !existed {
        alloc.classes.swap_remove(at);
    }
}

/// Adds the stack of class `class` whose top is `top` to the class's idle stacks.
fn push_idle(class: &mut Class, top: usize, slot: usize) {
    match class.idle.last_mut() {
        Some(run) if run.top + run.count * slot == top => run.count += 1,
        _ => class.idle.push(Run { top, count: 1 }),
    }
}

/// A slot's length (guard page included) for stacks of `size` usable bytes, if it fits
/// in the address space.
fn slot_len(size: usize) -> Option<usize> {
    size.checked_add(sys::page_size())
        .filter(|&slot| slot <= isize::MAX as usize)
}

/// The allocation-failure report, raised with the allocator consistent and unlocked.
#[cold]
#[inline(never)]
fn allocation_failed(size: usize, refused: Refused) -> ! {
    match refused {
        Refused::Os(err) => panic!(
            "corona: could not allocate a coroutine stack of {size} bytes: {err}; the \
             process is out of memory or of memory mappings (`sysctl vm.max_map_count`), \
             or the size is absurd: keep fewer coroutines alive or give them smaller stacks \
             with #[corona::coroutine(stack_size = ...)] or Builder::stack_size"
        ),
        Refused::Registry => panic!(
            "corona: could not allocate a coroutine stack of {size} bytes: the {} stack \
             mappings corona can track are all in use (each stack size is carved from \
             mappings of its own, kept for reuse; a stack of 32 MiB or more is one mapping): \
             use fewer distinct stack sizes with #[corona::coroutine(stack_size = ...)] or \
             Builder::stack_size, or keep fewer coroutines with large stacks alive",
            registry::capacity()
        ),
    }
}

/// A fresh slot for class `at`, its guard page installed; returns the stack's top. A
/// mapping it makes is added to `fresh`.
fn carve(
    alloc: &mut Allocator,
    at: usize,
    fresh: &mut Vec<(usize, usize)>,
) -> Result<usize, Refused> {
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
                    return carve(alloc, at, fresh);
                }
                Err(err) => {
                    // SAFETY: as above.
                    unsafe { sys::unmap(start, len) };
                    return Err(err.into());
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
                    return Err(err.into());
                }
            }
            if registry::register(start, len, slot).is_err() {
                // SAFETY: as above (the registry refused it: still known to no one).
                unsafe { sys::unmap(start, len) };
                return Err(Refused::Registry);
            }
            fresh.push((start, len));
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
            return Err(err.into());
        }
        if registry::register(start, slot, slot).is_err() {
            // SAFETY: as above.
            unsafe { sys::unmap(start, slot) };
            return Err(Refused::Registry);
        }
        fresh.push((start, slot));
        Ok(start + slot)
    }
}

/// Gives idle stacks back. A stack that is a mapping of its own is unmapped; a slab's has
/// its memory returned to the kernel (`MADV_DONTNEED`, the mapping stays) and its slot
/// kept for the next coroutine of the same size.
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
    let slabs = {
        let mut alloc = lock();
        if alloc.guards == Guards::PerStack {
            // Out of the bookkeeping first, so that the registry never names an unmapped
            // range; a stack carved from a slab before the fallback was chosen stays.
            let mut own = Vec::new();
            ranges.retain(|&(bottom, top, _)| match alloc.own.remove(&top) {
                Some(registration) => {
                    drop(registration);
                    registry::unregister(bottom - page);
                    own.push((bottom - page, top));
                    false
                }
                None => true,
            });
            drop(alloc);
            for (start, end) in own {
                // SAFETY: `[start, end)` is the whole mapping of one stack (its guard page
                // and the stack), which the caller gave up: its coroutine was dropped, and
                // it is no longer registered anywhere.
                unsafe { sys::unmap(start, end - start) };
            }
            false
        } else {
            true
        }
    };
    if ranges.is_empty() {
        return;
    }
    ranges.sort_unstable();
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
        if let Some(class) = alloc.classes.iter_mut().find(|c| c.size == size) {
            push_idle(class, top, size + page);
        }
    }
}
