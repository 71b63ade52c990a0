//! `corona::scope`: children borrow, run concurrently with the body and with each other,
//! nest, and work wherever a coroutine runs (run, generator, Pool job, futures executor).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

use corona::prelude::*;
use corona::{co_await, Scope};
use corona_tests::{block_on_within_20s, panic_message};

#[test]
fn children_borrow_and_the_body_keeps_its_own_borrows() {
    corona::run(|| {
        let names = vec![String::from("alpha"), String::from("be")];
        let mut hits = 0;
        let total = corona::scope(|s| {
            let a = s.spawn(|| {
                co_await!(tokio::time::sleep(std::time::Duration::from_millis(10)));
                names[0].len()
            });
            let b = s.spawn(|| names[1].len());
            hits += 1;
            a.join() + b.join()
        });
        assert_eq!(total, 7);
        assert_eq!(hits, 1);
        assert_eq!(names, ["alpha", "be"]);
    });
}

#[test]
fn children_hand_values_to_each_other_and_to_the_body() {
    // A child waits for a sibling spawned after it, and the body waits for the second child:
    // each of them progressed while another waited.
    corona::run(|| {
        let (to_first, from_second) = tokio::sync::oneshot::channel::<u32>();
        let (to_body, from_first) = tokio::sync::oneshot::channel::<u32>();
        let order = RefCell::new(Vec::new());
        corona::scope(|s| {
            s.spawn(|| {
                order.borrow_mut().push("first waits");
                let got = co_await!(from_second).unwrap();
                order.borrow_mut().push("first got");
                to_body.send(got + 1).unwrap();
            });
            s.spawn(|| {
                order.borrow_mut().push("second sends");
                to_first.send(41).unwrap();
            });
            assert_eq!(co_await!(from_first).unwrap(), 42);
            order.borrow_mut().push("body got");
        });
        assert_eq!(
            *order.borrow(),
            ["first waits", "second sends", "first got", "body got"]
        );
    });
}

#[test]
fn children_start_no_later_than_the_next_wait_and_scope_waits_for_dropped_handles() {
    corona::run(|| {
        let started = Cell::new(0);
        let finished = Cell::new(0);
        corona::scope(|s| {
            for _ in 0..3 {
                // The handle is dropped at once: that detaches nothing.
                s.spawn(|| {
                    started.set(started.get() + 1);
                    corona::yield_now();
                    finished.set(finished.get() + 1);
                });
            }
            assert_eq!(started.get(), 0, "children wait for the body's first wait");
            corona::yield_now();
            assert_eq!(
                started.get(),
                3,
                "every child started at the body's first wait"
            );
        });
        assert_eq!(
            finished.get(),
            3,
            "scope returned before its children finished"
        );
    });
}

#[test]
fn join_and_is_finished() {
    corona::run(|| {
        corona::scope(|s| {
            let (tx, rx) = tokio::sync::oneshot::channel::<&str>();
            let waiting = s.spawn(|| co_await!(rx).unwrap());
            let quick = s.spawn(|| 5);
            assert!(!quick.is_finished());
            corona::yield_now();
            assert!(quick.is_finished());
            assert!(!waiting.is_finished());
            tx.send("sent").unwrap();
            assert_eq!(waiting.join(), "sent");
            assert_eq!(quick.join(), 5);
        });
    });
}

