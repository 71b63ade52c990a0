//! Compile-fail documentation: every case in `tests/ui/` is a mistake a user will make, with
//! the exact message they get in the `.stderr` beside it.
//!
//! After changing a message, regenerate with `TRYBUILD=overwrite cargo test -p ui-tests` and
//! review every changed `.stderr` before committing it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
