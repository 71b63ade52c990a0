// Teaches: a generic argument moves into the coroutine's 'static body, so it needs
// `T: 'static` (rustc says where to add it).
#[corona::coroutine]
fn show<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

fn main() {}
