//! What `#[corona::coroutine]` accepts and what its expansion does.

use std::cell::Cell;
use std::rc::Rc;

use corona::{co_await, Coroutine};
use corona_tests::{DropCounter, Guard};
use futures::executor::block_on;

#[corona::coroutine]
fn add(a: u32, b: u32) -> u32 {
    co_await!(async move { a + b })
}

#[test]
fn a_free_fn_returns_a_coroutine_of_its_return_type() {
    let c: Coroutine<u32> = add(1, 2);
    assert_eq!(block_on(c), 3);
}

#[corona::coroutine]
fn record(ran: Rc<Cell<bool>>) {
    ran.set(true);
}

#[test]
fn calling_runs_nothing_until_polled() {
    let ran = Rc::new(Cell::new(false));
    let c: Coroutine<()> = record(ran.clone());
    assert!(!ran.get());
    block_on(c);
    assert!(ran.get());
}

#[corona::coroutine]
fn keeps_unused_argument(_guard: Guard, seen_by: Rc<Cell<usize>>, drops: DropCounter) {
    corona::yield_now();
    // `_guard` is never named, yet it lives until the body ends, as with `async fn`.
    seen_by.set(drops.dropped());
}

#[test]
fn every_argument_moves_in_and_lives_until_the_body_ends() {
    let drops = DropCounter::new();
    let seen = Rc::new(Cell::new(usize::MAX));
    let c = keeps_unused_argument(drops.guard(), seen.clone(), drops.clone());
    assert_eq!(drops.dropped(), 0);
    block_on(c);
    assert_eq!(seen.get(), 0, "the guard was still alive inside the body");
    assert_eq!(drops.dropped(), 1);
}

/// Patterns that bind nothing (`_`) or only part of the value (`(kept, _)`, `Pair { a, .. }`).
struct Pair {
    a: Guard,
    _b: Guard,
}

#[corona::coroutine]
fn keeps_unbound_parts(
    _: Guard,
    (kept, _): (Guard, Guard),
    Pair { a, .. }: Pair,
    seen_by: Rc<Cell<usize>>,
    drops: DropCounter,
) {
    corona::yield_now();
    drop((kept, a));
    // Only the two named guards are gone: the parts no pattern binds live on.
    seen_by.set(drops.dropped());
}

#[test]
fn unbound_parts_of_arguments_live_until_the_body_ends() {
    let drops = DropCounter::new();
    let seen = Rc::new(Cell::new(usize::MAX));
    let c = keeps_unbound_parts(
        drops.guard(),
        (drops.guard(), drops.guard()),
        Pair {
            a: drops.guard(),
            _b: drops.guard(),
        },
        seen.clone(),
        drops.clone(),
    );
    assert_eq!(drops.dropped(), 0, "the call dropped an argument");
    block_on(c);
    assert_eq!(
        seen.get(),
        2,
        "an unbound part was dropped before the body ended"
    );
    assert_eq!(drops.dropped(), 5);
}

#[corona::coroutine]
fn patterns((a, b): (u32, u32), mut count: u32, [x, y]: [u8; 2]) -> u32 {
    count += 1;
    a * b + count + u32::from(x + y)
}

#[test]
fn argument_patterns_and_mut_bindings_work() {
    assert_eq!(block_on(patterns((3, 4), 1, [1, 2])), 12 + 2 + 3);
}

#[corona::coroutine]
fn ref_mut_patterns(ref mut count: u32, (ref mut a, b): (u32, u32)) -> u32 {
    *count += 1;
    *a += b;
    *count + *a
}

#[test]
fn ref_mut_argument_patterns_work() {
    assert_eq!(block_on(ref_mut_patterns(1, (10, 5))), 2 + 15);
}

thread_local!(static UNIT_DROPS: Cell<u32> = const { Cell::new(0) });

fn unit_drops() -> u32 {
    UNIT_DROPS.with(Cell::get)
}

/// A unit struct, so that an argument pattern `Unit` names it rather than binds a variable.
#[derive(PartialEq, Eq)]
struct Unit;

impl Drop for Unit {
    fn drop(&mut self) {
        UNIT_DROPS.with(|drops| drops.set(drops.get() + 1));
    }
}

const UNIT: Unit = Unit;

/// Argument patterns that name a unit struct and a constant: they bind nothing, yet the
/// values move in, as in a plain fn.
#[corona::coroutine]
#[allow(non_snake_case)]
fn unit_patterns(Unit: Unit, UNIT: Unit, N: u32) -> (u32, u32) {
    corona::yield_now();
    // `N` starts like a constant yet is a binding: it still binds.
    (unit_drops(), N)
}

