// Teaches: a rejected coroutine keeps its declared signature (`-> Coroutine<T>`), so its
// callers compile and the one error is the one that says what to fix.
#[corona::coroutine]
async fn fetch(id: u32) -> u32 {
    id
}

fn main() {
    let coroutine: corona::Coroutine<u32> = fetch(7);
    drop(coroutine);
}
