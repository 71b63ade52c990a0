// Teaches: the options of #[corona::coroutine] are `stack_size = <bytes>` and `crate = <path>`.
#[corona::coroutine(stacksize = 65536)]
fn work() {}

fn main() {}
