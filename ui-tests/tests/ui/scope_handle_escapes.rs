// Teaches: a scoped child's handle cannot leave its scope (the scope waits for the child, so
// join it inside the body and return the child's output instead).
fn main() {
    corona::run(|| {
        let handle = corona::scope(|s| s.spawn(|| 1));
        drop(handle);
    });
}