#[test]
fn unit_struct_and_const_patterns_move_the_argument_in() {
    let c = unit_patterns(Unit, Unit, 7);
    assert_eq!(unit_drops(), 0, "the arguments were dropped by the call");
    assert_eq!(block_on(c), (0, 7), "the body built or dropped a unit");
    assert_eq!(unit_drops(), 2, "each argument dropped once, at the end");
}

#[corona::coroutine]
fn parse_later(text: String) -> Result<u32, std::num::ParseIntError> {
    corona::yield_now();
    let n: u32 = text.trim().parse()?;
    if n == 0 {
        return Ok(100);
    }
    Ok(n * 2)
}

#[test]
fn question_mark_and_early_return_work() {
    assert_eq!(block_on(parse_later(" 21 ".into())), Ok(42));
    assert_eq!(block_on(parse_later("0".into())), Ok(100));
    assert!(block_on(parse_later("x".into())).is_err());
}

#[corona::coroutine]
fn opaque(n: u32) -> impl std::fmt::Debug {
    corona::yield_now();
    n * 2
}

#[corona::coroutine]
fn opaque_inside(text: String) -> Result<impl Iterator<Item = u32>, std::num::ParseIntError> {
    corona::yield_now();
    let n: u32 = text.parse()?;
    if n == 0 {
        return Ok(vec![0].into_iter());
    }
    Ok(vec![n, n + 1].into_iter())
}

#[corona::main]
fn main_returning_impl_trait() -> impl std::process::Termination {
    corona::yield_now();
}

#[test]
fn impl_trait_return_types_work() {
    assert_eq!(format!("{:?}", block_on(opaque(21))), "42");
    let numbers: Vec<u32> = block_on(opaque_inside("7".into())).unwrap().collect();
    assert_eq!(numbers, [7, 8]);
    assert_eq!(block_on(opaque_inside("0".into())).unwrap().count(), 1);
    assert!(block_on(opaque_inside("x".into())).is_err());
    let _ = main_returning_impl_trait();
}

/// What a coroutine that never returns declares (`-> !` is refused with this advice).
#[corona::coroutine]
fn serve_forever(rounds: Rc<Cell<u32>>) -> std::convert::Infallible {
    loop {
        rounds.set(rounds.get() + 1);
        corona::yield_now();
    }
}

#[test]
fn a_coroutine_that_never_returns_declares_infallible() {
    use futures::FutureExt;
    let rounds = Rc::new(Cell::new(0));
    let mut c: Coroutine<std::convert::Infallible> = serve_forever(rounds.clone());
    for _ in 0..3 {
        assert!((&mut c).now_or_never().is_none());
    }
    assert_eq!(rounds.get(), 3);
}

/// `-> !` on `#[corona::main]` is what it is on a plain `fn main`.
#[corona::main]
fn main_that_never_returns() -> ! {
    assert!(corona::in_coroutine());
    panic!("main never returns");
}

#[test]
#[should_panic(expected = "main never returns")]
fn corona_main_may_return_never() {
    main_that_never_returns();
}

#[corona::coroutine]
fn generic<T, U>(items: Vec<T>, f: U) -> Vec<String>
where
    T: std::fmt::Display + 'static,
    U: Fn(&T) -> bool + 'static,
{
    corona::yield_now();
    items.iter().filter(|t| f(t)).map(T::to_string).collect()
}

#[test]
fn generics_and_where_clauses_work() {
    let out = block_on(generic(vec![1, 2, 3, 4], |n: &i32| n % 2 == 0));
    assert_eq!(out, ["2", "4"]);
}

/// Lifetimes bound by `for<'a>` are higher-ranked: the argument itself borrows nothing.
#[corona::coroutine]
fn higher_ranked(
    boxed: Box<dyn for<'a> Fn(&'a str) -> &'a str>,
    inline: impl for<'a> Fn(&'a str) -> &'a str + 'static,
    value: impl for<'de> serde::Deserialize<'de> + serde::Serialize + 'static,
) -> String {
    corona::yield_now();
    let json = serde_json::to_string(&value).unwrap();
    format!("{}{}{json}", boxed("a"), inline("b"))
}

#[test]
fn higher_ranked_lifetimes_are_not_borrows() {
    let out = higher_ranked(Box::new(|s| s), |s: &str| s, vec![1u8, 2]);
    assert_eq!(block_on(out), "ab[1,2]");
}

struct Counter {
    start: u32,
}

