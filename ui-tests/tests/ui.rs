//! Compile-fail cases: each file in `tests/ui` shows a mistake and the message it gets.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
