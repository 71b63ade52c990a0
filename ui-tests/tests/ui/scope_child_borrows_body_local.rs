// Teaches: a child may borrow what outlives the scope, not a local of the scope body (which is
// dropped before the children are joined). Declare the value before `corona::scope`.
fn main() {
    corona::run(|| {
        corona::scope(|s| {
            let local = String::from("dies with the body");
            s.spawn(|| local.len());
        });
    });
}