#[test]
fn two_thousand_children_wait_at_the_same_time() {
    corona::run(|| {
        let inputs: Vec<u64> = (0..2000).collect();
        let live = Cell::new(0);
        let most_live = Cell::new(0);
        let sum: u64 = corona::scope(|s| {
            let handles: Vec<_> = inputs
                .iter()
                .map(|n| {
                    let (live, most_live) = (&live, &most_live);
                    s.spawn(move || {
                        live.set(live.get() + 1);
                        most_live.set(most_live.get().max(live.get()));
                        corona::yield_now();
                        live.set(live.get() - 1);
                        n * 2
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join()).sum()
        });
        assert_eq!(sum, 2 * (0..2000).sum::<u64>());
        assert_eq!(
            most_live.get(),
            2000,
            "the children did not wait concurrently"
        );
    });
}

/// Spawns a binary tree of children, each spawning its own children through the scope.
fn spawn_tree<'scope>(s: &'scope Scope<'scope, '_>, depth: u32, nodes: &'scope Cell<u32>) {
    nodes.set(nodes.get() + 1);
    if depth > 0 {
        for _ in 0..2 {
            s.spawn(move || {
                corona::yield_now();
                spawn_tree(s, depth - 1, nodes);
            });
        }
    }
}

#[test]
fn children_spawn_children() {
    corona::run(|| {
        let nodes = Cell::new(0);
        corona::scope(|s| spawn_tree(s, 6, &nodes));
        assert_eq!(nodes.get(), (1 << 7) - 1);
    });
}

#[test]
fn scopes_nest_in_the_body_and_in_children() {
    corona::run(|| {
        let words = ["one", "three", "four"];
        let (tx, rx) = tokio::sync::oneshot::channel::<usize>();
        let total = corona::scope(|outer| {
            // An outer child the inner scope's body waits for: the inner scope's waits must
            // drive the outer scope's children too.
            outer.spawn(|| {
                corona::yield_now();
                tx.send(words[0].len()).unwrap();
            });
            let inner_sum = corona::scope(|inner| {
                let from_outer = inner.spawn(|| co_await!(rx).unwrap());
                // A scope inside a child.
                let nested = inner.spawn(|| {
                    corona::scope(|deep| {
                        let a = deep.spawn(|| words[1].len());
                        let b = deep.spawn(|| words[2].len());
                        a.join() + b.join()
                    })
                });
                from_outer.join() + nested.join()
            });
            inner_sum
        });
        assert_eq!(total, 3 + 5 + 4);
    });
}

#[test]
fn the_body_runs_on_the_enclosing_stack_and_children_on_their_own() {
    let enclosing = corona::Builder::new().stack_size(1 << 20).build(|| {
        let outside = corona::stack_usage().unwrap();
        corona::scope(|s| {
            let body = corona::stack_usage().unwrap();
            assert_eq!(
                body.range(),
                outside.range(),
                "the body ran on another stack"
            );
            let child = s.spawn(|| corona::stack_usage().unwrap()).join();
            assert_ne!(child.range(), outside.range());
            assert_eq!(child.size(), corona::DEFAULT_STACK_SIZE);
            let big = corona::Builder::new()
                .stack_size(2 << 20)
                .spawn_scoped(s, || corona::stack_usage().unwrap().size())
                .join();
            assert!(big >= 2 << 20, "spawn_scoped ignored the stack size: {big}");
        });
        outside.size()
    });
    assert!(futures::executor::block_on(enclosing) >= 1 << 20);
}

#[test]
fn a_generator_body_yields_from_the_scope_body_while_children_wait() {
    corona::run(|| {
        let gen = corona::generator(|y| {
            let words = ["a", "bb", "ccc"]; // on the generator's stack
            corona::scope(|s| {
                let handles: Vec<_> = words
                    .iter()
                    .map(|w| {
                        s.spawn(move || {
                            corona::yield_now();
                            w.len()
                        })
                    })
                    .collect();
                y.yield_(0);
                for h in handles {
                    y.yield_(h.join());
                }
            });
        });
        assert_eq!(gen.co_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    });
}

#[test]
fn a_scope_in_a_pool_job() {
    let pool = corona::Pool::new(2);
    let job = pool.spawn(|| {
        let lines = [String::from("x"), String::from("yy")];
        let worker = std::thread::current().id();
        corona::scope(|s| {
            let a = s.spawn(|| {
                co_await!(tokio::time::sleep(std::time::Duration::from_millis(1)));
                (lines[0].len(), std::thread::current().id())
            });
            let b = s.spawn(|| lines[1].len());
            let (a, thread) = a.join();
            assert_eq!(thread, worker, "a child left its worker thread");
            a + b.join()
        })
    });
    assert_eq!(block_on_within_20s(job).unwrap(), 3);
}

#[test]
fn a_scope_on_the_futures_executor_without_tokio() {
    let enclosing = corona::Coroutine::new(|| {
        let numbers = [1u32, 2, 3];
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        corona::scope(|s| {
            let waiter = s.spawn(|| co_await!(rx).unwrap() + numbers[0]);
            s.spawn(|| {
                corona::yield_now();
                tx.send(numbers[1] + numbers[2]).unwrap();
            });
            waiter.join()
        })
    });
    assert_eq!(futures::executor::block_on(enclosing), 6);
}

#[test]
fn outside_of_a_coroutine_it_panics_with_advice() {
    let payload = catch_unwind(|| corona::scope(|_| ())).unwrap_err();
    let message = panic_message(&*payload);
    assert!(message.contains("outside of a coroutine"), "{message}");
    assert!(message.contains("corona::run"), "{message}");
}

#[test]
fn a_scope_inside_a_poll_driven_by_co_await_panics_with_advice() {
    struct OpensAScope;
    impl std::future::Future for OpensAScope {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            corona::scope(|_| ());
            std::task::Poll::Ready(())
        }
    }
    let enclosing = corona::Coroutine::new(|| {
        let payload = catch_unwind(AssertUnwindSafe(|| co_await!(OpensAScope))).unwrap_err();
        panic_message(&*payload)
    });
    let message = futures::executor::block_on(enclosing);
    assert!(message.contains("inside the poll()"), "{message}");
}

#[test]
fn a_child_that_spawns_and_joins_a_grandchild_gets_it_started() {
    // Nothing but the grandchild's spawn can wake the enclosing coroutine here: the child
    // waits for the grandchild, and the body for the child.
    let depth = corona_tests::finish_within(std::time::Duration::from_secs(20), || {
        futures::executor::block_on(corona::Coroutine::new(|| {
            let base = 40;
            corona::scope(|s| {
                let child = s.spawn(|| s.spawn(|| base + 1).join() + 1);
                child.join()
            })
        }))
    });
    assert_eq!(depth, 42);
}

#[test]
fn after_a_nested_scope_ends_the_outer_scope_still_drives_its_children() {
    // `slow` needs three rounds; the inner scope ends after the first. The waits of the
    // outer body after that (the join, the end of the scope) must still run `slow`.
    let mut enclosing = corona::Coroutine::new(|| {
        corona::scope(|outer| {
            let slow = outer.spawn(|| {
                corona::yield_now();
                corona::yield_now();
                1
            });
            let inner_value = corona::scope(|inner| inner.spawn(|| 10).join());
            assert!(!slow.is_finished(), "slow finished within the inner scope");
            slow.join() + inner_value
        })
    });
    // A waker that does nothing: every poll must make the progress there is to make.
    let polled = corona_tests::poll_until_ready(&mut enclosing, std::task::Waker::noop());
    assert_eq!(
        polled,
        std::task::Poll::Ready(11),
        "the outer child stopped running"
    );
}
