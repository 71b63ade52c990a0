//! Compile-fail documentation: every case in `tests/ui/` is a mistake a user will make, with
//! the exact message they get in the `.stderr` beside it.
//!
//! After changing a message, regenerate with `TRYBUILD=overwrite cargo test -p ui-tests` and
//! review every changed `.stderr` before committing it. To move the cases to a new compiler,
//! regenerate under it with `-- --include-ignored` added, review, and name its version in the
//! attribute below and in the README's Testing section.

// The `.stderr` files hold rustc 1.95's words, and other compilers word the same errors a
// little differently: under them this case is reported ignored, so `cargo test` passes for a
// user on any toolchain. CI runs it with `--include-ignored`, where a new compiler shows the
// diff to review.
#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are rustc 1.95's messages; run with --include-ignored to compare"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
