// Teaches: `stack_size` is evaluated at the call, before the body runs. It may read an
// argument the signature names (`stack_size = kib * 1024` with `kib: usize`), but not a name
// bound by an argument's pattern, which is destructured only when the body starts.
#[corona::coroutine(stack_size = kib * 1024)]
fn work((kib, label): (usize, String)) {
    drop((kib, label));
}

fn main() {}
