//! `co_await!` works at any call depth, and coroutines nest.

use std::cell::RefCell;
use std::rc::Rc;

use corona::{co_await, Builder, Coroutine};

fn wait_deep(depth: u32) -> u32 {
    if depth == 0 {
        wait_at_the_bottom()
    } else {
        1 + wait_deep(depth - 1)
    }
}

/// The waits live in a function of their own, so that each of the 300 levels above is a plain
/// call with a small frame.
#[inline(never)]
fn wait_at_the_bottom() -> u32 {
    corona::yield_now();
    co_await!(async { 0 })
}

#[test]
fn waits_three_hundred_plain_calls_deep() {
    let depth = corona::run(|| wait_deep(300));
    assert_eq!(depth, 300);
}

#[test]
fn a_coroutine_awaits_another_coroutine() {
    let order = Rc::new(RefCell::new(Vec::new()));
    let (outer_log, inner_log) = (order.clone(), order.clone());
    let total = corona::run(move || {
        let inner = Coroutine::new(move || {
            inner_log.borrow_mut().push("inner waits");
            corona::yield_now();
            assert!(corona::in_coroutine());
            inner_log.borrow_mut().push("inner done");
            2
        });
        outer_log.borrow_mut().push("outer starts inner");
        let two = co_await!(inner);
        // Back in the outer coroutine: it can still wait.
        corona::yield_now();
        outer_log.borrow_mut().push("outer done");
        two + 1
    });
    assert_eq!(total, 3);
    assert_eq!(
        *order.borrow(),
        [
            "outer starts inner",
            "inner waits",
            "inner done",
            "outer done"
        ]
    );
}

#[test]
fn nested_three_levels_each_waiting() {
    let result = corona::run(|| {
        co_await!(Coroutine::new(|| {
            corona::yield_now();
            let x = co_await!(Coroutine::new(|| {
                corona::yield_now();
                10
            }));
            corona::yield_now();
            x * 2
        })) + 1
    });
    assert_eq!(result, 21);
}

/// `levels` frames of 1 KiB, a wait at the bottom; returns the stack in use down there.
fn used_below(levels: u32) -> usize {
    corona_tests::recurse_kib(levels, &mut || {
        corona::yield_now();
        corona::stack_usage().unwrap().used()
    })
}

#[test]
fn default_stack_holds_128_levels_of_1_kib_frames() {
    let used = corona::run(|| co_await!(Coroutine::new(|| used_below(128))));
    assert!(used >= 128 * 1024, "{used} bytes used");
}

#[test]
fn a_big_stack_runs_deep_recursion() {
    // 2,000 KiB frames need far more than the default 256 KiB.
    let deep = Builder::new()
        .stack_size(8 * 1024 * 1024)
        .build(|| used_below(2_000));
    let used = futures::executor::block_on(deep);
    assert!(used >= 2_000 * 1024, "{used} bytes used");
}

#[corona::coroutine(stack_size = 8 * 1024 * 1024)]
fn deep_by_attribute(levels: u32) -> (usize, usize) {
    (used_below(levels), corona::stack_usage().unwrap().size())
}

#[test]
fn stack_size_attribute_option_is_used() {
    let (used, size) = futures::executor::block_on(deep_by_attribute(2_000));
    assert_eq!(size, 8 * 1024 * 1024);
    assert!(used >= 2_000 * 1024, "{used} bytes used");
}

#[test]
fn a_callback_from_a_sync_library_waits() {
    // A sync API that knows nothing about futures calls back into waiting code.
    fn for_each_sorted(mut items: Vec<u32>, mut f: impl FnMut(u32)) {
        items.sort_unstable();
        items.into_iter().for_each(&mut f);
    }
    let seen = corona::run(|| {
        let mut seen = Vec::new();
        for_each_sorted(vec![3, 1, 2], |x| {
            seen.push(co_await!(async move { x * 10 }));
            corona::yield_now();
        });
        seen
    });
    assert_eq!(seen, [10, 20, 30]);
}

/// Stack bytes in use at the bottom of `recurse(levels)`, which runs in a fresh coroutine.
fn used_at_the_bottom(recurse: fn(u32) -> usize, levels: u32) -> usize {
    futures::executor::block_on(Coroutine::new(move || recurse(levels)))
}

/// A recursion that awaits at every level; returns the stack in use at the bottom.
fn awaiting(levels: u32) -> usize {
    if levels == 0 {
        return corona::stack_usage().unwrap().used();
    }
    let one: usize = co_await!(async { 1 });
    // Used after the call, so each level's frame stays on the stack below it.
    awaiting(levels - 1) * one
}

/// The same recursion with a plain call where `awaiting` awaits.
fn plain(levels: u32) -> usize {
    if levels == 0 {
        return corona::stack_usage().unwrap().used();
    }
    let one: usize = std::hint::black_box(1);
    plain(levels - 1) * one
}

#[test]
fn a_function_that_awaits_costs_about_the_stack_of_a_plain_call() {
    // `co_await!` is forced inline only in optimised builds. Forced in debug builds too, where
    // nothing else is inlined, it made each level here 864 bytes against 128.
    let per_level =
        |recurse| (used_at_the_bottom(recurse, 100) - used_at_the_bottom(recurse, 0)) / 100;
    let (awaiting, plain) = (per_level(awaiting), per_level(plain));
    assert!(
        awaiting <= 2 * plain + 64,
        "{awaiting} bytes per awaiting level against {plain} per plain call"
    );
}
