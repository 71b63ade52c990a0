// Teaches: a coroutine is a plain `fn`; the coroutine itself is the future. Remove `async`
// and write `co_await!(fut)` where you wrote `fut.await`.
#[corona::coroutine]
async fn fetch() -> u32 {
    1
}

fn main() {}
