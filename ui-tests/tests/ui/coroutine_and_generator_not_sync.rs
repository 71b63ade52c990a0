// Teaches: a Coroutine or Generator cannot be shared between threads either (`!Sync`): its
// stack belongs to one thread. Keep it on that thread, or use corona::Pool for many cores.
fn assert_sync<T: Sync>(_: &T) {}

fn main() {
    let c = corona::Coroutine::new(|| 1);
    assert_sync(&c);
    let g = corona::generator(|y: &corona::Yielder<u8>| y.yield_(1));
    assert_sync(&g);
}
