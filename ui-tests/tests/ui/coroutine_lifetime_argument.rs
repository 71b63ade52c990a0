// Teaches: a type that carries a lifetime borrows just like `&T` does.
struct Parser<'a> {
    input: &'a str,
}

#[corona::coroutine]
fn parse(parser: Parser<'_>) -> usize {
    parser.input.len()
}

fn main() {}
