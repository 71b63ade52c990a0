// Teaches: a generic argument moves into the coroutine's 'static body, so its type parameter
// needs `T: 'static`; the error points at the parameter and says what to write.
#[corona::coroutine]
fn show<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

fn main() {}
