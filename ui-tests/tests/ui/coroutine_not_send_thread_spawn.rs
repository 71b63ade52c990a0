// Teaches: a Coroutine cannot be moved to another thread, even before it starts.
fn main() {
    let job = corona::Coroutine::new(|| 1);
    std::thread::spawn(move || futures::executor::block_on(job));
}