impl Counter {
    #[corona::coroutine]
    fn by_value(self, add: u32) -> u32 {
        corona::yield_now();
        self.start + add
    }

    #[corona::coroutine]
    fn boxed(self: Box<Self>) -> u32 {
        corona::yield_now();
        self.start * 2
    }

    #[corona::coroutine]
    fn shared(self: Rc<Self>) -> u32 {
        corona::yield_now();
        self.start * 3
    }

    #[corona::coroutine]
    fn make(start: u32) -> Self {
        Self { start }
    }

    /// A `'static` borrow outlives the coroutine, as `self: &'static Self` does.
    #[corona::coroutine]
    fn forever(&'static self) -> u32 {
        corona::yield_now();
        self.start * 4
    }
}

static COUNTER: Counter = Counter { start: 10 };

#[test]
fn methods_take_self_box_rc_and_static_ref() {
    assert_eq!(block_on(Counter { start: 1 }.by_value(2)), 3);
    assert_eq!(block_on(Box::new(Counter { start: 5 }).boxed()), 10);
    let rc = Rc::new(Counter { start: 7 });
    assert_eq!(block_on(rc.clone().shared()), 21);
    assert_eq!(Rc::strong_count(&rc), 1, "the coroutine dropped its Rc");
    assert_eq!(block_on(Counter::make(4)).start, 4);
    assert_eq!(block_on(COUNTER.forever()), 40);
}

/// Documented, and marked `#[must_use]`: attributes are kept.
#[corona::coroutine]
#[must_use]
#[allow(clippy::let_and_return)]
fn with_attributes() -> &'static str {
    let s = "kept";
    s
}

/// Lint levels reach the body: without the `allow` on the function, the module's `deny`
/// would reject `unused` and this file would not build.
mod lint_levels {
    #![deny(unused_variables)]

    #[corona::coroutine]
    #[allow(unused_variables)]
    pub fn allowed_unused_variable() -> u8 {
        let unused = 1;
        2
    }
}

/// Attributes on arguments work as on any function: `cfg` removes the argument, and a lint
/// level reaches its binding in the body (without the `allow`s, the module's `deny` would
/// reject `unused` and this file would not build; an `expect` must be fulfilled, once).
mod argument_attributes {
    #![deny(unused_variables, unfulfilled_lint_expectations)]

    #[corona::coroutine]
    pub fn cfg_removes(#[cfg(any())] removed: u32, #[cfg(not(any()))] kept: u32) -> u32 {
        kept
    }

    #[corona::coroutine]
    pub fn allow_reaches_the_binding(
        #[allow(unused_variables)] unused: u32,
        #[allow(unused_variables)] (unused_too, used): (u32, u32),
        #[expect(unused_variables)] expected_unused: u32,
    ) -> u32 {
        used
    }
}

/// Inner attributes in the body apply to the whole function, as on any function: without
/// them, the module's `deny` would reject `unused` and this file would not build.
mod inner_attributes {
    #![deny(unused_variables)]

    #[corona::coroutine]
    pub fn coroutine() -> u8 {
        //! An inner doc comment is an inner attribute too.
        #![allow(unused_variables)]
        let unused = 1;
        3
    }

    #[corona::main]
    pub fn main_like() -> u8 {
        #![allow(unused_variables)]
        let unused = 1;
        4
    }

    #[corona::test]
    fn corona_test_with_an_inner_attribute() {
        #![allow(unused_variables)]
        let unused = 1;
    }
}

/// `cfg` works as on any function (the compiler applies it before the macro runs).
#[corona::coroutine]
#[cfg(not(any()))]
fn picked_by_cfg() -> &'static str {
    "enabled"
}

#[corona::coroutine]
#[cfg(any())]
fn picked_by_cfg() -> &'static str {
    "disabled"
}

#[test]
fn attributes_on_the_fn_are_kept() {
    assert_eq!(block_on(with_attributes()), "kept");
    assert_eq!(block_on(lint_levels::allowed_unused_variable()), 2);
    assert_eq!(block_on(inner_attributes::coroutine()), 3);
    assert_eq!(inner_attributes::main_like(), 4);
    assert_eq!(block_on(argument_attributes::cfg_removes(5)), 5);
    let allowed = argument_attributes::allow_reaches_the_binding(1, (2, 6), 3);
    assert_eq!(block_on(allowed), 6);
    assert_eq!(block_on(picked_by_cfg()), "enabled");
}

mod renamed {
    pub use corona as my_corona;
}

#[corona::coroutine(crate = renamed::my_corona, stack_size = 64 * 1024)]
fn via_renamed_crate() -> u8 {
    9
}

