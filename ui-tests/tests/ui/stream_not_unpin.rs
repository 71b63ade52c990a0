// Teaches: `co_next`/`co_iter` need a `Stream + Unpin`. Streams built from async blocks
// (`stream::unfold`, `async_stream`) are not `Unpin`: pin them first with `Box::pin(s)` or
// `std::pin::pin!(s)`.
use corona::prelude::*;

fn main() {
    corona::run(|| {
        let mut countdown = futures::stream::unfold(3u32, |n| async move {
            (n > 0).then_some((n, n - 1))
        });
        let _ = countdown.co_next();
    });
}
