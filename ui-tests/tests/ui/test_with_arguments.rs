// Teaches: a #[corona::test] function takes no arguments, like any #[test].
#[corona::test]
fn reads(input: String) {
    drop(input);
}

fn main() {}
