//! The stack pool keeps what recent bursts needed and gives it back once demand falls:
//! within seconds of light activity, at once on `trim_stack_pool`, at once always with a
//! limit of 0. Resident memory is per process and the pool settings are process-wide, so
//! each case runs alone in a child process (this file is its own binary for the same
//! reason).

use std::time::{Duration, Instant};

use corona_tests::{is_child, run_child};

/// Concurrent coroutines per burst: several times the default pool limit (1024).
const BURST: usize = 6000;
/// Stack bytes each coroutine of a burst touches.
const TOUCH: usize = 48 * 1024;

/// `VmRSS` of `/proc/self/status`, in bytes.
fn vm_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("the VmRSS line of /proc/self/status");
    kib * 1024
}

/// Minor page faults of the calling thread so far (`/proc/thread-self/stat`, field 10).
fn minor_faults() -> usize {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("reading stat");
    let after_name = &stat[stat.rfind(')').expect("the name field") + 1..];
    after_name
        .split_whitespace()
        .nth(7)
        .and_then(|f| f.parse().ok())
        .expect("the minflt field")
}

#[inline(never)]
fn touch_stack() -> u8 {
    let buf = std::hint::black_box([7u8; TOUCH]);
    buf[TOUCH - 1]
}

/// Runs `BURST` coroutines at once, each touching `TOUCH` bytes of its stack, to the end.
fn burst() {
    corona_tests::coroutine_burst(BURST, corona::Builder::new(), touch_stack, 7, || ());
}

/// Checks that the memory the burst's stacks touched is still resident right after it
/// (the pool kept it for the next burst), and returns how much RSS grew.
fn assert_kept(start: usize, kept: usize) -> usize {
    let grew = kept.saturating_sub(start);
    assert!(
        grew >= BURST * TOUCH * 8 / 10,
        "the burst's stacks were not kept: RSS at start {start}, after the burst {kept}"
    );
    grew
}

/// What the pool may keep once demand has faded, given what a burst made resident: the
/// limit plus one release batch of stacks, each holding what a burst coroutine touched,
/// plus 10% of the burst's memory for the heap the runtime keeps.
fn kept_bound(grew: usize) -> usize {
    (corona::stack_pool_limit() + 64) * (grew / BURST) + grew / 10
}

/// Runs `case` in a child process and fails with its output if it failed.
fn in_child(case: &str, body: impl FnOnce()) {
    if is_child(case) {
        body();
        return;
    }
    let out = run_child(case, &[]);
    assert!(
        out.status.success(),
        "{case} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_repeated_burst_reuses_its_stacks_and_memory_decays_within_5_s() {
    in_child(
        "a_repeated_burst_reuses_its_stacks_and_memory_decays_within_5_s",
        || {
            corona::run(|| {
                corona::co_await!(corona::spawn_local(touch_stack)).unwrap();
                let start = vm_rss();
                burst();
                let kept = vm_rss();
                let grew = assert_kept(start, kept);
                // A second burst right away reuses those stacks: no page faults for its
                // stacks (a stack given back would fault in TOUCH / 4 KiB pages again).
                let faults = minor_faults();
                burst();
                let faulted = minor_faults() - faults;
                assert!(faulted < BURST, "the second burst faulted {faulted} pages");
                // Light activity: one short coroutine every 20 ms. Within 5 s the memory
                // beyond the pool's bound has gone back to the kernel.
                let quiet = Instant::now();
                let bound = start + kept_bound(grew);
                while vm_rss() > bound {
                    assert!(
                        quiet.elapsed() < Duration::from_secs(5),
                        "after 5 s: RSS {} > {bound} (start {start}, after the burst {kept})",
                        vm_rss()
                    );
                    corona::co_await!(tokio::time::sleep(Duration::from_millis(20)));
                    corona::co_await!(corona::spawn_local(|| 1)).unwrap();
                }
                eprintln!(
                    "start {start}, after the burst {kept}, {} after {:?}",
                    vm_rss(),
                    quiet.elapsed()
                );
            });
        },
    );
}

#[test]
fn trim_stack_pool_gives_the_memory_back_at_once() {
    in_child("trim_stack_pool_gives_the_memory_back_at_once", || {
        let (start, kept, trimmed) = corona::run(|| {
            corona::co_await!(corona::spawn_local(touch_stack)).unwrap();
            let start = vm_rss();
            burst();
            (start, vm_rss(), {
                corona::trim_stack_pool();
                vm_rss()
            })
        });
        let grew = assert_kept(start, kept);
        assert!(
            trimmed <= start + kept_bound(grew),
            "start {start}, after the burst {kept}, after trimming {trimmed}"
        );
    });
}

#[test]
fn trim_stack_pool_reaches_other_threads_when_they_next_return_a_stack() {
    in_child(
        "trim_stack_pool_reaches_other_threads_when_they_next_return_a_stack",
        || {
            let (go_on, wait) = std::sync::mpsc::channel::<()>();
            let (report, measured) = std::sync::mpsc::channel::<usize>();
            let worker = std::thread::spawn(move || {
                corona::run(|| {
                    corona::co_await!(corona::spawn_local(touch_stack)).unwrap();
                    report.send(vm_rss()).unwrap();
                    burst();
                    report.send(vm_rss()).unwrap();
                    wait.recv().unwrap();
                    // One stack returned above the limit: the pool sees the trim.
                    corona::co_await!(corona::spawn_local(|| 1)).unwrap();
                    report.send(vm_rss()).unwrap();
                })
            });
            let start = measured.recv().unwrap();
            let kept = measured.recv().unwrap();
            corona::trim_stack_pool();
            go_on.send(()).unwrap();
            let trimmed = measured.recv().unwrap();
            worker.join().unwrap();
            let grew = assert_kept(start, kept);
            assert!(
                trimmed <= start + kept_bound(grew),
                "start {start}, after the burst {kept}, after trimming {trimmed}"
            );
        },
    );
}

#[test]
fn a_limit_of_zero_gives_every_stack_back_at_once() {
    in_child("a_limit_of_zero_gives_every_stack_back_at_once", || {
        corona::set_stack_pool_limit(0);
        let (start, after) = corona::run(|| {
            corona::co_await!(corona::spawn_local(touch_stack)).unwrap();
            let start = vm_rss();
            burst();
            (start, vm_rss())
        });
        // Nothing kept but the heap the runtime holds on to.
        assert!(
            after <= start + BURST * TOUCH / 10,
            "start {start}, after the burst {after}"
        );
    });
}