/// A stand-in for corona that records the coroutines and runs made through it, so that a test
/// sees that the expansion went through the path the `crate` option names.
mod counting {
    use std::cell::Cell;

    thread_local! {
        /// How many coroutines were made through this path on this thread.
        pub static CALLS: Cell<u32> = const { Cell::new(0) };
        /// Whether a `run` made through this path is running on this thread.
        pub static IN_RUN: Cell<bool> = const { Cell::new(false) };
    }

    pub use corona::Coroutine;

    pub mod __private {
        pub use corona::__private::DEFAULT_STACK_SIZE;

        pub fn coroutine<F, T>(stack_size: usize, body: F) -> corona::Coroutine<T>
        where
            F: FnOnce() -> T + 'static,
            T: 'static,
        {
            super::CALLS.with(|calls| calls.set(calls.get() + 1));
            corona::__private::coroutine(stack_size, body)
        }

        pub fn run<T>(body: impl FnOnce() -> T) -> T {
            super::IN_RUN.with(|in_run| in_run.set(true));
            let output = corona::__private::run(body);
            super::IN_RUN.with(|in_run| in_run.set(false));
            output
        }
    }
}

/// The string form, as tokio and serde spell their `crate` option.
#[corona::coroutine(crate = "counting")]
fn via_crate_in_a_string() -> u8 {
    10
}

#[test]
fn crate_option_names_where_corona_is() {
    assert_eq!(block_on(via_renamed_crate()), 9);
    let before = counting::CALLS.with(|calls| calls.get());
    assert_eq!(block_on(via_crate_in_a_string()), 10);
    assert_eq!(counting::CALLS.with(|calls| calls.get()), before + 1);
}

#[corona::test(crate = counting)]
fn corona_test_takes_the_crate_option() {
    assert!(counting::IN_RUN.with(|in_run| in_run.get()));
}

#[corona::test(crate = "counting")]
fn corona_test_takes_the_crate_option_in_a_string() {
    assert!(counting::IN_RUN.with(|in_run| in_run.get()));
}

/// `stack_size` is evaluated at each call, where the arguments exist: it may read them.
#[corona::coroutine(stack_size = kib * 1024)]
fn sized_by_argument(kib: usize) -> usize {
    corona::stack_usage().unwrap().size()
}

#[test]
fn stack_size_may_read_the_arguments() {
    for kib in [64, 256] {
        let expected = block_on(
            corona::Builder::new()
                .stack_size(kib * 1024)
                .build(|| corona::stack_usage().unwrap().size()),
        );
        assert_eq!(block_on(sized_by_argument(kib)), expected, "{kib} KiB");
    }
}

/// Generated code names everything by absolute path: a user's type named like a primitive
/// does not reach it.
mod shadowed_primitive {
    #[allow(non_camel_case_types, dead_code)]
    struct usize;

    #[corona::coroutine]
    pub fn default_stack() -> u8 {
        1
    }

    #[corona::coroutine(stack_size = 64 * 1024)]
    pub fn given_stack() -> u8 {
        2
    }
}

#[test]
fn a_type_named_usize_does_not_break_the_expansion() {
    assert_eq!(block_on(shadowed_primitive::default_stack()), 1);
    assert_eq!(block_on(shadowed_primitive::given_stack()), 2);
}

#[corona::coroutine]
fn spawned_by_macro(n: u64) -> u64 {
    co_await!(tokio::time::sleep(std::time::Duration::from_millis(1)));
    n + 1
}

#[corona::test]
fn corona_test_runs_the_body_as_a_coroutine() {
    assert!(corona::in_coroutine());
    let handle = corona::spawn_local(|| co_await!(spawned_by_macro(1)));
    assert_eq!(co_await!(handle).unwrap(), 2);
}

#[corona::test]
fn corona_test_may_return_a_result() -> Result<(), String> {
    corona::yield_now();
    Ok(())
}

#[corona::test]
fn corona_test_fails_when_the_body_returns_err() -> Result<(), String> {
    const NAME: &str = "corona_test_fails_when_the_body_returns_err";
    corona::yield_now();
    if corona_tests::is_child(NAME) {
        return Err(String::from("the body's error"));
    }
    let out = corona_tests::run_child(NAME, &[]);
    let report = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an Err passed: {report}");
    assert!(report.contains("the body's error"), "{report}");
    assert!(report.contains("1 failed"), "{report}");
    Ok(())
}

#[corona::test]
#[should_panic(expected = "expected failure")]
fn corona_test_keeps_should_panic() {
    corona::yield_now();
    panic!("expected failure");
}
