// Teaches: children run concurrently, so two of them cannot hold `&mut` to the same value;
// give each child its own part (`iter_mut`, `split_at_mut`) or share a `Cell`/`RefCell`.
fn main() {
    corona::run(|| {
        let mut total = 0;
        corona::scope(|s| {
            s.spawn(|| total += 1);
            s.spawn(|| total += 2);
        });
        drop(total);
    });
}
