// Teaches: a Coroutine is `!Send` (its stack never changes thread), so `tokio::spawn` cannot
// take it. Use `corona::spawn_local` (or a LocalSet), or `corona::Pool` for many cores.
#[tokio::main]
async fn main() {
    let job = corona::Coroutine::new(|| 1);
    tokio::spawn(job);
}
