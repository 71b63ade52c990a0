// Teaches: a misspelt option is reported on the option, and callers of the function still see
// `-> Coroutine<T>`, so there is no second error at the call.
#[corona::coroutine(stack_sise = 65536)]
fn work(n: u32) -> u32 {
    n + 1
}

fn main() {
    let coroutine: corona::Coroutine<u32> = work(1);
    drop(coroutine);
}
