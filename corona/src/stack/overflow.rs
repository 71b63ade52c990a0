//! Stack overflow in a coroutine: a message instead of a bare `SIGSEGV`.
//!
//! A coroutine that recurses past its stack writes into the guard page below it and the
//! kernel raises `SIGSEGV`. There is no stack left to run a handler on, so every thread
//! that runs coroutines gets an alternate signal stack (std's, when std made one), and the
//! handler is installed once, with `SA_ONSTACK`, for `SIGSEGV` and `SIGBUS`.
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
    let _ = ALT_STACK.try_with(|_| ());
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

/// This thread's alternate signal stack, when corona had to make one.
struct AltStack {
    /// The mapping (a guard page, then the stack), if corona made it.
    mapping: Option<(usize, usize)>,
}

impl AltStack {
    fn ensure() -> AltStack {
        let none = AltStack { mapping: None };
        // SAFETY: `stack_t` is plain data; all-zero is valid.
        let mut current: libc::stack_t = unsafe { core::mem::zeroed() };
        // SAFETY: only reads the current alternate stack into a valid out-pointer.
        if unsafe { libc::sigaltstack(ptr::null(), &mut current) } != 0 {
            return none;
        }
        if current.ss_flags & libc::SS_DISABLE == 0 {
            return none; // std (or someone) already gave this thread one
        }
        let page = sys::page_size();
        let len = ALT_STACK_SIZE + page;
        let Ok(start) = sys::map(len) else {
            return none;
        };
        if sys::protect_guard(start).is_err() {
            sys::unmap(start, len);
            return none;
        }
        let stack = libc::stack_t {
            ss_sp: (start + page) as *mut libc::c_void,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: `stack` describes a mapping this struct owns until the thread exits.
        if unsafe { libc::sigaltstack(&stack, ptr::null_mut()) } != 0 {
            sys::unmap(start, len);
            return none;
        }
        AltStack {
            mapping: Some((start, len)),
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if let Some((start, len)) = self.mapping.take() {
            let disable = libc::stack_t {
                ss_sp: ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            // SAFETY: disables this thread's alternate stack before its memory goes away.
            unsafe { libc::sigaltstack(&disable, ptr::null_mut()) };
            sys::unmap(start, len);
        }
    }
}
