//! Every stack has a guard page just below it: a write there faults (and is reported as an
//! overflow), on slab stacks, on stacks whose memory was given back, and on the fallback,
//! also after other fallback stacks were unmapped.

use std::time::Duration;

use corona_tests::{assert_child_aborts, is_child};

/// In the child: writes one byte just below the current coroutine's stack.
fn write_below_stack() {
    let usage = corona::stack_usage().expect("inside a coroutine");
    let below = std::hint::black_box(usage.range().start - 1) as *mut u8;
    eprintln!("writing below a stack of {} bytes", usage.size());
    // SAFETY: deliberately writes into the guard page: the point of the test is that this
    // faults before it can corrupt anything.
    unsafe { below.write_volatile(1) };
    eprintln!("the write below the stack did not fault");
}

/// Runs `test` in a child with `env`, expecting the guard-page report for `size` bytes.
fn assert_guard_fault(test: &str, env: &[(&str, &str)], size: usize) {
    let stderr = assert_child_aborts(test, env);
    assert!(
        stderr.contains(&format!("writing below a stack of {size} bytes")),
        "the child did not reach the write: {stderr}"
    );
    assert!(!stderr.contains("did not fault"), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!(
            "corona: coroutine stack overflow (stack size {size} bytes)"
        )),
        "stderr: {stderr}"
    );
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator and its overflow report"
)]
#[test]
fn write_below_a_stack_faults() {
    const NAME: &str = "write_below_a_stack_faults";
    if is_child(NAME) {
        let c = corona::Builder::new()
            .stack_size(64 * 1024)
            .build(write_below_stack);
        futures::executor::block_on(c);
        return;
    }
    assert_guard_fault(NAME, &[], 64 * 1024);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator and its overflow report"
)]
#[test]
fn guard_survives_memory_being_given_back() {
    const NAME: &str = "guard_survives_memory_being_given_back";
    if is_child(NAME) {
        // Every finished coroutine's stack memory goes back to the kernel at once.
        corona::set_stack_pool_limit(0);
        let ranges = corona::run(|| {
            let handles: Vec<_> = (0..300)
                .map(|_| {
                    corona::spawn_local(|| {
                        corona::co_await!(tokio::time::sleep(Duration::from_millis(1)));
                        corona::stack_usage().unwrap().range()
                    })
                })
                .collect();
            let mut ranges: Vec<_> = handles
                .into_iter()
                .map(|h| corona::co_await!(h).unwrap())
                .collect();
            ranges.push(corona::stack_usage().unwrap().range()); // `run`'s own stack
            ranges
        });
        let c = corona::Coroutine::new(move || {
            let here = corona::stack_usage().unwrap();
            assert!(ranges.contains(&here.range()), "not a reused stack");
            // Given back: only the pages this coroutine touched are resident.
            assert!(here.touched() <= 4 * 4096, "{here:?}");
            write_below_stack();
        });
        futures::executor::block_on(c);
        return;
    }
    assert_guard_fault(NAME, &[], corona::DEFAULT_STACK_SIZE);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator and its overflow report"
)]
#[test]
fn fallback_stacks_have_guards() {
    const NAME: &str = "fallback_stacks_have_guards";
    if is_child(NAME) {
        let c = corona::Builder::new()
            .stack_size(48 * 1024)
            .build(write_below_stack);
        futures::executor::block_on(c);
        return;
    }
    assert_guard_fault(NAME, &[("CORONA_STACK_GUARD", "mprotect")], 48 * 1024);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator and its overflow report"
)]
#[test]
fn fallback_guards_are_reported_after_stacks_were_unmapped() {
    // Fallback stacks are unmapped once given back, and their entries in the overflow
    // handler's registry reused: the report must still name the faulting stack's own size,
    // also where a new stack took the place of one of another size.
    const NAME: &str = "fallback_guards_are_reported_after_stacks_were_unmapped";
    if is_child(NAME) {
        corona::set_stack_pool_limit(0);
        for size in [48 * 1024, 40 * 1024, 56 * 1024] {
            corona::run(|| {
                let handles: Vec<_> = (0..300)
                    .map(|_| {
                        corona::Builder::new().stack_size(size).spawn_local(|| {
                            corona::co_await!(tokio::time::sleep(Duration::from_millis(1)));
                        })
                    })
                    .collect();
                for h in handles {
                    corona::co_await!(h).unwrap();
                }
            });
        }
        let c = corona::Builder::new()
            .stack_size(44 * 1024)
            .build(write_below_stack);
        futures::executor::block_on(c);
        return;
    }
    assert_guard_fault(NAME, &[("CORONA_STACK_GUARD", "mprotect")], 44 * 1024);
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator and its overflow report"
)]
#[test]
fn a_fault_on_the_first_byte_of_a_guard_names_its_own_stack_not_the_mapping_below() {
    // Fallback stacks are mappings of their own, often right below one another; a frame
    // larger than a page can touch the lowest byte of a guard page, which is also the first
    // byte past the mapping below. The report must name the faulting stack's size, also when
    // the mapping below took an earlier entry of the overflow handler's registry.
    const NAME: &str =
        "a_fault_on_the_first_byte_of_a_guard_names_its_own_stack_not_the_mapping_below";
    const MIB: usize = 1 << 20;
    if is_child(NAME) {
        corona::set_stack_pool_limit(0);
        let first = corona::Builder::new().stack_size(32 * MIB).build(|| ());
        let faulting = corona::Builder::new().stack_size(33 * MIB).build(|| {
            let usage = corona::stack_usage().expect("inside a coroutine");
            let guard_start = std::hint::black_box(usage.range().start - 4096) as *mut u8;
            eprintln!("writing below a stack of {} bytes", usage.size());
            // SAFETY: deliberately writes into the guard page: the point of the test is
            // that this faults and how the fault is reported.
            unsafe { guard_start.write_volatile(1) };
            eprintln!("the write below the stack did not fault");
        });
        // `first`'s stack is unmapped and its registry entry freed; the next stack, too
        // large for the hole, is mapped below `faulting`'s and takes that entry.
        drop(first);
        let below = corona::Builder::new().stack_size(40 * MIB).build(|| ());
        futures::executor::block_on(faulting);
        drop(below);
        return;
    }
    assert_guard_fault(NAME, &[("CORONA_STACK_GUARD", "mprotect")], 33 * MIB);
}
