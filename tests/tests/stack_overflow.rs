//! Stack overflow in a coroutine is reported with its stack size and how to raise it;
//! other faults are left to whoever handled them before corona.

use std::os::unix::process::ExitStatusExt;

use corona_tests::{assert_child_aborts, is_child, run_child};

const SIGSEGV: i32 = 11;

fn message(size: usize) -> String {
    format!(
        "corona: coroutine stack overflow (stack size {size} bytes); raise it with \
         #[corona::coroutine(stack_size = ...)] or Builder::stack_size"
    )
}

/// Runs test `name` in a child process and checks that it aborted with corona's overflow
/// message for a stack of `size` bytes.
fn assert_child_reports_overflow(name: &str, size: usize) {
    let stderr = assert_child_aborts(name, &[]);
    assert!(stderr.contains(&message(size)), "stderr: {stderr}");
}

fn recurse_forever() -> u32 {
    corona_tests::recurse_kib(u32::MAX, &mut || 0)
}

#[corona::coroutine(stack_size = 64 * 1024)]
fn too_deep() -> u32 {
    recurse_forever()
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "corona reports overflows on Linux only"
)]
#[test]
fn deep_recursion_reports_overflow() {
    const NAME: &str = "deep_recursion_reports_overflow";
    if is_child(NAME) {
        let depth = corona::run(|| corona::co_await!(too_deep()));
        println!("unreachable: recursion returned {depth}");
        return;
    }
    assert_child_reports_overflow(NAME, 64 * 1024);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "corona reports overflows on Linux only"
)]
#[test]
fn overflow_in_a_builder_coroutine_names_its_size() {
    const NAME: &str = "overflow_in_a_builder_coroutine_names_its_size";
    if is_child(NAME) {
        let c = corona::Builder::new()
            .stack_size(100 * 1024)
            .build(recurse_forever);
        futures::executor::block_on(c);
        return;
    }
    // 100 KiB is a whole number of pages: the stack is exactly that size.
    assert_child_reports_overflow(NAME, 100 * 1024);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "corona reports overflows on Linux only"
)]
#[test]
fn overflow_on_a_second_thread_is_reported() {
    const NAME: &str = "overflow_on_a_second_thread_is_reported";
    if is_child(NAME) {
        std::thread::spawn(|| {
            let c = corona::Builder::new()
                .stack_size(32 * 1024)
                .build(recurse_forever);
            futures::executor::block_on(c)
        })
        .join()
        .unwrap();
        return;
    }
    assert_child_reports_overflow(NAME, 32 * 1024);
}

#[test]
fn other_faults_go_to_the_previous_handler() {
    const NAME: &str = "other_faults_go_to_the_previous_handler";
    if is_child(NAME) {
        // A coroutine first, so that corona's handler is installed.
        assert_eq!(futures::executor::block_on(corona::Coroutine::new(|| 5)), 5);
        let bad = std::hint::black_box(64usize) as *mut u8;
        // SAFETY: deliberately faults (address 64 is never mapped): the point of the test.
        unsafe { bad.write_volatile(1) };
        return;
    }
    let out = run_child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Killed by the fault itself, as without corona, and no overflow message.
    assert_eq!(
        out.status.signal(),
        Some(SIGSEGV),
        "{:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("stack overflow"), "stderr: {stderr}");
}

#[test]
fn thread_stack_overflow_is_still_reported_by_std() {
    const NAME: &str = "thread_stack_overflow_is_still_reported_by_std";
    if is_child(NAME) {
        assert_eq!(futures::executor::block_on(corona::Coroutine::new(|| 5)), 5);
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(recurse_forever)
            .unwrap()
            .join()
            .unwrap();
        return;
    }
    let out = run_child(NAME, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // std's own report for thread stacks still runs: corona chained to it.
    assert!(
        stderr.contains("has overflowed its stack"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("corona:"), "stderr: {stderr}");
}

/// Runs a coroutine that overflows its 48 KiB stack when dropped: for thread-local
/// destructors.
struct OverflowsWhenDropped;

impl Drop for OverflowsWhenDropped {
    fn drop(&mut self) {
        let c = corona::Builder::new()
            .stack_size(48 * 1024)
            .build(recurse_forever);
        // Polled by hand: an executor's own thread-locals may be gone by now.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let _ = std::future::Future::poll(std::pin::pin!(c), &mut cx);
        println!("unreachable: the recursion returned");
    }
}

thread_local! {
    static OVERFLOWS_WHEN_DROPPED: OverflowsWhenDropped = const { OverflowsWhenDropped };
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "corona reports overflows on Linux only"
)]
#[test]
fn overflow_in_a_thread_local_destructor_is_reported() {
    // std has removed its alternate signal stack by the time thread-local destructors run.
    const NAME: &str = "overflow_in_a_thread_local_destructor_is_reported";
    if is_child(NAME) {
        std::thread::spawn(|| OVERFLOWS_WHEN_DROPPED.with(|_| ()))
            .join()
            .unwrap();
        return;
    }
    assert_child_reports_overflow(NAME, 48 * 1024);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "corona reports overflows on Linux only"
)]
#[test]
fn overflow_in_a_thread_local_destructor_after_coroutines_is_reported() {
    // The thread ran coroutines before it exited, so corona's per-thread state (made while
    // std's alternate stack was there) is torn down before the destructor runs.
    const NAME: &str = "overflow_in_a_thread_local_destructor_after_coroutines_is_reported";
    if is_child(NAME) {
        std::thread::spawn(|| {
            OVERFLOWS_WHEN_DROPPED.with(|_| ());
            let c = corona::Builder::new().stack_size(48 * 1024).build(|| 7);
            assert_eq!(futures::executor::block_on(c), 7);
        })
        .join()
        .unwrap();
        return;
    }
    assert_child_reports_overflow(NAME, 48 * 1024);
}
