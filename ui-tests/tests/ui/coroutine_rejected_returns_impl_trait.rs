// Teaches: a rejected coroutine that returns `impl Trait` still gets the one message that says
// what to fix, and no error of rustc's about what its `impl Trait` stands for.
#[corona::coroutine]
async fn fetch(id: u32) -> impl std::fmt::Debug {
    id
}

fn main() {
    let coroutine = fetch(7);
    drop(coroutine);
}
