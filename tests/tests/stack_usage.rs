//! `corona::stack_usage`: size, depth now, and the high-water mark of the current stack.

use std::hint::black_box;

#[inline(never)]
fn recurse(n: u32) -> u32 {
    let frame = black_box([n as u8; 1024]);
    if n == 0 {
        0
    } else {
        recurse(n - 1) + u32::from(frame[7] > 0)
    }
}

#[inline(never)]
fn deepest_usage(n: u32) -> corona::StackUsage {
    let frame = black_box([n as u8; 1024]);
    if n == 0 {
        corona::stack_usage().unwrap()
    } else {
        let usage = deepest_usage(n - 1);
        black_box(frame);
        usage
    }
}

#[test]
fn none_outside_a_coroutine() {
    assert!(corona::stack_usage().is_none());
    assert!(std::thread::spawn(corona::stack_usage)
        .join()
        .unwrap()
        .is_none());
}

#[test]
fn reports_size_depth_and_high_water() {
    // Stacks start with no pages, so the high-water mark is this coroutine's alone.
    corona::set_stack_pool_limit(0);
    let c = corona::Builder::new().stack_size(1024 * 1024).build(|| {
        let start = corona::stack_usage().unwrap();
        let deep = deepest_usage(32);
        let _ = recurse(50);
        let after = corona::stack_usage().unwrap();
        (start, deep, after)
    });
    let (start, deep, after) = futures::executor::block_on(c);
    assert_eq!(start.size(), 1024 * 1024);
    assert_eq!(start.range(), after.range());
    // 32 frames of at least 1 KiB are on the stack below the first measurement.
    assert!(
        deep.used() >= start.used() + 32 * 1024,
        "{start:?} {deep:?}"
    );
    assert!(start.used() < 16 * 1024, "{start:?}");
    // The recursion of 50 frames of 1 KiB touched at least 50 KiB, and not all of it.
    assert!(after.touched() >= 50 * 1024, "{after:?}");
    assert!(after.touched() < after.size(), "{after:?}");
    // Back at the top, the depth is what it was; the high-water mark stays.
    assert!(after.used() < 16 * 1024, "{after:?}");
    assert!(start.touched() < 16 * 1024, "{start:?}");
}

#[test]
fn debug_shows_sizes_not_addresses() {
    let c = corona::Builder::new()
        .stack_size(64 * 1024)
        .build(|| corona::stack_usage().unwrap());
    let usage = futures::executor::block_on(c);
    let shown = format!("{usage:?}");
    let expected = format!(
        "StackUsage {{ size: 65536, used: {}, touched: {} }}",
        usage.used(),
        usage.touched()
    );
    assert_eq!(shown, expected);
    let range = usage.range();
    assert!(!shown.contains(&range.start.to_string()), "{shown}");
    assert!(!shown.contains(&range.end.to_string()), "{shown}");
}
