//! Randomised `corona::io`: a mock reader and a mock writer (each both a tokio and a
//! futures-io type) answer every poll from a seeded plan: a chunk of random size, `Pending`
//! (woken at once from inside the poll, or later by the test), `Interrupted`, and at a planned
//! point the end of the stream or a planned error. A coroutine runs random `std::io` calls
//! over them through `Blocking` or `BlockingFutures`, bare or under std's, tokio's or futures'
//! buffers: `read`, `read_vectored`, `read_exact`, `read_to_end`, `read_line`, `lines`,
//! `fill_buf` + `consume`, `std::io::copy`, `write`, `write_all`, `write_vectored`, `flush`.
//! Every byte is checked (content and order), a short read is fine but the end or an error
//! comes exactly at the planned point, errors keep their kind and message, and `Interrupted`
//! never reaches the caller.
//!
//! The test is the executor: it polls only after a wake, so a lost wake shows up as a stall.
//! A second coroutine (joined beside the first, or its sibling in a `corona::scope`) waits on
//! a gate the test opens, and must advance as soon as it is opened, also while the first
//! waits on a mock. While the io coroutine waits, the test may also raise an attached
//! `Interrupt` (the call must poll, then return `WouldBlock`) or, for some tokio cases, move a
//! paused clock past their read and write timeouts (the timer must wake it; `TimedOut` only
//! after the timeout, having polled first). Some io coroutines panic part way, and some cases
//! are dropped part way (the io coroutine waiting inside a read or write): a flush while it
//! unwinds fails at once with `Unwinding`, every guard is dropped once, no stack is lost, the
//! drop polls no mock, and the wakes the mocks and timers still owe are harmless.
//!
//! Deterministic: a seeded generator plans each case, and all polling happens on this thread.
//! `CORONA_IO_SEED=<n>` runs other seeds, `CORONA_IO_CASES=<n>` another number of cases.
//!
//! The modules, in the order a case runs: `plan` draws the case from its seed;
//! `mocks` answer the polls; `layers` stack `Blocking` and the buffers on them; `coroutines`
//! run the plan's calls (`ops`, checked against `sides`, what the reader and the writer must
//! see) beside the ticker; `driver` is the executor, and sums up its `stats`.

mod coroutines;
mod driver;
mod layers;
mod mocks;
mod ops;
mod plan;
mod sides;
mod stats;

use corona_tests::Rng;
use tokio::runtime::Runtime;

use crate::coroutines::quiet_planned_panics;
use crate::driver::run_case;
use crate::stats::Stats;

fn paused_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

fn base_seed() -> u64 {
    std::env::var("CORONA_IO_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x10_5EED)
}

/// How many cases each test runs: `CORONA_IO_CASES`, or `default`.
fn cases(default: u64) -> u64 {
    std::env::var("CORONA_IO_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_std_io_over_mock_async_io_delivers_every_byte_end_and_error() {
    quiet_planned_panics();
    let runtime = paused_runtime();
    let base = base_seed();
    let mut stats = Stats::default();
    for i in 0..cases(1000) {
        stats.add(run_case(&runtime, base + i, None));
    }
    println!("{stats:?}");
    // Not vacuous: the mocks made the calls wait, both ways, and be interrupted, and the
    // ticker advanced while the io coroutine waited.
    assert!(stats.woken_at_once > 100, "{stats:?}");
    assert!(stats.woken_later > 100, "{stats:?}");
    assert!(stats.interrupted > 100, "{stats:?}");
    assert!(stats.ticks_while_io_waited > 20, "{stats:?}");
    assert!(stats.interrupts_raised > 20, "{stats:?}");
    assert!(stats.panics > 20, "{stats:?}");
    assert!(stats.timeouts > 20, "{stats:?}");
}

#[test]
fn random_std_io_dropped_part_way_drops_every_guard_once() {
    quiet_planned_panics();
    let runtime = paused_runtime();
    let base = base_seed();
    let mut stats = Stats::default();
    for i in 0..cases(1000) / 2 {
        let seed = base + 1_000_000 + i;
        let polls = run_case(&runtime, seed, None).polls;
        stats.add(run_case(&runtime, seed, Some(Rng(seed).below(polls))));
    }
    println!("{stats:?}");
    assert!(stats.cancelled_while_io_waited > 100, "{stats:?}");
}
