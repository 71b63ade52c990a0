//! `corona::scope` when the enclosing coroutine goes away: dropped (the children are unwound
//! first), or leaked (what the children borrow stays valid for ever).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use corona::{co_await, Coroutine};
use corona_tests::DropCounter;

type Log = Rc<RefCell<Vec<String>>>;

/// Logs its name when dropped.
struct Named(&'static str, Log);

impl Drop for Named {
    fn drop(&mut self) {
        self.1.borrow_mut().push(format!("{} dropped", self.0));
    }
}

/// On a child's stack: reads a local of the enclosing coroutine when dropped.
struct ReadsOnDrop<'a>(usize, &'a Named);

impl Drop for ReadsOnDrop<'_> {
    fn drop(&mut self) {
        let line = format!("child {} read {}", self.0, self.1 .0);
        self.1 .1.borrow_mut().push(line);
    }
}

/// Polls `c` once with a waker that does nothing; it must be pending.
fn poll_once<T>(c: &mut Coroutine<T>) {
    let waker = futures::task::noop_waker();
    let polled = Pin::new(c).poll(&mut Context::from_waker(&waker));
    assert!(
        matches!(polled, Poll::Pending),
        "the coroutine did not wait"
    );
}

#[test]
fn dropping_the_enclosing_coroutine_unwinds_the_children_before_the_borrowed_locals() {
    let log = Log::default();
    let guards = DropCounter::new();
    let (log_inside, guards_inside) = (log.clone(), guards.clone());
    let mut enclosing = Coroutine::new(move || {
        let local = Named("local", log_inside.clone());
        corona::scope(|s| {
            for i in 0..3 {
                let guard = guards_inside.guard();
                let local = &local;
                let handle = s.spawn(move || {
                    let _guard = guard;
                    let _reader = ReadsOnDrop(i, local);
                    co_await!(futures::future::pending::<()>())
                });
                if i == 1 {
                    // A leaked handle must not keep the child (and its borrows) alive.
                    std::mem::forget(handle);
                }
            }
            co_await!(futures::future::pending::<()>())
        });
    });
    poll_once(&mut enclosing);
    assert!(log.borrow().is_empty());
    drop(enclosing);
    assert_eq!(
        guards.dropped(),
        3,
        "every child's guard is dropped exactly once"
    );
    assert_eq!(
        *log.borrow(),
        [
            "child 2 read local",
            "child 1 read local",
            "child 0 read local",
            "local dropped"
        ]
    );
}

#[test]
fn a_leaked_enclosing_coroutine_keeps_what_its_children_borrow_valid() {
    // A child suspends inside `std::thread::scope`, whose thread reads a `String` and an
    // array on the enclosing coroutine's stack. The enclosing coroutine is leaked; then
    // thousands of coroutines churn this thread's stack pool, scribbling on every stack they
    // get. If the leaked stack were reused, the thread would read garbage (or, under ASan and
    // valgrind, a use after free).
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let (report, reported) = std::sync::mpsc::channel::<String>();
    let mut enclosing = Coroutine::new(move || {
        let text = String::from("borrowed from the enclosing stack");
        let on_stack = *b"bytes on the enclosing stack";
        corona::scope(|s| {
            let (text, on_stack) = (&text, &on_stack);
            s.spawn(move || {
                std::thread::scope(|threads| {
                    threads.spawn(move || {
                        wait_for_go.recv().unwrap();
                        let seen = format!("{text} / {}", String::from_utf8_lossy(on_stack));
                        report.send(seen).unwrap();
                    });
                    co_await!(futures::future::pending::<()>());
                });
            });
        });
    });
    poll_once(&mut enclosing);
    std::mem::forget(enclosing);

    for round in 0..4_000u32 {
        let scribbler = Coroutine::new(move || {
            let junk = std::hint::black_box([round as u8; 32 * 1024]);
            corona::yield_now();
            junk[round as usize % junk.len()]
        });
        assert_eq!(futures::executor::block_on(scribbler), round as u8);
    }
    // And children of new scopes, which take stacks from the same pool.
    futures::executor::block_on(Coroutine::new(|| {
        corona::scope(|s| {
            for i in 0..1_000u32 {
                s.spawn(move || std::hint::black_box([i as u8; 32 * 1024])[7]);
            }
        })
    }));

    go.send(()).unwrap();
    let seen = reported.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(
        seen,
        "borrowed from the enclosing stack / bytes on the enclosing stack"
    );
}

/// On a child's stack: spawns another child from its destructor, while the scope unwinds.
struct SpawnsOnDrop<'scope, 'env>(&'scope corona::Scope<'scope, 'env>, DropCounter);

impl Drop for SpawnsOnDrop<'_, '_> {
    fn drop(&mut self) {
        let guard = self.1.guard();
        self.0.spawn(move || drop(guard));
    }
}

#[test]
fn a_child_spawned_by_a_destructor_while_the_scope_unwinds_is_cancelled_too() {
    let guards = DropCounter::new();
    let guards_inside = guards.clone();
    let mut enclosing = Coroutine::new(move || {
        corona::scope(|s| {
            let guards = guards_inside.clone();
            s.spawn(move || {
                let _spawns = SpawnsOnDrop(s, guards);
                co_await!(futures::future::pending::<()>())
            });
            co_await!(futures::future::pending::<()>())
        });
    });
    poll_once(&mut enclosing);
    drop(enclosing);
    assert_eq!(
        guards.dropped(),
        1,
        "the late child's captures were not dropped"
    );
}

/// Opens a scope in its destructor.
struct ScopeOnDrop(Rc<RefCell<String>>);

impl Drop for ScopeOnDrop {
    fn drop(&mut self) {
        let caught = std::panic::catch_unwind(|| corona::scope(|_| ())).unwrap_err();
        *self.0.borrow_mut() = corona_tests::panic_message(&*caught);
    }
}

#[test]
fn a_scope_in_a_destructor_of_a_dropped_coroutine_says_it_cannot_wait() {
    let message = Rc::new(RefCell::new(String::new()));
    let inside = message.clone();
    let mut enclosing = Coroutine::new(move || {
        let _on_drop = ScopeOnDrop(inside);
        co_await!(futures::future::pending::<()>())
    });
    poll_once(&mut enclosing);
    drop(enclosing);
    let message = message.borrow();
    assert!(message.contains("being dropped"), "{message}");
}
