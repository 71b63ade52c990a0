// Teaches: `co_next`, `co_iter`, `co_send`... are extension methods: bring them into scope with
// `use corona::prelude::*;` (it coexists with futures' StreamExt/SinkExt).
fn main() {
    corona::run(|| {
        let mut numbers = futures::stream::iter([1, 2, 3]);
        let _ = numbers.co_next();
    });
}
