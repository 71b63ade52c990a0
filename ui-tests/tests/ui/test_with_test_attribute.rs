// Teaches: #[corona::test] registers the test itself; a #[test] beside it would run it twice.
// (A #[test] written above #[corona::test] cannot be seen by the macro: don't write one there
// either.)
#[corona::test]
#[test]
fn sleeps() {
    corona::co_await!(tokio::time::sleep(std::time::Duration::from_millis(1)));
}

fn main() {}
