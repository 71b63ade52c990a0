// Teaches: `&mut self` is a borrow too; a coroutine must own what it uses.
struct Client;

impl Client {
    #[corona::coroutine]
    fn get(&mut self) -> u32 {
        1
    }
}

fn main() {}
