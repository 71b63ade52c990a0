//! Absurd stack sizes are refused with corona's own message, and leave nothing behind:
//! coroutines and generators made afterwards, of the default size and of odd ones, work.
//! Huge and many large sizes take the address space and stack mappings of the stacks they
//! run on, not of 32 each; a refusal gives back what the failed attempt mapped.

use std::panic::{catch_unwind, AssertUnwindSafe};

use corona_tests::{
    assert_child_succeeds, cap_address_space, is_child, panic_message, status_bytes,
};

const ABSURD: [usize; 4] = [
    usize::MAX,
    usize::MAX - 4096,
    1 << 60,
    (isize::MAX as usize) + 1,
];

/// Asserts that `make` panics with corona's allocation-failure message naming a size, and
/// with no arithmetic panic.
fn assert_refused(what: &str, make: impl FnOnce()) {
    let payload = catch_unwind(AssertUnwindSafe(make)).expect_err(what);
    let message = panic_message(&*payload);
    assert!(
        message.starts_with("corona: could not allocate a coroutine stack of "),
        "{what}: {message}"
    );
    assert!(
        message.contains("Builder::stack_size"),
        "{what}: the message says what to do: {message}"
    );
    for arithmetic in ["overflow", "divide by zero", "division by zero"] {
        assert!(!message.contains(arithmetic), "{what}: {message}");
    }
}

/// Coroutines and a generator of the default size and of a small one still run.
fn assert_later_stacks_work() {
    let sum = futures::executor::block_on(async {
        let a = corona::Coroutine::new(|| 40).await;
        let b = corona::Builder::new()
            .stack_size(40 * 1024 + 1)
            .build(|| corona::stack_usage().unwrap().size())
            .await;
        a + b
    });
    assert_eq!(sum, 40 + 44 * 1024);
    let generator = corona::Generator::with_stack_size(32 * 1024, |y| {
        y.yield_(1);
        y.yield_(2);
    });
    let items: Vec<u32> = futures::executor::block_on_stream(generator).collect();
    assert_eq!(items, [1, 2]);
}

#[test]
fn builder_refuses_absurd_sizes() {
    for size in ABSURD {
        assert_refused(&format!("Builder::stack_size({size})"), || {
            let c = corona::Builder::new().stack_size(size).build(|| 1);
            futures::executor::block_on(c);
        });
        assert_later_stacks_work();
    }
}

#[test]
fn generator_refuses_absurd_sizes() {
    for size in ABSURD {
        assert_refused(&format!("Generator::with_stack_size({size})"), || {
            let generator = corona::Generator::with_stack_size(size, |y| y.yield_(1));
            futures::executor::block_on_stream(generator).for_each(drop);
        });
        assert_later_stacks_work();
    }
}

#[test]
fn refused_twice_the_same_way() {
    // A second attempt at the same absurd size meets the same clear refusal, not a
    // half-made size class.
    for _ in 0..2 {
        assert_refused("Builder::stack_size(1 << 60)", || {
            drop(corona::Builder::new().stack_size(1 << 60).build(|| ()));
        });
    }
    assert_later_stacks_work();
}

/// Runs one coroutine of `size` bytes and returns the size of its stack, or the panic's
/// message.
fn run_size(size: usize) -> Result<usize, String> {
    catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(
            corona::Builder::new()
                .stack_size(size)
                .build(|| corona::stack_usage().unwrap().size()),
        )
    }))
    .map_err(|payload| panic_message(&*payload))
}

/// For child processes that measure their address space: panics print their message only.
/// A backtrace would map the binary's debug information, tens of MiB.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
}

/// Whether this process may reserve terabytes of address space it never touches: not
/// with `vm.overcommit_memory = 2` (strict accounting) or a finite `ulimit -v`.
fn terabytes_reservable() -> bool {
    let strict = std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
        .is_ok_and(|mode| mode.trim() == "2");
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) }, 0);
    !strict && limit.rlim_cur == libc::RLIM_INFINITY
}

