// Teaches: `Coroutine::new` takes a 'static closure: it must own what it uses (use `move`
// and owned data). `corona::run` is the exception: it blocks until its body is done.
fn main() {
    let name = String::from("corona");
    let greeting = corona::Coroutine::new(|| name.len());
    drop(greeting);
}
