// Teaches: `crate = ..` names corona's crate as Rust code does, as a path or in a string
// (`crate = my_corona` or `crate = "my_corona"`), not by its package name.
#[corona::coroutine(crate = "my-corona")]
fn work() {}

fn main() {}
