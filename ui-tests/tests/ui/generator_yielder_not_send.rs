// Teaches: a Yielder stays on its generator's thread (`!Send`, `!Sync`): it suspends a stack
// that belongs to this thread. Yield from the generator's own thread; send other threads'
// results to it through a channel instead.
fn assert_send<T: Send>() {}

fn main() {
    assert_send::<corona::Yielder<u8>>();
    let _gen = corona::generator(|y: &corona::Yielder<u8>| {
        std::thread::scope(|s| {
            s.spawn(|| y.yield_(1));
        });
    });
}
