// Teaches: an `impl Trait` argument moves into the coroutine's 'static body, so it needs
// `+ 'static`; the error points at the argument's type.
#[corona::coroutine]
fn show(value: impl std::fmt::Debug) -> String {
    format!("{value:?}")
}

fn main() {}
