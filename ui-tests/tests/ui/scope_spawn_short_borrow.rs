// Teaches: `Scope::spawn` takes a closure that lives for `'scope`: a helper that spawns with a
// borrow must tie that borrow to `'scope` (`text: &'scope str`).
use corona::Scope;

fn count_later<'scope>(s: &'scope Scope<'scope, '_>, text: &str) {
    s.spawn(move || text.len());
}

fn main() {
    corona::run(|| {
        let text = String::from("borrowed");
        corona::scope(|s| count_later(s, &text));
    });
}
