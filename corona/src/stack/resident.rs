//! Which pages of a stack are resident (`mincore`): what [`stack_usage`](super::stack_usage)
//! reports as touched, on every Unix backend.

use core::ops::Range;

/// Bytes of `range` (page-aligned, mapped: a live stack) that are resident, counted in
/// pages of `page` bytes; `None` if `mincore` fails.
///
/// One flag per page, 4,096 pages per call: a fixed buffer on the caller's stack, so that no
/// size of stack makes this allocate (a 16 TiB stack would take 4 GiB of flags at once).
pub(super) fn resident_bytes(range: Range<usize>, page: usize) -> Option<usize> {
    let mut flags = [0u8; 4096];
    let mut at = range.start;
    let mut resident = 0;
    while at < range.end {
        let chunk = (range.end - at).min(flags.len() * page);
        // SAFETY: `flags` has one byte for each page of `[at, at + chunk)`, part of a mapped
        // range, and `at` is page-aligned (`range.start` is, and each chunk but the last is
        // whole pages); `mincore` only writes `flags`.
        let ret = unsafe { libc::mincore(at as _, chunk, flags.as_mut_ptr().cast()) };
        if ret != 0 {
            return None;
        }
        resident += flags[..chunk.div_ceil(page)]
            .iter()
            .filter(|f| **f & 1 != 0)
            .count();
        at += chunk;
    }
    Some(resident * page)
}
