// Teaches: a generic helper that waits for a stream's items bounds it by `CoStreamExt` (or
// `Stream + Unpin`); passing something else says what is missing.
use corona::prelude::*;

fn first<S: CoStreamExt>(mut s: S) -> Option<S::Item> {
    s.co_next()
}

fn main() {
    corona::run(|| {
        let _ = first(vec![1, 2, 3]);
    });
}
