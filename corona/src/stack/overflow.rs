//! Stack overflow in a coroutine: a message instead of a bare `SIGSEGV`.
//!
//! A coroutine that recurses past its stack writes into the guard page below it and the
//! kernel raises `SIGSEGV`. There is no stack left to run a handler on, so every thread
//! that runs coroutines gets an alternate signal stack (std's, when std made one), and the
//! handler is installed once, with `SA_ONSTACK`, for `SIGSEGV` and `SIGBUS`.
//!
//! std removes its alternate stack when the thread's main function returns, before the
//! thread's thread-local destructors run, and a destructor may well run coroutines. So
//! corona's per-thread state, itself a thread-local, installs an alternate stack of
//! corona's own when it is destroyed and finds none; that stack is unmapped by a pthread
//! key destructor, which glibc runs after every thread-local destructor. A coroutine made
//! in a later destructor (its stack comes from the allocator) checks again. Not covered:
//! a destructor of a thread-local first used after the thread's first coroutine that runs
//! a coroutine on a pooled stack (it runs before corona's own destructor).
//!
//! Chaining: the handler is installed once per process, at the first coroutine stack,
//! and keeps the action that was installed before it. It only claims faults in a corona
//! guard page; every other fault goes to that previous action. A handler installed after
//! corona's must do the same (call the action it replaced for faults it does not claim),
//! or corona's overflow report is lost and the process dies of the bare signal. Building
//! without the `overflow-report` feature installs nothing.
//!
//! The handler looks the faulting address up in the registry of stack mappings (atomic
//! loads only). In a corona guard page, it writes
//! `corona: coroutine stack overflow (stack size N bytes); raise it with ...` to stderr
//! with `write(2)` (no allocation, no lock: async-signal-safe) and aborts. Any other fault
//! goes to the handler that was installed before, untouched (std's own overflow report
//! for thread stacks, a sanitizer's, ...); when that was the default action, the default
//! is restored and the faulting instruction runs again, so the process dies of the signal
//! as it would have without corona.

use core::ptr;
use std::sync::{Once, OnceLock};

use super::{registry, sys};

/// Bytes of each alternate signal stack corona maps (the handler needs a few hundred).
const ALT_STACK_SIZE: usize = 64 * 1024;

/// The actions that were installed before ours, for chaining.
static PREVIOUS_SEGV: OnceLock<libc::sigaction> = OnceLock::new();
static PREVIOUS_BUS: OnceLock<libc::sigaction> = OnceLock::new();

/// Installs the handler (once per process) and an alternate signal stack on this thread
/// (once per thread). Called before a thread first gets a stack from the allocator.
pub(crate) fn prepare_thread() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        install(libc::SIGSEGV, &PREVIOUS_SEGV);
        install(libc::SIGBUS, &PREVIOUS_BUS);
    });
    thread_local! {
        static ALT_STACK: AltStack = AltStack::ensure();
    }
    if ALT_STACK.try_with(|_| ()).is_err() {
        // A thread-local destructor after ours is making stacks: ours kept (or put) an
        // alternate stack of corona's in place, unless someone disabled it since.
        if let Some(own) = install_if_missing() {
            free_at_thread_end(own);
        }
    }
}

fn install(signal: libc::c_int, previous: &OnceLock<libc::sigaction>) {
    // SAFETY: `sigaction` is plain data; all-zero is a valid value (empty mask, no flags).
    let mut old: libc::sigaction = unsafe { core::mem::zeroed() };
    // SAFETY: reads the current action into `old`, a valid out-pointer.
    let ret = unsafe { libc::sigaction(signal, ptr::null(), &mut old) };
    if ret != 0 {
        return;
    }
    let _ = previous.set(old);
    // SAFETY: as above.
    let mut action: libc::sigaction = unsafe { core::mem::zeroed() };
    action.sa_sigaction = on_fault as *const () as libc::sighandler_t;
    action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    // SAFETY: `sa_mask` is a valid sigset to clear; `on_fault` has the `SA_SIGINFO`
    // signature and only does async-signal-safe things.
    unsafe {
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, ptr::null_mut());
    }
}

/// The address of the handler, as `sigaction` reports it (for tests).
#[cfg(test)]
pub(crate) fn handler_address() -> libc::sighandler_t {
    on_fault as *const () as libc::sighandler_t
}

/// The signal handler.
extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an `SA_SIGINFO` handler.
    let (addr, code) = unsafe { ((*info).si_addr() as usize, (*info).si_code) };
    // `si_code > 0`: a real fault, so `si_addr` is the faulting address.
    if code > 0 {
        if let Some(slot) = registry::slot_of(addr) {
            let page = sys::page_size();
            if addr - slot.start < page {
                report_overflow(slot.len - page);
            }
        }
    }
    chain(signal, info, context);
}

/// Writes the overflow message and aborts. Async-signal-safe: a stack buffer and `write`.
fn report_overflow(stack_size: usize) -> ! {
    let mut buf = [0u8; 256];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        let n = bytes.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&bytes[..n]);
        len += n;
    };
    put(b"corona: coroutine stack overflow (stack size ");
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = stack_size;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    put(&digits[at..]);
    put(b" bytes); raise it with #[corona::coroutine(stack_size = ...)] or Builder::stack_size\n");
    let mut written = 0;
    while written < len {
        // SAFETY: writes initialised bytes of `buf` to stderr; `write` is async-signal-safe.
        let n = unsafe { libc::write(2, buf[written..len].as_ptr().cast(), len - written) };
        if n <= 0 {
            break;
        }
        written += n as usize;
    }
    // SAFETY: `abort` is async-signal-safe and never returns.
    unsafe { libc::abort() }
}

