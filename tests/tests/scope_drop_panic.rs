//! `corona::scope` ending while a destructor it runs there panics or is cancelled: every child
//! is still dropped once, and the children that destructors spawn meanwhile are dropped too.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use corona::Scope;
use corona_tests::panic_message;

/// Adds one to its counter when dropped.
struct Counted<'a>(&'a Cell<usize>);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A child's output that panics when the scope drops it (it is never joined).
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("output dropped");
    }
}

/// A child's output that spawns more children into its scope when dropped, counting them.
struct SpawnOnDrop<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    spawned: &'env Cell<usize>,
    dropped: &'env Cell<usize>,
}

impl Drop for SpawnOnDrop<'_, '_> {
    fn drop(&mut self) {
        for _ in 0..64 {
            let guard = Counted(self.dropped);
            self.spawned.set(self.spawned.get() + 1);
            self.scope.spawn(move || drop(guard));
        }
    }
}

/// Spawns two children whose outputs, never joined, spawn 64 children each when the scope
/// drops them; `outputs` counts the outputs dropped.
fn spawn_two_that_spawn_on_drop<'scope, 'env>(
    s: &'scope Scope<'scope, 'env>,
    spawned: &'env Cell<usize>,
    dropped: &'env Cell<usize>,
    outputs: &'env Cell<usize>,
) {
    for _ in 0..2 {
        s.spawn(move || {
            let out = SpawnOnDrop {
                scope: s,
                spawned,
                dropped,
            };
            (out, Counted(outputs))
        });
    }
}

/// The scope ends normally; dropping the unjoined outputs, the newest first, panics at the
/// first one. The outputs left must still be dropped, each once, and the children their
/// destructors spawn (which never run) must be dropped as well: before the fix the children
/// were left inside a `Vec` being dropped, into which those destructors pushed (valgrind:
/// "Invalid read" once the push reallocated it), and the pushed ones were leaked.
#[test]
fn a_panicking_output_destructor_still_drops_every_child_once() {
    let spawned = Cell::new(0);
    let dropped = Cell::new(0);
    let outputs_dropped = Cell::new(0);
    corona::run(|| {
        let payload = catch_unwind(AssertUnwindSafe(|| {
            corona::scope(|s| {
                let (spawned, dropped, outputs) = (&spawned, &dropped, &outputs_dropped);
                spawn_two_that_spawn_on_drop(s, spawned, dropped, outputs);
                s.spawn(|| PanicOnDrop);
            })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*payload), "output dropped");
    });
    assert_eq!(
        outputs_dropped.get(),
        2,
        "each unjoined output is dropped once"
    );
    assert_eq!(spawned.get(), 128, "both outputs ran their destructor");
    assert_eq!(
        dropped.get(),
        spawned.get(),
        "every child spawned while the scope ended is dropped"
    );
}

/// A child's output that yields an item of its generator when the scope drops it.
struct YieldOnDrop<'y>(&'y corona::Yielder<u32>);

impl Drop for YieldOnDrop<'_> {
    fn drop(&mut self) {
        self.0.yield_(7);
    }
}

/// The same without a panicking destructor: a generator's scope ends, an output's destructor
/// yields from there (the body runs on the generator's stack), and the consumer drops the
/// generator at that item. Its cancellation unwinds out of the destructor, and the outputs
/// left (which spawn as they drop) must still be dropped once each, with what they spawn.
#[test]
fn a_generator_dropped_at_a_yield_in_an_output_destructor_drops_every_child_once() {
    use futures::StreamExt;

    let counts = Rc::new([Cell::new(0), Cell::new(0), Cell::new(0)]);
    let in_body = Rc::clone(&counts);
    let mut items = corona::generator(move |y: &corona::Yielder<u32>| {
        let [spawned, dropped, outputs] = &*in_body;
        corona::scope(|s| {
            spawn_two_that_spawn_on_drop(s, spawned, dropped, outputs);
            s.spawn(move || YieldOnDrop(y));
        });
    });
    let first = futures::executor::block_on(items.next());
    assert_eq!(first, Some(7), "the destructor yielded");
    drop(items);
    let [spawned, dropped, outputs] = &*counts;
    assert_eq!(outputs.get(), 2, "each unjoined output is dropped once");
    assert_eq!(spawned.get(), 128, "both outputs ran their destructor");
    assert_eq!(
        dropped.get(),
        spawned.get(),
        "every child spawned while the generator unwound is dropped"
    );
}
