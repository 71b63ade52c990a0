//! The few memory syscalls the stack allocator needs, each wrapped once with its contract.
//!
//! The functions that make memory inaccessible, unmap it or discard its contents take raw
//! addresses and are `unsafe fn`s: their callers promise the range is corona's and idle.
//! Those that only map fresh memory, pre-fault pages or read residency are safe.

use std::io;
use std::sync::{Mutex, OnceLock, PoisonError};

/// `madvise` advice that turns a page into a guard page without splitting the mapping
/// (Linux >= 6.13). libc 0.2 does not name it on every version, so it is spelled here.
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// The size of a memory page.
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: `sysconf` only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(page)
            .ok()
            .filter(|p| p.is_power_of_two())
            .unwrap_or(4096)
    })
}

/// Reserves `len` bytes of readable, writable, lazily backed memory (nothing is resident
/// until touched) and returns its start.
pub(crate) fn map(len: usize) -> io::Result<usize> {
    // SAFETY: a fresh anonymous private mapping at an address the kernel picks; it aliases
    // nothing. MAP_NORESERVE: only touched pages count, so many large slabs can be reserved.
    let ptr = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(ptr as usize)
    }
}

/// Unmaps a range this module mapped and nothing uses any more.
///
/// # Safety
///
/// `[start, start + len)` must be a whole range returned by [`map`] that holds no live
/// data and that nothing will access again.
pub(crate) unsafe fn unmap(start: usize, len: usize) {
    // SAFETY: forwarded from this function's contract.
    let ret = unsafe { libc::munmap(start as *mut libc::c_void, len) };
    debug_assert_eq!(ret, 0, "munmap of a corona stack range failed");
}

