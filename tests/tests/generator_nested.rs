//! Generators inside generators, recursive generators, and generators consumed with `co_iter`
//! from inside other coroutines.

use std::cell::RefCell;
use std::rc::Rc;

use corona::prelude::*;
use corona::{co_await, Generator, Yielder};
use futures::StreamExt;

#[test]
fn a_generator_consumes_another_with_co_iter() {
    let numbers = corona::generator(|y| (1..=4u32).for_each(|i| y.yield_(i)));
    let doubled = corona::generator(move |y| {
        for n in numbers.co_iter() {
            y.yield_(n * 2);
        }
    });
    let labelled = corona::generator(move |y| {
        for d in doubled.co_iter() {
            y.yield_(format!("<{d}>"));
        }
    });
    let out: Vec<String> = futures::executor::block_on(labelled.collect());
    assert_eq!(out, ["<2>", "<4>", "<6>", "<8>"]);
}

#[test]
fn inner_and_outer_generators_interleave_item_by_item() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let inner_log = Rc::clone(&log);
    let inner = corona::generator(move |y| {
        for i in 0..3 {
            inner_log.borrow_mut().push(format!("inner yields {i}"));
            y.yield_(i);
        }
    });
    let outer_log = Rc::clone(&log);
    let outer = corona::generator(move |y| {
        for i in inner.co_iter() {
            outer_log.borrow_mut().push(format!("outer yields {i}"));
            y.yield_(i);
        }
    });
    corona::run(|| {
        for i in outer.co_iter() {
            log.borrow_mut().push(format!("consumer got {i}"));
        }
    });
    let expected: Vec<String> = (0..3)
        .flat_map(|i| {
            [
                format!("inner yields {i}"),
                format!("outer yields {i}"),
                format!("consumer got {i}"),
            ]
        })
        .collect();
    assert_eq!(*log.borrow(), expected);
}

/// Every number from `n` down to 1, each level a generator of its own.
fn countdown(n: u32) -> Generator<u32> {
    corona::generator(move |y| {
        if n > 0 {
            y.yield_(n);
            for rest in countdown(n - 1).co_iter() {
                y.yield_(rest);
            }
        }
    })
}

#[test]
fn recursively_nested_generators() {
    let out: Vec<u32> = futures::executor::block_on(countdown(20).collect());
    assert_eq!(out, (1..=20).rev().collect::<Vec<_>>());
}

enum Tree {
    Leaf(u32),
    Node(Vec<Tree>),
}

fn walk(tree: &Tree, y: &Yielder<u32>) {
    match tree {
        Tree::Leaf(v) => y.yield_(*v),
        Tree::Node(children) => children.iter().for_each(|c| walk(c, y)),
    }
}

#[test]
fn a_recursive_walk_yields_from_every_depth() {
    use Tree::{Leaf, Node};
    let tree = Node(vec![
        Leaf(1),
        Node(vec![Leaf(2), Node(vec![Leaf(3), Leaf(4)])]),
        Leaf(5),
    ]);
    let leaves = corona::generator(move |y| walk(&tree, y));
    assert_eq!(
        futures::executor::block_on(leaves.collect::<Vec<_>>()),
        [1, 2, 3, 4, 5]
    );
}

#[test]
fn a_generator_consumed_inside_a_coroutine_that_waits_too() {
    let gen = corona::generator(|y| {
        for i in 0..5u64 {
            corona::yield_now();
            y.yield_(i);
        }
    });
    let total = futures::executor::block_on(corona::Coroutine::new(move || {
        gen.co_iter()
            .map(|i| i + co_await!(async { 100 }))
            .sum::<u64>()
    }));
    assert_eq!(total, 10 + 500);
}

#[test]
fn an_outer_generator_yields_while_the_inner_one_is_suspended_mid_body() {
    // The inner generator is left suspended between items while the outer one yields and the
    // consumer runs, then resumed: each keeps its own stack and position.
    let inner = corona::generator(|y| {
        let local = String::from("inner-state");
        for i in 0..3 {
            y.yield_(format!("{local}-{i}"));
        }
    });
    let outer = corona::generator(move |y: &Yielder<String>| {
        let mut inner = inner;
        while let Some(item) = inner.co_next() {
            y.yield_(String::from("outer-before"));
            y.yield_(item);
        }
    });
    let out: Vec<String> = futures::executor::block_on(outer.collect());
    assert_eq!(
        out,
        [
            "outer-before",
            "inner-state-0",
            "outer-before",
            "inner-state-1",
            "outer-before",
            "inner-state-2"
        ]
    );
}

/// Yields the stack in use here; not inlined, so that `plain` below never yields itself.
#[inline(never)]
fn yield_stack_in_use(y: &Yielder<usize>) {
    y.yield_(corona::stack_usage().unwrap().used());
}

/// A recursion that yields at every level and, at the bottom, the stack in use there.
fn yielding(levels: u32, y: &Yielder<usize>) {
    if levels == 0 {
        return yield_stack_in_use(y);
    }
    y.yield_(0);
    // Called before the level's last use of `levels`, so each frame stays on the stack.
    yielding(levels - 1, y);
    std::hint::black_box(levels);
}

/// The same recursion with a plain call where `yielding` yields.
fn plain(levels: u32, y: &Yielder<usize>) {
    if levels == 0 {
        return yield_stack_in_use(y);
    }
    std::hint::black_box(y);
    plain(levels - 1, y);
    std::hint::black_box(levels);
}

#[test]
fn a_function_that_yields_costs_about_the_stack_of_a_plain_call() {
    // As for `co_await!`: `yield_` is forced inline only in optimised builds. Forced in debug
    // builds too, it made each level here 384 bytes against 48.
    let at_the_bottom = |recurse: fn(u32, &Yielder<usize>), levels| {
        let items = corona::generator(move |y| recurse(levels, y));
        let items: Vec<usize> = futures::executor::block_on(items.collect());
        *items.last().unwrap()
    };
    let per_level = |recurse| (at_the_bottom(recurse, 100) - at_the_bottom(recurse, 0)) / 100;
    let (yielding, plain) = (per_level(yielding), per_level(plain));
    assert!(
        yielding <= 2 * plain + 64,
        "{yielding} bytes per yielding level against {plain} per plain call"
    );
}
