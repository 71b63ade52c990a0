// Teaches: a coroutine's call returns `Coroutine<T>`, and stable Rust does not take `!` as
// `T`: a coroutine that never returns declares `-> Infallible`. Its callers still compile
// against `Coroutine<Infallible>`, so the one error is the one that says what to fix.
#[corona::coroutine]
fn serve_forever() -> ! {
    loop {
        corona::yield_now();
    }
}

fn main() {
    let coroutine: corona::Coroutine<std::convert::Infallible> = serve_forever();
    drop(coroutine);
}
