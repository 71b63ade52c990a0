//! Helpers shared by corona's integration tests (`tests/tests/<area>_<topic>.rs`).

use std::cell::Cell;
use std::rc::Rc;

/// Counts how many of its [`Guard`]s were dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Rc<Cell<usize>>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A guard that adds one to this counter when dropped.
    pub fn guard(&self) -> Guard {
        Guard(self.0.clone())
    }

    /// How many guards were dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.get()
    }
}

/// Adds one to its [`DropCounter`] when dropped.
pub struct Guard(Rc<Cell<usize>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// The message of a panic payload, for asserting on it.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic payload>")
    }
}

/// How many times longer the watchdogs ([`finish_within`], [`co_await_within`]) wait when the
/// test runs under valgrind.
///
/// A watchdog catches a deadlock; its limit is not a speed requirement. Natively the limits
/// leave a margin of 50 times or more, which memcheck (about 50 times slower) and a loaded
/// machine use up: under four valgrind runs at once, `io_json`'s test needed 30.4 s of its 30.
pub const VALGRIND_WATCHDOG_SCALE: u32 = 10;

/// Whether this process runs under valgrind. Valgrind starts its client with its preload
/// libraries (`vgpreload_core-*.so`) in `LD_PRELOAD`, and clears them for the processes the
/// client starts, which do not run under it (corona's own check is the same).
pub fn under_valgrind() -> bool {
    static UNDER_VALGRIND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *UNDER_VALGRIND.get_or_init(|| {
        std::env::var_os("LD_PRELOAD")
            .is_some_and(|preload| preload.to_string_lossy().contains("/vgpreload_"))
    })
}

/// The time a watchdog given `limit` waits: `limit`, or [`VALGRIND_WATCHDOG_SCALE`] times
/// that under valgrind.
pub fn watchdog_limit(limit: std::time::Duration) -> std::time::Duration {
    match under_valgrind() {
        true => limit * VALGRIND_WATCHDOG_SCALE,
        false => limit,
    }
}

/// Runs `body` on a thread of its own and fails the test (panics) if it has not finished
/// within `limit` ([`watchdog_limit`]: longer under valgrind); a panic in `body` propagates.
///
/// A tokio timeout cannot catch code that blocks its thread: the blocked thread never gets
/// to run the timer. A watchdog on another thread can. The stuck thread is left behind and
/// ends with the test process.
pub fn finish_within<T: Send + 'static>(
    limit: std::time::Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let limit = watchdog_limit(limit);
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        let _ = done.send(out);
    });
    match finished.recv_timeout(limit) {
        Ok(Ok(out)) => out,
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => panic!(
            "did not finish within {limit:?}: the thread is blocked, or the coroutines \
             deadlocked"
        ),
    }
}

/// The environment variable that tells a re-executed test binary which test is the child.
pub const CHILD_ENV: &str = "CORONA_TEST_CHILD";

/// Whether this process is the child run of `test` (see [`run_child`]).
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == test)
}

/// Re-runs the current test binary with only `test` (by exact name), marked as its child
/// with [`CHILD_ENV`], plus `env`, and returns how it ended. For behaviour that kills the
/// process (stack overflow) or that must start from a fresh process (forced fallbacks).
pub fn run_child(test: &str, env: &[(&str, &str)]) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("re-running the test binary")
}

/// The resident set size of this process in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("reading /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("the resident field of /proc/self/statm");
    pages * 4096
}

/// How many memory mappings this process has (`/proc/self/maps`).
pub fn mapping_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("reading /proc/self/maps")
        .lines()
        .count()
}

/// A field of `/proc/self/status` in bytes (`VmSize`: the address space the process has).
pub fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kib: usize = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("the {field} line of /proc/self/status"));
    kib * 1024
}

/// Caps this process's address space at `bytes` (the soft `RLIMIT_AS`): for child processes
/// that test what the allocator does when it is refused.
pub fn cap_address_space(bytes: usize) {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `limit` is a valid `rlimit` whose soft value does not exceed the hard one.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
}

/// Drives `fut` on the calling thread (a current-thread runtime with timers), failing
/// instead of hanging if it is not done within 20 s. For awaiting `Pool` jobs from tests.
pub fn block_on_within_20s<F: std::future::Future>(fut: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(20), fut)
            .await
            .expect("the pool did not answer within 20 s")
    })
}

