// Teaches: `fn main` takes no arguments; read `std::env::args()` instead.
#[corona::main]
fn main(args: Vec<String>) {
    drop(args);
}
