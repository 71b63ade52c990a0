// Teaches: `stack_size` is a number of bytes, a `usize` expression.
#[corona::coroutine(stack_size = "64k")]
fn work() {}

fn main() {}
