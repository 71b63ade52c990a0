//! The stack allocator: live stacks never overlap, slabs get past the mapping limit, and
//! the forced fallback (one mapping per stack) works too.

use std::cell::Cell;
use std::ops::Range;
use std::rc::Rc;

use corona_tests::{assert_child_succeeds, is_child, mapping_count, panic_message, run_child};

const PAGE: usize = 4096;

/// Starts `count` coroutines cycling through `sizes`, all alive at once (each waits on its
/// own oneshot), and returns each one's stack range and the address of a local on it.
fn live_stacks(count: usize, sizes: &[usize]) -> Vec<(Range<usize>, usize)> {
    corona::run(|| {
        let started = Rc::new(Cell::new(0));
        let mut senders = Vec::with_capacity(count);
        let mut handles = Vec::with_capacity(count);
        for i in 0..count {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            senders.push(tx);
            let started = started.clone();
            let c = corona::Builder::new()
                .stack_size(sizes[i % sizes.len()])
                .build(move || {
                    let usage = corona::stack_usage().unwrap();
                    let local = std::hint::black_box(0u8);
                    let at = std::ptr::addr_of!(local) as usize;
                    started.set(started.get() + 1);
                    corona::co_await!(rx).unwrap();
                    (usage.range(), at)
                });
            handles.push(tokio::task::spawn_local(c));
        }
        // Let every coroutine start and wait, so all stacks are live together.
        while started.get() < count {
            corona::yield_now();
        }
        for tx in senders {
            tx.send(()).unwrap();
        }
        handles
            .into_iter()
            .map(|h| corona::co_await!(h).unwrap())
            .collect()
    })
}

/// Asserts that no two stacks (guard page included) share a byte, and that each local
/// lived inside its own stack.
fn assert_disjoint(mut stacks: Vec<(Range<usize>, usize)>) {
    for (range, local) in &stacks {
        assert!(range.contains(local), "{local:#x} outside {range:x?}");
        assert_eq!(range.start % PAGE, 0);
    }
    stacks.sort_by_key(|(r, _)| r.start);
    for pair in stacks.windows(2) {
        let (a, b) = (&pair[0].0, &pair[1].0);
        assert!(
            a.end + PAGE <= b.start,
            "stacks overlap (or share a guard page): {a:x?} and {b:x?}"
        );
    }
}

#[test]
fn live_stacks_never_overlap() {
    let sizes = [
        32 * 1024,
        64 * 1024,
        corona::DEFAULT_STACK_SIZE,
        40 * 1024 + 1,
    ];
    let stacks = live_stacks(3000, &sizes);
    // Each coroutine got the size it asked for, 40 KiB + 1 rounded up to whole pages.
    let granted = [32 * 1024, 64 * 1024, corona::DEFAULT_STACK_SIZE, 44 * 1024];
    for (i, (range, _)) in stacks.iter().enumerate() {
        assert_eq!(range.len(), granted[i % 4], "stack {i}: {range:x?}");
    }
    let first: Vec<_> = stacks.iter().map(|(r, _)| r.clone()).collect();
    assert_disjoint(stacks);
    // A second burst reuses stacks (from the pool, and released ones beyond its bound),
    // and they still never overlap.
    let again = live_stacks(3000, &sizes);
    let reused = again.iter().filter(|(r, _)| first.contains(r)).count();
    assert!(reused >= 2900, "only {reused} of 3000 stacks reused");
    assert_disjoint(again);
}

/// Whether stacks get a mapping each (`CORONA_STACK_GUARD=mprotect`, or a kernel without
/// `MADV_GUARD_INSTALL`): 200 live stacks of a size of their own add 200 mappings or more.
fn stacks_map_one_each() -> bool {
    let before = mapping_count();
    let _ = live_stacks(200, &[52 * 1024]);
    // Idle stacks stay mapped (pooled), so the count is still up.
    mapping_count() >= before + 200
}

fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .expect("reading vm.max_map_count")
        .trim()
        .parse()
        .expect("vm.max_map_count is a number")
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator"
)]
#[test]
fn beyond_the_old_mapping_limit() {
    // One mapping per stack died at ~32,750 live coroutines (vm.max_map_count); slabs do
    // not, and add few mappings. On the one-mapping-per-stack path, what is promised at that
    // limit is a panic that says what ran out and what to do, not an abort.
    const NAME: &str = "beyond_the_old_mapping_limit";
    if is_child(NAME) {
        if stacks_map_one_each() {
            let limit = max_map_count();
            if limit > 100_000 {
                println!("skipped: vm.max_map_count = {limit} is too high to reach here");
                return;
            }
            // Two mappings per stack (guard and stack): this is past the limit.
            let count = limit / 2 + 1000;
            let err = std::panic::catch_unwind(|| live_stacks(count, &[32 * 1024]))
                .expect_err("more live stacks than the kernel allows mappings");
            let msg = panic_message(&*err);
            assert!(
                msg.starts_with("corona: could not allocate a coroutine stack of 32768 bytes")
                    && msg.contains("vm.max_map_count")
                    && msg.contains("smaller stacks"),
                "{msg}"
            );
            println!("per-stack mappings: a clear panic at the mapping limit");
            return;
        }
        let before = mapping_count();
        let stacks = live_stacks(40_000, &[32 * 1024]);
        let during = mapping_count();
        assert_disjoint(stacks);
        println!("mappings: {before} before, {during} after 40000 stacks");
        assert!(during < before + 200, "{before} -> {during}");
        return;
    }
    assert_child_succeeds(NAME, &[]);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator"
)]
#[test]
fn per_stack_mappings_panic_clearly_at_the_mapping_limit() {
    let out = assert_child_succeeds(
        "beyond_the_old_mapping_limit",
        &[("CORONA_STACK_GUARD", "mprotect")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("a clear panic at the mapping limit") || stdout.contains("skipped:"),
        "{stdout}"
    );
}

#[test]
fn forced_fallback_maps_each_stack_with_a_guard() {
    const NAME: &str = "forced_fallback_maps_each_stack_with_a_guard";
    if is_child(NAME) {
        let before = mapping_count();
        let stacks = live_stacks(1000, &[32 * 1024, 48 * 1024]);
        let after = mapping_count();
        assert_disjoint(stacks);
        // Two mappings per stack (guard + stack); the kernel may merge neighbours' guard
        // with nothing, but never a stack with its guard.
        println!("mappings: {before} before, {after} after 1000 fallback stacks");
        assert!(after >= before + 1000, "{before} -> {after}");
        return;
    }
    let out = run_child(NAME, &[("CORONA_STACK_GUARD", "mprotect")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("after 1000 fallback stacks"), "{stdout}");
}

#[test]
fn stacks_of_an_exited_thread_are_reused() {
    const NAME: &str = "stacks_of_an_exited_thread_are_reused";
    if is_child(NAME) {
        // A size no other test here uses, so that only this test's stacks are in play.
        let size = [40 * 1024];
        let first = std::thread::spawn(move || live_stacks(500, &size))
            .join()
            .unwrap();
        // The thread's pool gave its idle stacks back when the thread exited.
        let second = std::thread::spawn(move || live_stacks(500, &size))
            .join()
            .unwrap();
        let reused = second
            .iter()
            .filter(|s| first.iter().any(|f| f.0 == s.0))
            .count();
        // Stacks are fetched 32 at a time, so up to 31 idle ones the first thread never
        // used may be handed out instead.
        assert!(reused >= 500 - 31, "only {reused} of 500 stacks reused");
        return;
    }
    assert_child_succeeds(NAME, &[]);
}

#[test]
fn tiny_sizes_get_the_minimum_stack() {
    // In a child: without the clamp, a 4 KiB stack could overflow, which aborts.
    const NAME: &str = "tiny_sizes_get_the_minimum_stack";
    if is_child(NAME) {
        let size_of_stack = || corona::stack_usage().unwrap().size();
        for asked in [0, 1, 4096, corona::MIN_STACK_SIZE - 1] {
            let c = corona::Builder::new()
                .stack_size(asked)
                .build(size_of_stack);
            assert_eq!(
                futures::executor::block_on(c),
                corona::MIN_STACK_SIZE,
                "{asked}"
            );
        }
        let mut gen = corona::Generator::with_stack_size(1, move |y| y.yield_(size_of_stack()));
        let from_gen = futures::executor::block_on(futures::StreamExt::next(&mut gen));
        assert_eq!(from_gen, Some(corona::MIN_STACK_SIZE));
        return;
    }
    assert_child_succeeds(NAME, &[]);
}