/// Hands a fault that is not a corona overflow to the previous action.
fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = if signal == libc::SIGSEGV {
        PREVIOUS_SEGV.get()
    } else {
        PREVIOUS_BUS.get()
    };
    match previous {
        Some(prev) if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN => {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: with `SA_SIGINFO` the stored handler has this signature; it was
                // installed for this signal, so it expects to be called from its handler.
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { core::mem::transmute(prev.sa_sigaction) };
                handler(signal, info, context);
            } else {
                // SAFETY: without `SA_SIGINFO` the stored handler takes the signal number.
                let handler: extern "C" fn(libc::c_int) =
                    unsafe { core::mem::transmute(prev.sa_sigaction) };
                handler(signal);
            }
        }
        _ => {
            // Default action: restore it. Returning re-runs the faulting instruction, which
            // now kills the process with the signal; a sent signal is raised again.
            // SAFETY: all-zero `sigaction` with `SIG_DFL` (0) is the default action.
            let default: libc::sigaction = unsafe { core::mem::zeroed() };
            // SAFETY: installs the default action, from a valid `sigaction`.
            unsafe { libc::sigaction(signal, &default, ptr::null_mut()) };
            // SAFETY: the kernel passed a valid `siginfo_t`, see `on_fault`.
            if unsafe { (*info).si_code } <= 0 {
                // SAFETY: `raise` is async-signal-safe.
                unsafe { libc::raise(signal) };
            }
        }
    }
}

/// Bytes of a mapping holding one alternate signal stack: a guard page, then the stack.
fn alt_mapping_len() -> usize {
    ALT_STACK_SIZE + sys::page_size()
}

/// This thread's alternate signal stack, when corona made one; dropped (a thread-local
/// destructor) when the thread exits.
struct AltStack {
    /// The start of corona's mapping, if corona made and installed one.
    own: Option<usize>,
}

impl AltStack {
    /// Installs an alternate stack of corona's own if this thread has none.
    fn ensure() -> AltStack {
        AltStack {
            own: install_if_missing(),
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // The thread is exiting: std's alternate stack, if it had one, is already gone,
        // and later thread-local destructors may still run coroutines. Keep (or put) an
        // alternate stack of corona's in place until the very end.
        if let Some(own) = self.own.take().or_else(install_if_missing) {
            free_at_thread_end(own);
        }
    }
}

/// Makes and installs an alternate signal stack of corona's own if the thread has none;
/// returns the start of its mapping.
fn install_if_missing() -> Option<usize> {
    // SAFETY: `stack_t` is plain data; all-zero is valid.
    let mut current: libc::stack_t = unsafe { core::mem::zeroed() };
    // SAFETY: only reads the current alternate stack into a valid out-pointer.
    if unsafe { libc::sigaltstack(ptr::null(), &mut current) } != 0 {
        return None;
    }
    if current.ss_flags & libc::SS_DISABLE == 0 {
        return None; // std (or someone) gave this thread one
    }
    let page = sys::page_size();
    let len = alt_mapping_len();
    let start = sys::map(len).ok()?;
    // SAFETY: `[start, start + len)` was just mapped and is known to no one else: its first
    // page becomes the guard, or the mapping goes away.
    if unsafe { sys::protect_guard(start) }.is_err() {
        // SAFETY: as above.
        unsafe { sys::unmap(start, len) };
        return None;
    }
    let stack = libc::stack_t {
        ss_sp: (start + page) as *mut libc::c_void,
        ss_flags: 0,
        ss_size: ALT_STACK_SIZE,
    };
    // SAFETY: `stack` describes a mapping owned by this thread's corona state until
    // `free_alt_stack` disables it and unmaps it.
    if unsafe { libc::sigaltstack(&stack, ptr::null_mut()) } != 0 {
        // SAFETY: not installed: nothing refers to the mapping.
        unsafe { sys::unmap(start, len) };
        return None;
    }
    Some(start)
}

/// Hands corona's alternate stack (the mapping at `start`) to a pthread key destructor,
/// which runs after the thread's thread-local destructors. If no key can be made, the
/// mapping stays installed and is leaked with the thread (64 KiB of address space).
fn free_at_thread_end(start: usize) {
    static KEY: OnceLock<Option<libc::pthread_key_t>> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: a valid out-pointer and a destructor with the expected signature.
        let ret = unsafe { libc::pthread_key_create(&mut key, Some(free_alt_stack)) };
        (ret == 0).then_some(key)
    });
    if let Some(key) = *key {
        // SAFETY: `key` was created above; the value is a non-null address, which makes
        // the destructor run for this thread.
        unsafe { libc::pthread_setspecific(key, start as *const libc::c_void) };
    }
}

/// The pthread key destructor: disables the thread's alternate stack if it is corona's
/// (at `start`), then unmaps it. Nothing of the thread's Rust code runs after this.
extern "C" fn free_alt_stack(start: *mut libc::c_void) {
    let start = start as usize;
    let page = sys::page_size();
    // SAFETY: `stack_t` is plain data; all-zero is valid.
    let mut current: libc::stack_t = unsafe { core::mem::zeroed() };
    // SAFETY: reads the current alternate stack into a valid out-pointer.
    let read = unsafe { libc::sigaltstack(ptr::null(), &mut current) };
    if read != 0 || current.ss_sp as usize == start + page {
        let disable = libc::stack_t {
            ss_sp: ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: disables this thread's alternate stack before its memory goes away.
        unsafe { libc::sigaltstack(&disable, ptr::null_mut()) };
    }
    // SAFETY: the mapping was made by `install_if_missing` and handed over by
    // `free_at_thread_end`; it is no longer the alternate stack, and we are not running on
    // it (a key destructor runs on the thread's own stack).
    unsafe { sys::unmap(start, alt_mapping_len()) };
}
