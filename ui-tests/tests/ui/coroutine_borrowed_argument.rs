// Teaches: arguments must be owned: `&str` could dangle before the coroutine runs. Take a
// `String` (or `Vec<T>` for `&[T]`, `Arc<T>` to share).
#[corona::coroutine]
fn greet(name: &str) -> usize {
    name.len()
}

fn main() {}
