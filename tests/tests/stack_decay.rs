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
    in_child_with(case, &[], body);
}

/// [`in_child`], with `env` set in the child process.
fn in_child_with(case: &str, env: &[(&str, &str)], body: impl FnOnce()) {
    if is_child(case) {
        body();
        return;
    }
    let out = run_child(case, env);
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

/// Runs `n` coroutines of `size` bytes at once, each waiting until all have started, to the
/// end; returns how many mappings the process had while they were all alive.
fn live_burst(n: usize, size: usize) -> usize {
    let builder = corona::Builder::new().stack_size(size);
    corona_tests::coroutine_burst(n, builder, || 1, 1, corona_tests::mapping_count)
}

#[test]
fn stacks_with_mappings_of_their_own_are_unmapped_when_given_back() {
    // One mapping per stack (two of the kernel's: guard and stack), as on kernels before
    // 6.13 and under valgrind. A burst of 30,000 takes 60,000 of the 65,530 mappings a
    // process may have; once it is over, trimming must unmap the stacks, or the process can
    // map almost nothing more. A stack still in use, or leaked, stays mapped.
    const NAME: &str = "stacks_with_mappings_of_their_own_are_unmapped_when_given_back";
    const MAPS: &str = "/proc/self/maps";
    in_child_with(NAME, &[("CORONA_STACK_GUARD", "mprotect")], || {
        let before = corona_tests::mapping_count();
        corona::run(|| {
            // A coroutine that holds data on its stack across the trims below.
            let (resume, wait) = tokio::sync::oneshot::channel::<()>();
            let held = corona::spawn_local(move || {
                let data = std::hint::black_box([5u8; 8192]);
                corona::co_await!(wait).unwrap();
                data.iter().map(|&b| usize::from(b)).sum::<usize>()
            });
            // A coroutine leaked while suspended, with the address of a value on its stack.
            let (tx, rx) = std::sync::mpsc::channel::<usize>();
            let mut leaked = Box::pin(corona::Coroutine::new(move || {
                let value = std::hint::black_box(0x5eed_u64);
                tx.send(std::ptr::addr_of!(value) as usize).unwrap();
                corona::co_await!(std::future::pending::<()>());
            }));
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(std::future::Future::poll(leaked.as_mut(), &mut cx).is_pending());
            let on_leaked_stack = rx.recv().unwrap();
            std::mem::forget(leaked);

            // Counted at the peak, not after the burst: the pool keeps the burst's stacks
            // for about a second after the peak, and on a loaded machine the 30,000 take
            // longer than that to end (4 s seen), so the decay unmaps many while they do.
            let at_peak = live_burst(30_000, 32 * 1024);
            let after_burst = corona_tests::mapping_count();
            corona::trim_stack_pool();
            let trimmed = corona_tests::mapping_count();
            corona::set_stack_pool_limit(0);
            corona::trim_stack_pool();
            let emptied = corona_tests::mapping_count();
            eprintln!(
                "mappings: {before} before, {at_peak} at the peak, {after_burst} after the \
                 burst, {trimmed} after trimming to {}, {emptied} after trimming to 0",
                corona::DEFAULT_STACK_POOL_LIMIT
            );
            assert!(at_peak >= before + 60_000, "{before} -> {at_peak}");
            // Two mappings per idle stack kept, plus one release batch and a few spare.
            let kept = 2 * (corona::DEFAULT_STACK_POOL_LIMIT + 64) + 100;
            assert!(trimmed <= before + kept, "{before} -> {trimmed}");
            assert!(emptied <= before + 100, "{before} -> {emptied}");

            // The live and the leaked coroutine's stacks were not touched.
            resume.send(()).unwrap();
            assert_eq!(corona::co_await!(held).unwrap(), 5 * 8192);
            let maps = std::fs::read_to_string(MAPS).unwrap();
            let mapped = maps.lines().any(|line| {
                let range = line.split_whitespace().next().unwrap();
                let (start, end) = range.split_once('-').unwrap();
                let start = usize::from_str_radix(start, 16).unwrap();
                let end = usize::from_str_radix(end, 16).unwrap();
                (start..end).contains(&on_leaked_stack)
            });
            assert!(mapped, "the leaked coroutine's stack was unmapped");
            // SAFETY: the address is of a `u64` on the leaked coroutine's stack, which stays
            // mapped and unchanged for ever (checked mapped just above).
            let value = unsafe { std::ptr::read_volatile(on_leaked_stack as *const u64) };
            assert_eq!(value, 0x5eed);

            // The mappings are back: another 10,000 fit (not with 60,000 still taken).
            live_burst(5_000, 64 * 1024);
        });
    });
}
