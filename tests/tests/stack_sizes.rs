//! Absurd stack sizes are refused with corona's own message, and leave nothing behind:
//! coroutines and generators made afterwards, of the default size and of odd ones, work.

use std::panic::{catch_unwind, AssertUnwindSafe};

use corona_tests::panic_message;

const ABSURD: [usize; 4] = [
    usize::MAX,
    usize::MAX - 4096,
    1 << 60,
    (isize::MAX as usize) + 1,
];

/// Asserts that `make` panics with corona's allocation-failure message naming a size, and
/// with no arithmetic panic.
fn assert_refused(what: &str, make: impl FnOnce()) {
    let payload = catch_unwind(AssertUnwindSafe(make)).expect_err(what);
    let message = panic_message(&*payload);
    assert!(
        message.starts_with("corona: could not allocate a coroutine stack of "),
        "{what}: {message}"
    );
    assert!(
        message.contains("Builder::stack_size"),
        "{what}: the message says what to do: {message}"
    );
    for arithmetic in ["overflow", "divide by zero", "division by zero"] {
        assert!(!message.contains(arithmetic), "{what}: {message}");
    }
}

/// Coroutines and a generator of the default size and of a small one still run.
fn assert_later_stacks_work() {
    let sum = futures::executor::block_on(async {
        let a = corona::Coroutine::new(|| 40).await;
        let b = corona::Builder::new()
            .stack_size(20 * 1024 + 1)
            .build(|| corona::stack_usage().unwrap().size())
            .await;
        a + b
    });
    assert_eq!(sum, 40 + 24 * 1024);
    let generator = corona::Generator::with_stack_size(32 * 1024, |y| {
        y.yield_(1);
        y.yield_(2);
    });
    let items: Vec<u32> = futures::executor::block_on_stream(generator).collect();
    assert_eq!(items, [1, 2]);
}

#[test]
fn builder_refuses_absurd_sizes() {
    for size in ABSURD {
        assert_refused(&format!("Builder::stack_size({size})"), || {
            let c = corona::Builder::new().stack_size(size).build(|| 1);
            futures::executor::block_on(c);
        });
        assert_later_stacks_work();
    }
}

#[test]
fn generator_refuses_absurd_sizes() {
    for size in ABSURD {
        assert_refused(&format!("Generator::with_stack_size({size})"), || {
            let generator = corona::Generator::with_stack_size(size, |y| y.yield_(1));
            futures::executor::block_on_stream(generator).for_each(drop);
        });
        assert_later_stacks_work();
    }
}

#[test]
fn refused_twice_the_same_way() {
    // A second attempt at the same absurd size meets the same clear refusal, not a
    // half-made size class.
    for _ in 0..2 {
        assert_refused("Builder::stack_size(1 << 60)", || {
            drop(corona::Builder::new().stack_size(1 << 60).build(|| ()));
        });
    }
    assert_later_stacks_work();
}
