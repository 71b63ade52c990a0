// Teaches: import-and-use `#[coroutine]` clashes with rustc's built-in `#[coroutine]`
// attribute (E0659). Write the path form `#[corona::coroutine]` instead.
use corona::coroutine;

#[coroutine]
fn fetch() -> u32 {
    1
}

fn main() {
    let _ = fetch();
}
