//! `corona::scope` and panics: joined, unjoined, in the body.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use corona::co_await;
use corona_tests::{panic_message, DropCounter};

#[test]
fn join_resumes_the_child_panic_and_the_scope_then_returns() {
    corona::run(|| {
        let out = corona::scope(|s| {
            let failing = s.spawn(|| -> u32 { panic!("child failed") });
            let fine = s.spawn(|| 2);
            let payload = catch_unwind(AssertUnwindSafe(|| failing.join())).unwrap_err();
            assert_eq!(panic_message(&*payload), "child failed");
            fine.join()
        });
        assert_eq!(out, 2, "a joined panic must not come out of scope again");
    });
}

#[test]
fn an_unjoined_panic_comes_out_of_scope_after_the_other_children_finished() {
    corona::run(|| {
        let sibling_done = Cell::new(false);
        let payload = catch_unwind(AssertUnwindSafe(|| {
            corona::scope(|s| {
                s.spawn(|| panic!("nobody joined me"));
                s.spawn(|| {
                    for _ in 0..3 {
                        corona::yield_now();
                    }
                    sibling_done.set(true);
                });
            })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*payload), "nobody joined me");
        assert!(
            sibling_done.get(),
            "scope resumed the panic before the sibling finished"
        );
    });
}

#[test]
fn a_panic_of_the_body_cancels_every_unfinished_child() {
    corona::run(|| {
        let guards = DropCounter::new();
        let finished = Cell::new(0);
        let payload = catch_unwind(AssertUnwindSafe(|| {
            corona::scope(|s| {
                // Started and waiting when the body panics:
                for _ in 0..3 {
                    let guard = guards.guard();
                    s.spawn(|| {
                        let _guard = guard;
                        co_await!(futures::future::pending::<()>());
                        finished.set(finished.get() + 1);
                    });
                }
                corona::yield_now();
                // Never started: its captures are dropped.
                let guard = guards.guard();
                s.spawn(move || drop(guard));
                panic!("body failed");
            })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*payload), "body failed");
        assert_eq!(
            guards.dropped(),
            4,
            "every child's guard is dropped exactly once"
        );
        assert_eq!(finished.get(), 0);
    });
}

#[test]
fn a_child_panic_does_not_disturb_its_siblings_or_the_body() {
    corona::run(|| {
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let got = corona::scope(|s| {
            let failing = s.spawn(|| {
                corona::yield_now();
                panic!("child failed while a sibling waits")
            });
            let waiter = s.spawn(|| co_await!(rx).unwrap());
            let _ = catch_unwind(AssertUnwindSafe(|| failing.join())).unwrap_err();
            tx.send(7).unwrap();
            waiter.join()
        });
        assert_eq!(got, 7);
    });
}

/// A waker whose last drop calls `co_await!` on a future that is pending once.
struct AwaitsWhenDropped;

impl std::task::Wake for AwaitsWhenDropped {
    fn wake(self: std::sync::Arc<Self>) {}
}

impl Drop for AwaitsWhenDropped {
    fn drop(&mut self) {
        let mut pending_once = true;
        co_await!(std::future::poll_fn(|_| {
            if std::mem::take(&mut pending_once) {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        }));
    }
}

#[test]
fn waker_code_the_scope_runs_between_polls_cannot_suspend_the_enclosing_coroutine() {
    // While the body waits, the scope registers the poll's waker, which drops the one the
    // previous poll registered: user code on the enclosing coroutine's stack, while the scope
    // holds that poll's `Context`. Were it allowed to suspend, the scope would go on with
    // a `Context` a later poll replaced (freed here, as each poll's waker is dropped).
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let mut enclosing = corona::Coroutine::new(|| {
        corona::scope(|s| {
            // Waits without waking anyone, so the first poll's waker stays registered.
            s.spawn(|| co_await!(std::future::pending::<()>()));
            corona::yield_now();
            corona::yield_now(); // drives the child: registers the second poll's waker
        });
    });
    let mut poll_with = |waker: Waker| {
        let mut cx = Context::from_waker(&waker);
        catch_unwind(AssertUnwindSafe(|| {
            std::pin::Pin::new(&mut enclosing).poll(&mut cx)
        }))
    };
    let first = poll_with(Waker::from(std::sync::Arc::new(AwaitsWhenDropped)));
    assert!(matches!(first, Ok(Poll::Pending)));
    let payload = poll_with(Waker::noop().clone()).expect_err("the waker's wait must panic");
    let message = panic_message(&*payload);
    assert!(
        message.contains("co_await! was called from inside the poll()"),
        "{message}"
    );
}

#[test]
fn a_scope_in_a_destructor_runs_while_the_body_panics() {
    // Like `std::thread::scope` there: the children run on stacks of their own, so they need
    // not wait for anything. A refusal would be a panic during unwinding: a child process.
    corona_tests::run_in_child_process(
        "a_scope_in_a_destructor_runs_while_the_body_panics",
        || {
            struct SumsInScope(std::rc::Rc<Cell<Option<u32>>>);
            impl Drop for SumsInScope {
                fn drop(&mut self) {
                    let data = [1, 2, 3];
                    let sum = corona::scope(|s| {
                        let first = s.spawn(|| data[..2].iter().sum::<u32>());
                        let last = s.spawn(|| data[2]);
                        first.join() + last.join()
                    });
                    self.0.set(Some(sum));
                }
            }
            let sum = std::rc::Rc::new(Cell::new(None));
            let seen = sum.clone();
            let payload = catch_unwind(AssertUnwindSafe(|| {
                corona::run(move || {
                    let _sums = SumsInScope(seen);
                    panic!("the body panics");
                })
            }))
            .unwrap_err();
            assert_eq!(panic_message(&*payload), "the body panics");
            assert_eq!(sum.get(), Some(6));
        },
    );
}

#[test]
fn joining_a_child_whose_panic_already_left_the_scope_says_so() {
    // The unjoined panic of `failing` comes out of `scope`; as the scope ends, it drops the
    // output of `joins_later`, whose destructor joins `failing` only then.
    struct JoinsWhenDropped<'scope>(Option<corona::ScopedJoinHandle<'scope, ()>>);
    impl Drop for JoinsWhenDropped<'_> {
        fn drop(&mut self) {
            let handle = self.0.take().unwrap();
            let joined = catch_unwind(AssertUnwindSafe(|| handle.join()));
            JOIN_MESSAGE.set(panic_message(&*joined.unwrap_err()));
        }
    }
    thread_local! {
        static JOIN_MESSAGE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    corona::run(|| {
        let payload = catch_unwind(AssertUnwindSafe(|| {
            corona::scope(|s| {
                let failing = s.spawn(|| panic!("nobody joined me in time"));
                let _joins_later = s.spawn(move || JoinsWhenDropped(Some(failing)));
            })
        }))
        .unwrap_err();
        assert_eq!(panic_message(&*payload), "nobody joined me in time");
    });
    let message = JOIN_MESSAGE.take();
    assert!(
        message.contains("its panic came out of corona::scope instead"),
        "{message}"
    );
}

#[test]
fn joining_a_child_spawned_after_its_scope_ended_says_it_never_runs() {
    // As the scope ends, it drops `spawns_late`'s output, whose destructor spawns a child and
    // joins it. Nothing runs children past the end of the scope: the join must say so, not
    // wait for ever.
    struct SpawnsAndJoinsWhenDropped<'scope, 'env>(
        &'scope corona::Scope<'scope, 'env>,
        std::rc::Rc<std::cell::RefCell<String>>,
    );
    impl Drop for SpawnsAndJoinsWhenDropped<'_, '_> {
        fn drop(&mut self) {
            let late = self.0.spawn(|| 5);
            let joined = catch_unwind(AssertUnwindSafe(|| late.join()));
            *self.1.borrow_mut() = match joined {
                Ok(value) => format!("joined {value}"),
                Err(payload) => panic_message(&*payload),
            };
        }
    }
    let message = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let seen = message.clone();
    let mut enclosing = corona::Coroutine::new(move || {
        corona::scope(|s| {
            s.spawn(move || SpawnsAndJoinsWhenDropped(s, seen));
        });
    });
    let polled = corona_tests::poll_until_ready(&mut enclosing, std::task::Waker::noop());
    assert!(
        polled.is_ready(),
        "the join waited for a child that never runs"
    );
    let message = message.take();
    assert!(
        message.contains("spawned after its scope ended") && message.contains("never runs"),
        "{message}"
    );
}

#[test]
fn a_waker_that_panics_as_the_scope_drives_its_children_loses_no_child() {
    // In the second round, `first` finishes and wakes `joins_first`, which wakes the
    // enclosing coroutine: that waker panics. The panic comes out of the body's wait; `last`,
    // ready in the same round after `first`, must still run, and `first` count as finished.
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};
    static ARMED: AtomicBool = AtomicBool::new(false);
    struct PanicsWhenArmed;
    impl Wake for PanicsWhenArmed {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            if ARMED.swap(false, Ordering::Relaxed) {
                panic!("the waker panics");
            }
        }
    }
    let mut enclosing = corona::Coroutine::new(|| {
        corona::scope(|s| {
            let first = s.spawn(|| {
                corona::yield_now();
                ARMED.store(true, Ordering::Relaxed);
                1
            });
            let joins_first = s.spawn(move || first.join() * 10);
            let last = s.spawn(|| {
                corona::yield_now();
                corona::yield_now();
                100
            });
            corona::yield_now(); // round 1: each child runs once
            let caught = catch_unwind(AssertUnwindSafe(corona::yield_now)); // round 2
            assert_eq!(panic_message(&*caught.unwrap_err()), "the waker panics");
            joins_first.join() + last.join()
        })
    });
    let waker = Waker::from(Arc::new(PanicsWhenArmed));
    let polled = corona_tests::poll_until_ready(&mut enclosing, &waker);
    assert_eq!(polled, std::task::Poll::Ready(110));
}