/// Adds one to its shared counter when dropped; `Send`, for jobs that cross threads.
pub struct SendGuard(pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for SendGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs `body` only in a re-executed child process, for cases whose failure aborts the
/// process (a panic in a destructor during unwinding). `test` must be the calling test's
/// name. The parent fails unless the child exited successfully *and* reached the end of
/// `body` (a filter that matched no test would also exit successfully).
pub fn run_in_child_process(test: &str, body: impl FnOnce()) {
    const DONE: &str = "corona-tests: child body completed";
    if is_child(test) {
        body();
        println!("{DONE}");
        return;
    }
    let out = assert_child_succeeds(test, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(DONE),
        "the child process running {test} passed without reaching the end of its body:\n{stdout}"
    );
}

/// `SIGABRT`: how a child process ends after corona's overflow report or a panic that
/// cannot unwind.
pub const SIGABRT: i32 = 6;

/// Runs test `name` in a child process (with `env`) and fails with its output unless it
/// passed.
pub fn assert_child_succeeds(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    let out = run_child(name, env);
    assert!(
        out.status.success(),
        "the child run of {name} failed ({:?}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs test `name` in a child process (with `env`), asserts that it was killed by
/// `SIGABRT`, and returns its stderr for further checks.
pub fn assert_child_aborts(name: &str, env: &[(&str, &str)]) -> String {
    use std::os::unix::process::ExitStatusExt;
    let out = run_child(name, env);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.signal(),
        Some(SIGABRT),
        "the child run of {name} ended with {:?}, not SIGABRT:\n{stderr}",
        out.status
    );
    stderr
}

/// A future that is pending forever (and never wakes anyone), holding `G` so that a test
/// can count when it is dropped: pass a [`Guard`], or `()`.
pub struct PendingForever<G = ()>(pub G);

impl<G> std::future::Future for PendingForever<G> {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

/// Calls `at_the_bottom` below `depth` frames of at least 1 KiB each (which the optimiser
/// cannot remove) and returns its result.
#[inline(never)]
pub fn recurse_kib<T>(depth: u32, at_the_bottom: &mut dyn FnMut() -> T) -> T {
    // Borrowed into `black_box`, not moved: a debug build then keeps one copy, 1 KiB.
    let frame = [depth as u8; 1024];
    std::hint::black_box(&frame);
    let out = if depth == 0 {
        at_the_bottom()
    } else {
        recurse_kib(depth - 1, at_the_bottom)
    };
    std::hint::black_box(&frame);
    out
}

/// Inside a coroutine: waits for `fut`, failing the test if it is not ready within `limit`
/// ([`watchdog_limit`]: longer under valgrind). (For code that does not block the thread;
/// [`finish_within`] catches that.)
#[track_caller]
pub fn co_await_within<F: std::future::IntoFuture>(
    limit: std::time::Duration,
    fut: F,
) -> F::Output {
    let limit = watchdog_limit(limit);
    corona::co_await!(tokio::time::timeout(limit, fut.into_future()))
        .unwrap_or_else(|_| panic!("not ready within {limit:?}: something got stuck"))
}

/// Makes sure this process may open `needed` file descriptors, raising its soft
/// `RLIMIT_NOFILE` towards the hard limit if needed; panics with advice if the hard limit is
/// too low.
pub fn ensure_open_files(needed: usize) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    let needed = needed as libc::rlim_t;
    if limit.rlim_cur >= needed {
        return;
    }
    assert!(
        limit.rlim_max >= needed,
        "this test needs {needed} open files, and the hard limit is {}: raise it \
         (`ulimit -Hn`, or LimitNOFILE= in systemd) before running it",
        limit.rlim_max
    );
    limit.rlim_cur = needed;
    // SAFETY: `limit` is a valid `rlimit` whose soft value does not exceed the hard one.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

/// Inside `corona::run`: spawns `n` coroutines from `builder` that are alive at once. Each
/// calls `touch` (which touches its stack) and waits until every one has; `at_peak` runs while
/// they all wait, then they all finish, and each must have got `touched` from `touch`.
/// Returns what `at_peak` returned.
pub fn coroutine_burst<R>(
    n: usize,
    builder: corona::Builder,
    touch: fn() -> u8,
    touched: u8,
    at_peak: impl FnOnce() -> R,
) -> R {
    let (go, wait_for_go) = tokio::sync::watch::channel(false);
    let started = Rc::new(Cell::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let mut wait_for_go = wait_for_go.clone();
            let started = started.clone();
            builder.clone().spawn_local(move || {
                let touched = touch();
                started.set(started.get() + 1);
                corona::co_await!(wait_for_go.wait_for(|go| *go)).unwrap();
                touched
            })
        })
        .collect();
    // Bounded: each yield lets every spawned coroutine run once.
    for _ in 0..=n {
        if started.get() == n {
            break;
        }
        corona::yield_now();
    }
    assert_eq!(
        started.get(),
        n,
        "the coroutines of the burst did not all start"
    );
    let out = at_peak();
    go.send(true).unwrap();
    for h in handles {
        assert_eq!(corona::co_await!(h).unwrap(), touched);
    }
    out
}

/// SplitMix64: a tiny, well-mixed, seedable generator, for the randomised tests (each plans
/// its cases from a seed, so a failure names the seed that reproduces it).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// One of `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// One of `1..=n`.
    pub fn size(&mut self, n: usize) -> usize {
        1 + self.below(n)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// A waker that counts its wakes: a test that polls like an executor, only once woken, sees
/// a lost wake as a stall.
#[derive(Default)]
pub struct WakeCounter(std::sync::atomic::AtomicUsize);

impl WakeCounter {
    /// The wakes since the last call.
    pub fn take(&self) -> usize {
        self.0.swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a wake came since the last [`take`](Self::take).
    pub fn woken(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed) != 0
    }
}

impl std::task::Wake for WakeCounter {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Polls `coroutine` with `waker` until it is ready, at most 50 times: a test of code that
/// must make progress in every poll (a child that can no longer run leaves it pending).
pub fn poll_until_ready<T>(
    coroutine: &mut corona::Coroutine<T>,
    waker: &std::task::Waker,
) -> std::task::Poll<T> {
    use std::future::Future;
    let mut cx = std::task::Context::from_waker(waker);
    for _ in 0..50 {
        if let std::task::Poll::Ready(out) = std::pin::Pin::new(&mut *coroutine).poll(&mut cx) {
            return std::task::Poll::Ready(out);
        }
    }
    std::task::Poll::Pending
}

/// Polls `coroutine` once with `waker`: a test that plays the executor.
pub fn poll_with<T>(
    coroutine: &mut corona::Coroutine<T>,
    waker: &std::task::Waker,
) -> std::task::Poll<T> {
    use std::future::Future;
    std::pin::Pin::new(coroutine).poll(&mut std::task::Context::from_waker(waker))
}
