// Teaches: a coroutine's body runs after the call returns, so it cannot borrow `self`. Take
// `self`, `self: Rc<Self>` or `self: Box<Self>`.
struct Client;

impl Client {
    #[corona::coroutine]
    fn get(&self) -> u32 {
        1
    }
}

fn main() {}
