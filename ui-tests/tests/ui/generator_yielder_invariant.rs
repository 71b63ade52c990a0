// Teaches (and pins, because soundness rests on it): a `Yielder<&'static str>` cannot be
// used as a `Yielder<&'a str>`. If it could, the body would hand its consumer a reference to
// a local that dies with the body, while the consumer holds `&'static str`s.
fn main() {
    let _gen = corona::generator(|y: &corona::Yielder<&'static str>| {
        let local = String::from("short-lived");
        let shorter: &corona::Yielder<&str> = y;
        shorter.yield_(&local);
    });
}
