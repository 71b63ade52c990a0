//! `corona::Builder::spawn_local`: a detached coroutine with the builder's settings on the
//! current `LocalSet`.

use std::cell::Cell;
use std::rc::Rc;

use corona::{co_await, Builder};

const BIG: usize = 4 * 1024 * 1024;

/// Recursion that needs well over the default 256 KiB of stack: 64 frames of 16 KiB.
fn deep(n: u32) -> u32 {
    let frame = std::hint::black_box([n as u8; 16 * 1024]);
    if n == 0 {
        return 0;
    }
    // Reads the frame after the call, so it must stay live across the recursion.
    deep(n - 1) + u32::from(frame[frame.len() - 1] == n as u8)
}

#[test]
fn the_spawned_coroutine_gets_the_builders_stack_size() {
    let (size, depth) = corona::run(|| {
        let handle = Builder::new().stack_size(BIG).spawn_local(|| {
            corona::yield_now(); // it waits like any coroutine
            (corona::stack_usage().unwrap().size(), deep(64))
        });
        co_await!(handle).unwrap()
    });
    assert!(size >= BIG, "stack of {size} bytes, asked for {BIG}");
    assert_eq!(depth, 64);
}

#[test]
fn it_runs_detached_and_its_panic_is_a_join_error() {
    corona::run(|| {
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        drop(Builder::new().spawn_local(move || flag.set(true))); // handle dropped
        let failed = Builder::new().spawn_local(|| -> u8 { panic!("spawned body failed") });
        let err = co_await!(failed).unwrap_err();
        assert!(err.is_panic());
        assert!(
            ran.get(),
            "the detached coroutine ran while the other was awaited"
        );
    });
}

#[test]
#[should_panic(expected = "LocalSet")]
fn outside_a_local_set_it_panics_as_tokio_does() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _enter = runtime.enter();
    drop(Builder::new().spawn_local(|| 1));
}
