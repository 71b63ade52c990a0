//! `corona::stack_usage`: size, depth now, and the high-water mark of the current stack.

use corona_tests::recurse_kib;

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
    // A size no other test of this binary uses: the stack comes fresh from the allocator,
    // with no page touched by an earlier coroutine, so the high-water mark is this one's.
    // (No process-wide setting changed: the tests of this binary run in parallel.)
    let c = corona::Builder::new().stack_size(1024 * 1024).build(|| {
        let start = corona::stack_usage().unwrap();
        let deep = recurse_kib(32, &mut || corona::stack_usage().unwrap());
        recurse_kib(50, &mut || ());
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
