// Teaches: every type parameter needs a `'static` bound of its own; a bound that merely
// implies it (here `Any`) is not enough for the macro: write `T: Any + 'static`.
use std::any::Any;

#[corona::coroutine]
fn describe<T: Any>(value: T) -> bool {
    (&value as &dyn Any).is::<u32>()
}

fn main() {}
