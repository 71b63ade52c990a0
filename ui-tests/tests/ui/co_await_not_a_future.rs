// Teaches: co_await! takes a future (anything `IntoFuture`), not its output.
fn main() {
    corona::run(|| {
        let n: u32 = 5;
        let _ = corona::co_await!(n);
    });
}