/// Makes the page at `page` a guard page without splitting its mapping.
///
/// Fails with `EINVAL` on kernels older than 6.13.
///
/// # Safety
///
/// `page` must be a page-aligned page of a mapping made by [`map`] that holds no live
/// data and that nothing accesses again except as a guard.
pub(crate) unsafe fn install_guard(page: usize) -> io::Result<()> {
    // SAFETY: forwarded from this function's contract; the advice only makes accesses to
    // the page fault.
    let ret = unsafe { libc::madvise(page as *mut libc::c_void, page_size(), MADV_GUARD_INSTALL) };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes every page in `pages` a guard page, as [`install_guard`] does, in as few syscalls
/// as the kernel allows: `process_madvise` on this process takes up to 1024 ranges per call
/// (Linux >= 6.13 accepts guard advice there). Where it does not, one `madvise` each.
///
/// # Safety
///
/// As for [`install_guard`], for every page of `pages`.
pub(crate) unsafe fn install_guards(pages: &[usize]) -> io::Result<()> {
    // SAFETY: forwarded from this function's contract.
    let done = unsafe { advise_pages(pages, MADV_GUARD_INSTALL) };
    // SAFETY: as above.
    pages[done..]
        .iter()
        .try_for_each(|&p| unsafe { install_guard(p) })
}

/// Pre-faults the pages in `pages` for writing (`MADV_POPULATE_WRITE`), in as few
/// syscalls as possible: cheaper than taking each page fault from user space. Best effort:
/// a page left out faults in on first use as usual.
///
/// Safe: pre-faulting only allocates the pages' memory, it never changes what they hold,
/// and the kernel refuses (`EFAULT`, `ENOMEM`) pages that are not mapped writable.
pub(crate) fn populate(pages: &[usize]) {
    const MADV_POPULATE_WRITE: libc::c_int = 23;
    // SAFETY: `MADV_POPULATE_WRITE` leaves contents unchanged (see above).
    unsafe { advise_pages(pages, MADV_POPULATE_WRITE) };
}

/// Applies `advice` to each page of `pages` with `process_madvise` on this process, up to
/// 1024 pages per call; returns how many pages (from the first) it covered.
///
/// # Safety
///
/// `advice` applied to every page of `pages` must not affect live data (see the callers).
unsafe fn advise_pages(pages: &[usize], advice: libc::c_int) -> usize {
    const BATCH: usize = 1024; // UIO_MAXIOV
    let mut done = 0;
    if let Some(pidfd) = own_pidfd() {
        let page = page_size();
        while done < pages.len() {
            let chunk = &pages[done..(done + BATCH).min(pages.len())];
            let ranges: Vec<libc::iovec> = chunk
                .iter()
                .map(|&p| libc::iovec {
                    iov_base: p as *mut libc::c_void,
                    iov_len: page,
                })
                .collect();
            // SAFETY: the advice does not affect live data (this function's contract); the
            // kernel only reads the array.
            let ret = unsafe {
                libc::syscall(
                    libc::SYS_process_madvise,
                    pidfd,
                    ranges.as_ptr(),
                    ranges.len(),
                    advice,
                    0,
                )
            };
            if ret != (chunk.len() * page) as libc::c_long {
                break; // refused or partial: finish one page at a time
            }
            done += chunk.len();
        }
    }
    done
}

/// A pidfd for this process, for `process_madvise` (`None` if refused).
///
/// Opened once per process: a child made by `fork` inherits the descriptor, which names the
/// parent, so the child must open its own before advising anything (it would otherwise
/// guard or populate the parent's pages).
///
/// Under valgrind, `None`: valgrind does not know `pidfd_open`.
fn own_pidfd() -> Option<libc::c_int> {
    if under_valgrind() {
        return None;
    }
    static PIDFD: Mutex<Option<(libc::pid_t, Option<libc::c_int>)>> = Mutex::new(None);
    // SAFETY: `getpid` has no preconditions.
    let pid = unsafe { libc::getpid() };
    let mut cached = PIDFD.lock().unwrap_or_else(PoisonError::into_inner);
    match *cached {
        Some((owner, fd)) if owner == pid => fd,
        previous => {
            if let Some((_, Some(inherited))) = previous {
                // SAFETY: the inherited descriptor is ours to close; nothing else uses it.
                unsafe { libc::close(inherited) };
            }
            // SAFETY: `pidfd_open` of our own pid only creates a new descriptor.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
            let fd = libc::c_int::try_from(fd).ok().filter(|fd| *fd >= 0);
            *cached = Some((pid, fd));
            fd
        }
    }
}

/// Makes the page at `page` inaccessible with `mprotect` (splits the mapping).
///
/// # Safety
///
/// `page` must be a page-aligned page of a mapping made by [`map`] (or of memory the
/// caller owns) that holds no live data and that nothing accesses again except as a guard.
pub(crate) unsafe fn protect_guard(page: usize) -> io::Result<()> {
    // SAFETY: forwarded from this function's contract.
    let ret = unsafe { libc::mprotect(page as *mut libc::c_void, page_size(), libc::PROT_NONE) };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Gives the physical pages of `[start, start + len)` back to the kernel while keeping the
/// mapping (and guard markers, which `MADV_DONTNEED` preserves). The range reads as zeros
/// afterwards, and costs memory again only when touched.
///
/// # Safety
///
/// `[start, start + len)` must be page aligned, lie in mappings made by [`map`] and hold
/// no live data: its contents are discarded.
pub(crate) unsafe fn release(start: usize, len: usize) {
    // SAFETY: forwarded from this function's contract.
    let ret = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    debug_assert_eq!(
        ret, 0,
        "madvise(MADV_DONTNEED) on idle corona stacks failed"
    );
}

/// Whether this process runs under valgrind.
///
/// Valgrind starts its client with its preload libraries (`vgpreload_core-*.so` and the
/// tool's) in `LD_PRELOAD`, so their names there tell, with no client request and nothing
/// for the user to set. Read once: the answer cannot change.
pub(crate) fn under_valgrind() -> bool {
    static UNDER_VALGRIND: OnceLock<bool> = OnceLock::new();
    *UNDER_VALGRIND.get_or_init(|| {
        std::env::var_os("LD_PRELOAD")
            .is_some_and(|preload| preload.to_string_lossy().contains("/vgpreload_"))
    })
}
