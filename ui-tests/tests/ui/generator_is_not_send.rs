// A generator's stack belongs to its thread: it cannot be sent to another one (for example by
// tokio::spawn on a multi-threaded runtime). Use corona::spawn_local or a LocalSet.
fn send_to_another_thread<T: Send + 'static>(_: T) {}

fn main() {
    let gen = corona::generator(|y: &corona::Yielder<u32>| y.yield_(1));
    send_to_another_thread(gen);
}
