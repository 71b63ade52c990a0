//! Where corona's stacks are, readable from a signal handler.
//!
//! The overflow handler must decide whether a faulting address is a corona guard page
//! without locking or allocating. Every stack mapping (a slab of equal slots, or one stack
//! of its own) is entered here before any of its stacks is handed out, and removed before
//! it is unmapped: a slab stays mapped for good once a stack of it was handed out, a stack
//! with a mapping of its own is unmapped once its coroutine was dropped and its thread's
//! pool let it go, and the mappings of a failed allocation are unmapped at once.
//!
//! Entries are written under a lock (one writer at a time) and read with atomic loads
//! only. Each entry carries a sequence number, odd while it is being written: a reader
//! skips an entry that is being written or that changed while it read it. Skipping is
//! right: the entry a reader looks for, the mapping of a live stack, is not written while
//! that stack is live (it was complete before the stack was handed out, and is removed
//! only after the stack was given back).

use core::sync::atomic::{fence, AtomicUsize, Ordering};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// More entries than the kernel allows mappings (`vm.max_map_count` is 65,530 by default).
const CAPACITY: usize = 1 << 16;

/// A mapping cut into `len / slot` slots, each a guard page followed by a stack; `len` is
/// 0 in a free entry.
struct Region {
    /// Odd while the entry is being written; advanced by 2 with each change.
    seq: AtomicUsize,
    start: AtomicUsize,
    len: AtomicUsize,
    slot: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)] // only used to initialise `REGIONS`
const EMPTY: Region = Region {
    seq: AtomicUsize::new(0),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    slot: AtomicUsize::new(0),
};

static REGIONS: [Region; CAPACITY] = [EMPTY; CAPACITY];
/// Entries ever used (free ones included): readers look at `REGIONS[..COUNT]`.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// The writers' bookkeeping: where each registered mapping's entry is, and free entries.
struct Book {
    /// Entry index by mapping start.
    at: BTreeMap<usize, usize>,
    /// Entries below `COUNT` whose mapping was removed.
    free: Vec<usize>,
}

fn book() -> MutexGuard<'static, Book> {
    static BOOK: Mutex<Book> = Mutex::new(Book {
        at: BTreeMap::new(),
        free: Vec::new(),
    });
    // Nothing panics under the lock: the book is consistent even if it was poisoned.
    BOOK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Mappings that may be registered at once: [`CAPACITY`], or fewer where the environment
/// variable `CORONA_STACK_MAPPINGS` asks for fewer (read once; tests use it to reach a
/// full registry without making 65,536 mappings).
pub(crate) fn capacity() -> usize {
    static CAP: OnceLock<usize> = OnceLock::new();
    *CAP.get_or_init(|| {
        std::env::var("CORONA_STACK_MAPPINGS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(CAPACITY, |n: usize| n.min(CAPACITY))
    })
}

/// Every entry is in use: see [`register`].
#[derive(Debug)]
pub(crate) struct Full;

/// Records a mapping of `len` bytes at `start`, cut into slots of `slot` bytes.
///
/// Fails, changing nothing, when [`CAPACITY`] mappings are registered (the kernel refuses
/// far fewer one-stack mappings; slabs of different sizes can get there).
pub(crate) fn register(start: usize, len: usize, slot: usize) -> Result<(), Full> {
    let mut book = book();
    let count = COUNT.load(Ordering::Relaxed);
    if book.at.len() >= capacity() {
        return Err(Full);
    }
    let (at, fresh) = match book.free.pop() {
        Some(at) => (at, false),
        None => (count, true),
    };
    book.at.insert(start, at);
    write(&REGIONS[at], start, len, slot);
    if fresh {
        COUNT.store(count + 1, Ordering::Release);
    }
    Ok(())
}

/// Removes the mapping registered at `start`, if any. The caller unmaps it afterwards (so
/// that the registry never names memory that is not corona's).
pub(crate) fn unregister(start: usize) {
    let mut book = book();
    if let Some(at) = book.at.remove(&start) {
        write(&REGIONS[at], 0, 0, 0);
        book.free.push(at);
    }
}

/// Rewrites one entry. The caller holds the book's lock: one writer at a time.
fn write(region: &Region, start: usize, len: usize, slot: usize) {
    let seq = region.seq.load(Ordering::Relaxed);
    region.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
    // Orders the odd number before the fields: a reader that sees a new field sees it too.
    fence(Ordering::Release);
    region.start.store(start, Ordering::Relaxed);
    region.slot.store(slot, Ordering::Relaxed);
    region.len.store(len, Ordering::Relaxed);
    region.seq.store(seq.wrapping_add(2), Ordering::Release);
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
        let seq = region.seq.load(Ordering::Acquire);
        if seq % 2 == 1 {
            continue;
        }
        let len = region.len.load(Ordering::Relaxed);
        let start = region.start.load(Ordering::Relaxed);
        let slot = region.slot.load(Ordering::Relaxed);
        // Orders the field loads before the second reading of `seq`.
        fence(Ordering::Acquire);
        if region.seq.load(Ordering::Relaxed) != seq {
            continue;
        }
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
