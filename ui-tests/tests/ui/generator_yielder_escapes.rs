// A generator lends its Yielder to the body only: it cannot be kept after the body returns.
use std::cell::RefCell;
use std::rc::Rc;

fn main() {
    let stash: Rc<RefCell<Option<&corona::Yielder<u32>>>> = Rc::new(RefCell::new(None));
    let inside = Rc::clone(&stash);
    let _gen = corona::generator(move |y| {
        *inside.borrow_mut() = Some(y);
    });
}