// The portable path commits a stack's memory (corosensei's `DefaultStack`), so the kernel
// refuses a 16 TiB one there.
#[cfg(not(corona_portable_stacks))]
#[test]
fn a_huge_stack_reserves_one_stack_of_address_space() {
    // A stack this big is carved alone: a refill of 32 would take 512 TiB, more than the
    // address space, and fail after keeping what it got.
    const NAME: &str = "a_huge_stack_reserves_one_stack_of_address_space";
    const TIB: usize = 1 << 40;
    /// Runs a coroutine of `size` bytes (not asking for its stack usage, which reads the
    /// residency of each page), or returns the panic's message.
    fn run_huge(size: usize) -> Result<(), String> {
        catch_unwind(AssertUnwindSafe(|| {
            futures::executor::block_on(corona::Builder::new().stack_size(size).build(|| ()))
        }))
        .map_err(|payload| panic_message(&*payload))
    }

    if is_child(NAME) {
        if !terabytes_reservable() {
            println!("skipped: address space reservations are limited here");
            return;
        }
        quiet_panics();
        let before = status_bytes("VmSize");
        assert_eq!(run_huge(16 * TIB), Ok(()));
        let grew = status_bytes("VmSize") - before;
        assert!(
            (16 * TIB..17 * TIB).contains(&grew),
            "a 16 TiB stack grew the address space by {grew} bytes"
        );
        // There is room left for other big stacks.
        assert_eq!(run_huge(TIB), Ok(()));
        println!("16 TiB, then 1 TiB: both ran");
        return;
    }
    let out = assert_child_succeeds(NAME, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("both ran") || stdout.contains("skipped:"),
        "{stdout}"
    );
}

