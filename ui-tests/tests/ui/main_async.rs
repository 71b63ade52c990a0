// Teaches: #[corona::main] runs a plain `fn main` as a coroutine; drop `async` and use
// `co_await!`.
#[corona::main]
async fn main() {}
