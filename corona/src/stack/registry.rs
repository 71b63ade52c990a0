//! Where corona's stacks are, readable from a signal handler.
//!
//! The overflow handler must decide whether a faulting address is a corona guard page
//! without locking or allocating. Every stack mapping (a slab of equal slots, or one
//! fallback stack) is appended here once, under the allocator's lock, and never removed:
//! stack memory is released with `MADV_DONTNEED` but stays mapped. Readers load `len`
//! with `Acquire` after the writer published it with `Release`, so they never see a
//! half-written region.

use core::sync::atomic::{AtomicUsize, Ordering};

/// More regions than the kernel allows mappings (`vm.max_map_count` is 65,530 by default).
const CAPACITY: usize = 1 << 16;

/// A mapping cut into `len / slot` slots, each a guard page followed by a stack.
struct Region {
    start: AtomicUsize,
    /// Written last, with `Release`: a region whose `len` reads non-zero is complete.
    len: AtomicUsize,
    slot: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)] // only used to initialise `REGIONS`
const EMPTY: Region = Region {
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    slot: AtomicUsize::new(0),
};

static REGIONS: [Region; CAPACITY] = [EMPTY; CAPACITY];
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// Records a mapping of `len` bytes at `start`, cut into slots of `slot` bytes.
///
/// Callers hold the allocator lock, so there is one writer at a time.
///
/// # Panics
///
/// When more than 65,536 mappings were registered (the kernel refuses far fewer).
pub(crate) fn register(start: usize, len: usize, slot: usize) {
    let at = COUNT.load(Ordering::Relaxed);
    assert!(
        at < CAPACITY,
        "corona: more than {CAPACITY} stack mappings; use fewer live coroutines"
    );
    REGIONS[at].start.store(start, Ordering::Relaxed);
    REGIONS[at].slot.store(slot, Ordering::Relaxed);
    REGIONS[at].len.store(len, Ordering::Release);
    COUNT.store(at + 1, Ordering::Release);
}

/// A slot found by address: where it starts and its length (guard page included).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub(crate) start: usize,
    pub(crate) len: usize,
}

/// The stack slot containing `addr`, if any. Async-signal-safe: atomic loads only.
pub(crate) fn slot_of(addr: usize) -> Option<Slot> {
    let count = COUNT.load(Ordering::Acquire).min(CAPACITY);
    for region in &REGIONS[..count] {
        let len = region.len.load(Ordering::Acquire);
        let start = region.start.load(Ordering::Relaxed);
        let slot = region.slot.load(Ordering::Relaxed);
        if slot != 0 && addr >= start && addr - start < len {
            let index = (addr - start) / slot;
            return Some(Slot {
                start: start + index * slot,
                len: slot,
            });
        }
    }
    None
}
