// Teaches: `Pool::spawn` sends the closure to a worker thread, so it must be `Send`; create
// `Rc`s and other `!Send` values inside the closure instead (they may be awaited there).
use std::rc::Rc;

fn main() {
    let pool = corona::Pool::new(2);
    let shared = Rc::new(5);
    let _job = pool.spawn(move || *shared + 1);
}