#[cfg_attr(
    not(corona_portable_stacks),
    ignore = "tests the portable stack allocator (--cfg corona_portable_stacks)"
)]
#[test]
fn a_portable_refill_that_does_not_fit_settles_for_the_stacks_it_got() {
    // One mapping per stack, and the address space capped 8 MiB above what the process has:
    // a refill of 31 stacks of 2 MiB maps a few before it is refused. The stack asked for
    // still comes, from those.
    const NAME: &str = "a_portable_refill_that_does_not_fit_settles_for_the_stacks_it_got";
    const MIB: usize = 1 << 20;
    if is_child(NAME) {
        quiet_panics();
        assert_eq!(run_size(0), Ok(corona::MIN_STACK_SIZE));
        cap_address_space(status_bytes("VmSize") + 8 * MIB);
        let small = 2 * MIB - 4096;
        assert_eq!(
            run_size(small),
            Ok(small),
            "a few stacks fit where 31 do not"
        );
        println!("ran on a partial refill");
        return;
    }
    let out = assert_child_succeeds(NAME, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ran on a partial refill"), "{stdout}");
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator"
)]
#[test]
fn a_refill_that_does_not_fit_gives_back_what_it_mapped_and_settles_for_one() {
    // One mapping per stack, and the address space capped 48 MiB above what the process
    // has: a refill of 31 stacks of 2 MiB (62 MiB) maps about 23 before it is refused. They
    // must go, and the one stack asked for still comes; a size of which not even one fits
    // is refused with nothing kept. Then a 40 MiB stack fits in what is left.
    const NAME: &str = "a_refill_that_does_not_fit_gives_back_what_it_mapped_and_settles_for_one";
    const MIB: usize = 1 << 20;
    if is_child(NAME) {
        if !terabytes_reservable() {
            println!("skipped: address space reservations are limited here");
            return;
        }
        quiet_panics();
        // The thread's first stack also maps its alternate signal stack: before the cap.
        assert_eq!(run_size(0), Ok(corona::MIN_STACK_SIZE));
        let before = status_bytes("VmSize");
        cap_address_space(before + 48 * MIB);
        let small = 2 * MIB - 4096;
        assert_eq!(run_size(small), Ok(small), "one stack fits where 31 do not");
        let after_small = status_bytes("VmSize");
        assert!(
            after_small < before + 4 * MIB,
            "the refill kept {} bytes of address space for one 2 MiB stack",
            after_small - before
        );
        let message = run_size(64 * MIB).expect_err("64 MiB does not fit in 48 MiB");
        assert!(
            message.starts_with(&format!(
                "corona: could not allocate a coroutine stack of {} bytes: ",
                64 * MIB
            )),
            "{message}"
        );
        assert_eq!(
            status_bytes("VmSize"),
            after_small,
            "the refusal kept nothing"
        );
        assert_eq!(run_size(40 * MIB), Ok(40 * MIB));
        println!("one of 31 taken, the rest given back, refused with nothing kept, 40 MiB ran");
        return;
    }
    let out = assert_child_succeeds(NAME, &[("CORONA_STACK_GUARD", "mprotect")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("40 MiB ran") || stdout.contains("skipped:"),
        "{stdout}"
    );
}

#[test]
fn many_large_sizes_one_at_a_time() {
    // Each size of 32 MiB or more is a slab of its own. One coroutine at a time of 2,100
    // such sizes takes 2,100 stack mappings, not 32 each (which filled the overflow
    // handler's registry, 65,536 entries, at the 2,048th size).
    const NAME: &str = "many_large_sizes_one_at_a_time";
    const SIZES: usize = 2100;
    if is_child(NAME) {
        quiet_panics();
        let base = 32 << 20;
        let before = status_bytes("VmSize");
        for k in 0..SIZES {
            let size = base + k * 4096;
            assert_eq!(run_size(size), Ok(size), "the {k}th size");
        }
        let grew = status_bytes("VmSize") - before;
        // One stack (and guard page) per size, and a little heap.
        let one_each = (0..SIZES).map(|k| base + (k + 1) * 4096).sum::<usize>();
        assert!(
            grew < one_each + (64 << 20),
            "{SIZES} sizes grew the address space by {grew} bytes, one stack each is {one_each}"
        );
        return;
    }
    assert_child_succeeds(NAME, &[]);
}

// The registry belongs to the Linux allocator (the overflow report's).
#[cfg(not(corona_portable_stacks))]
#[test]
fn a_full_registry_refuses_with_the_allocation_message() {
    // The overflow handler's registry of stack mappings, lowered to 40 entries: a new size
    // past it is refused like any stack the process cannot have, with the mapping it made
    // unmapped, and sizes that have stacks keep working.
    const NAME: &str = "a_full_registry_refuses_with_the_allocation_message";
    if is_child(NAME) {
        quiet_panics();
        let base = 32 << 20;
        let mut k = 0;
        let refused = loop {
            let size = base + k * 4096;
            let before = status_bytes("VmSize");
            match run_size(size) {
                Ok(got) => assert_eq!(got, size),
                Err(message) => break (size, message, before),
            }
            k += 1;
            assert!(k <= 40, "40 registered mappings and no refusal");
        };
        let (size, message, before) = refused;
        // Every stack of 32 MiB or more is a mapping of its own: the 41st is refused.
        assert_eq!(k, 40, "refused at the size after {k}: {message}");
        assert!(
            message.starts_with(&format!(
                "corona: could not allocate a coroutine stack of {size} bytes: the 40 stack \
                 mappings corona can track are all in use"
            )),
            "{message}"
        );
        assert!(message.contains("fewer distinct stack sizes"), "{message}");
        let after = status_bytes("VmSize");
        assert!(
            after < before + size,
            "the refused stack kept its mapping: {before} -> {after}"
        );
        // The same refusal again, and the sizes that got stacks still get them.
        assert_eq!(run_size(size).unwrap_err(), message);
        assert_eq!(run_size(base), Ok(base));
        assert_eq!(run_size(base + 4096), Ok(base + 4096));
        return;
    }
    assert_child_succeeds(NAME, &[("CORONA_STACK_MAPPINGS", "40")]);
}

#[test]
fn a_panic_on_the_smallest_stack_is_caught_with_backtraces_on() {
    // The panic hook prints the backtrace on the panicking coroutine's own stack: the
    // smallest stack must have room for it, or the panic becomes an overflow (an abort).
    const NAME: &str = "a_panic_on_the_smallest_stack_is_caught_with_backtraces_on";
    if is_child(NAME) {
        for size in [0, corona::MIN_STACK_SIZE] {
            let payload = run_size_panicking(size).expect_err("the body panics");
            assert_eq!(payload, "a panic on a small stack");
        }
        return;
    }
    assert_child_succeeds(NAME, &[("RUST_BACKTRACE", "full")]);
}

/// Runs a body that panics at once on a stack of `size` bytes; returns the panic's message.
fn run_size_panicking(size: usize) -> Result<(), String> {
    catch_unwind(|| {
        futures::executor::block_on(
            corona::Builder::new()
                .stack_size(size)
                .build(|| panic!("a panic on a small stack")),
        )
    })
    .map_err(|payload| panic_message(&*payload))
}

// The registry belongs to the Linux allocator (the overflow report's).
#[cfg(not(corona_portable_stacks))]
#[cfg_attr(not(target_os = "linux"), ignore = "tests the Linux stack allocator")]
#[test]
fn more_fallback_stacks_than_the_registry_holds_come_and_go_one_after_another() {
    // On the fallback each stack is a mapping of its own, entered in the overflow handler's
    // registry (65,536 entries) when mapped and removed when unmapped: 70,000 stacks one
    // after another must reuse the entries, not run out of them.
    const NAME: &str = "more_fallback_stacks_than_the_registry_holds_come_and_go_one_after_another";
    const STACKS: usize = 70_000;
    if is_child(NAME) {
        quiet_panics();
        // Each stack is unmapped as soon as its coroutine is dropped; 32 MiB stacks are
        // fetched one at a time.
        corona::set_stack_pool_limit(0);
        let size = 32 << 20;
        for i in 0..STACKS {
            let ran = catch_unwind(|| {
                futures::executor::block_on(
                    corona::Builder::new().stack_size(size).build(move || i),
                )
            });
            assert_eq!(
                ran.map_err(|p| panic_message(&*p)),
                Ok(i),
                "the {i}th stack"
            );
        }
        println!("{STACKS} stacks ran");
        return;
    }
    let out = assert_child_succeeds(NAME, &[("CORONA_STACK_GUARD", "mprotect")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("70000 stacks ran"), "{stdout}");
}

#[cfg_attr(
    any(not(target_os = "linux"), corona_portable_stacks),
    ignore = "tests the Linux stack allocator"
)]
#[test]
fn a_refill_refused_a_new_slab_keeps_the_idle_stacks_it_took() {
    // Slab stacks of 16 MiB - 4 KiB: four to a 64 MiB slab, and a refill asks for four. Two
    // of them are given back to the allocator, idle; then the address space is capped below
    // a new slab. The next refill takes the two idle stacks, is refused the slab it needs
    // for the other two, and must put the two back: settling for one stack, it finds them.
    const NAME: &str = "a_refill_refused_a_new_slab_keeps_the_idle_stacks_it_took";
    const MIB: usize = 1 << 20;
    if is_child(NAME) {
        if !terabytes_reservable() {
            println!("skipped: address space reservations are limited here");
            return;
        }
        quiet_panics();
        let size = 16 * MIB - 4096;
        let make = || {
            corona::Builder::new()
                .stack_size(size)
                .build(|| corona::stack_usage().unwrap().size())
        };
        let mut held: Vec<_> = (0..4).map(|_| make()).collect();
        corona::set_stack_pool_limit(0);
        let before = status_bytes("VmSize");
        held.truncate(2);
        corona::trim_stack_pool();
        if status_bytes("VmSize") + 16 * MIB < before {
            // Unmapped when given back: stacks with a mapping of their own (a kernel
            // without guard advice), never idle in the allocator.
            println!("skipped: these stacks are not slab stacks");
            return;
        }
        cap_address_space(status_bytes("VmSize") + 32 * MIB);
        assert_eq!(
            run_size(size),
            Ok(size),
            "an idle stack was there to run on"
        );
        assert_eq!(run_size(size), Ok(size), "and another one");
        drop(held);
        println!("ran on the idle stacks");
        return;
    }
    let out = assert_child_succeeds(NAME, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ran on the idle stacks") || stdout.contains("skipped:"),
        "{stdout}"
    );
}
