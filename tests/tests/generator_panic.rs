//! A panic in a generator body resumes out of `poll_next` on the consumer's side, unwinding the
//! generator's stack on the way; the generator is finished afterwards.

use std::panic::{catch_unwind, AssertUnwindSafe};

use corona::prelude::*;
use corona::Yielder;
use corona_tests::{panic_message, DropCounter};
use futures::StreamExt;

fn fail_at(n: u32, y: &Yielder<u32>, drops: &DropCounter) {
    let _guard = drops.guard();
    for i in 0..n {
        y.yield_(i);
    }
    panic!("generator failed at {n}");
}

#[test]
fn a_panic_in_the_body_resumes_out_of_poll_next() {
    let drops = DropCounter::new();
    let body_drops = drops.clone();
    let mut gen = corona::generator(move |y| {
        let _guard = body_drops.guard();
        fail_at(2, y, &body_drops);
    });
    let mut taken = Vec::new();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(async {
            while let Some(i) = gen.next().await {
                taken.push(i);
            }
        })
    }));
    let payload = outcome.expect_err("the panic did not reach the consumer");
    assert_eq!(panic_message(&*payload), "generator failed at 2");
    assert_eq!(taken, [0, 1]);
    assert_eq!(
        drops.dropped(),
        2,
        "the panic unwound the generator's stack"
    );

    assert!(gen.is_finished());
    assert_eq!(futures::executor::block_on(gen.next()), None);
}

#[test]
fn a_panic_reaches_a_consumer_inside_corona_run() {
    let outcome = catch_unwind(|| {
        corona::run(|| {
            let gen = corona::generator(|y| {
                y.yield_(1);
                panic!("boom in generator");
            });
            gen.co_iter().count()
        })
    });
    let payload = outcome.expect_err("the panic did not propagate out of run");
    assert_eq!(panic_message(&*payload), "boom in generator");
}
