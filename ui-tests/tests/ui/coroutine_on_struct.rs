// Teaches: #[corona::coroutine] goes on functions and methods, not on types.
#[corona::coroutine]
struct Worker {
    id: u32,
}

fn main() {}
