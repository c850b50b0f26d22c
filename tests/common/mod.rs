//! Shared by the suites that compare evloop with Node: the `console.log`
//! recorder and the check of a port's output against Node's, and the one
//! harness for a scenario group `tests/node/GROUP/` (`NAME.js` + `NAME.out`,
//! see tests/node/README.md): [`node_expected!`] (a scenario's recorded
//! output), [`check_every_scenario_ported`] (every script has a port in the
//! suite) and [`check_node_outputs`] (Node still prints what the `.out` files
//! recorded).

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod env;
pub mod logs;
pub mod programs;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

thread_local! {
    static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// `console.log`: records one output line.
pub fn say(line: impl Into<String>) {
    let line = line.into();
    LINES.with(|lines| lines.borrow_mut().push(line));
}

/// The scripts' `block(ms)` busy-wait: holds the (single-threaded) loop for
/// `ms`. Under virtual time ([`check`]'s loops) it moves the clock instead,
/// so what comes due during the block is overdue by exactly `ms`.
pub fn block(ms: u64) {
    evloop::block_for(Duration::from_millis(ms));
}

/// A loop on virtual time (see [`check`]), for tests that build their own.
pub fn virtual_loop() -> evloop::EventLoop {
    evloop::EventLoop::builder()
        .virtual_time(true)
        .build()
        .unwrap()
}

/// Takes (and clears) the lines recorded so far on this thread.
pub fn take_lines() -> Vec<String> {
    LINES.with(|lines| std::mem::take(&mut *lines.borrow_mut()))
}

/// Runs `main` as the main script of a fresh loop (until nothing referenced is
/// pending), then asserts the recorded lines equal `expected` (a `.out` file).
///
/// The loop runs on virtual time: the clock moves only when the script
/// blocks ([`block`]) or the loop waits for a timer, as if every callback
/// took no time. That is the run Node's `.out` files record on a quiet
/// machine, and it stays the same when the machine is busy or the code runs
/// under valgrind, fifty times slower, where a real clock would make timers
/// due earlier than the script expects. The ordering rules are the same as
/// on real time; tests/suite/loop_behaviour.rs checks those against the
/// real clock.
pub fn check(name: &str, expected: &str, main: impl FnOnce()) {
    take_lines();
    let lp = evloop::EventLoop::builder()
        .virtual_time(true)
        .build()
        .expect("a loop");
    lp.run_main(main);
    drop(lp);
    let actual = take_lines();
    let expected: Vec<&str> = expected.lines().collect();
    if actual != expected {
        let mut msg = format!("scenario {name}: evloop's order differs from Node's\n");
        msg += "--- expected (node) ---\n";
        for line in &expected {
            msg += &format!("  {line}\n");
        }
        msg += "--- actual (evloop) ---\n";
        for line in &actual {
            msg += &format!("  {line}\n");
        }
        panic!("{msg}");
    }
}

/// `node_expected!("GROUP", "NAME")`: `("NAME", text)`, where `text` is
/// `tests/node/GROUP/NAME.out` (what Node printed for `NAME.js`), included at
/// compile time. [`check_every_scenario_ported`] looks for this call, so a
/// port names its scenario with it.
#[allow(unused_macros)]
macro_rules! node_expected {
    ($group:literal, $name:literal) => {
        (
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/node/",
                $group,
                "/",
                $name,
                ".out"
            )),
        )
    };
}
#[allow(unused_imports)]
pub(crate) use node_expected;

/// The folder of a scenario group: `tests/node/GROUP`.
pub fn node_dir(group: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("node")
        .join(group)
}

/// The repository's root, where `cargo` runs and `target/`, `examples/` and
/// `src/` are (the tests are a crate of their own in its `tests/` folder).
#[allow(dead_code)]
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is a folder of the repository")
}

/// Asserts that every `tests/node/GROUP/NAME.js` has a port in `source` (the
/// suite's text, `include_str!` of its own file): a
/// `node_expected!("GROUP", "NAME")` call, whatever its spacing. Keeps the
/// scripts and the suite in sync.
pub fn check_every_scenario_ported(group: &str, source: &str) {
    let squeezed: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let missing: Vec<String> = scenario_names(&node_dir(group))
        .into_iter()
        .filter(|name| !squeezed.contains(&format!("node_expected!(\"{group}\",\"{name}\")")))
        .collect();
    assert!(
        missing.is_empty(),
        "scenarios in tests/node/{group} with no Rust port: {missing:?}"
    );
}

/// The names of `dir/*.js`, sorted.
pub fn scenario_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let path = e.expect("readable dir entry").path();
            let is_js = path.extension().is_some_and(|x| x == "js");
            let stem = path.file_stem()?.to_str()?.to_owned();
            is_js.then_some(stem)
        })
        .collect();
    names.sort();
    names
}

/// How many times a Node script whose output differed is re-run on its own.
pub const NODE_RETRIES: usize = 5;

/// When `node` is on PATH, re-runs every `tests/node/GROUP/*.js` and checks
/// that its `.out` is an output Node prints (there must be at least `min`
/// scripts; stderr is ignored).
/// Node has no virtual time, so a script whose order depends on its timers
/// being on time can print otherwise on a busy machine: scripts run 4 at a
/// time, and one whose output differs is re-run on its own up to
/// [`NODE_RETRIES`] times; it fails only if Node never prints the recorded
/// output. Without node it says it skipped.
pub fn check_node_outputs(group: &str, min: usize) {
    let dir = &node_dir(group);
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => {
            println!("node_outputs_are_current: skipped, `node` is not on PATH");
            return;
        }
    }
    let run_node = |name: &str| -> Child {
        Command::new("node")
            .arg(format!("{name}.js"))
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts")
    };
    let stdout_of = |child: Child| -> String {
        let out = child.wait_with_output().expect("node runs");
        String::from_utf8(out.stdout).expect("utf-8 output")
    };
    let expected_of = |name: &str| -> String {
        std::fs::read_to_string(dir.join(format!("{name}.out"))).expect(".out file exists")
    };
    let names = scenario_names(dir);
    assert!(names.len() >= min, "only {} scenarios", names.len());
    let mut suspects = Vec::new();
    for batch in names.chunks(4) {
        let children: Vec<_> = batch.iter().map(|n| (n, run_node(n))).collect();
        for (name, child) in children {
            if stdout_of(child) != expected_of(name) {
                suspects.push(name.clone());
            }
        }
    }
    let mut stale = String::new();
    for name in suspects {
        let expected = expected_of(&name);
        let mut actual = String::new();
        for _ in 0..NODE_RETRIES {
            actual = stdout_of(run_node(&name));
            if actual == expected {
                break;
            }
        }
        if actual != expected {
            stale +=
                &format!("{name}.js now prints:\n{actual}--- but {name}.out has:\n{expected}---\n");
        }
    }
    assert!(stale.is_empty(), "stale .out files:\n{stale}");
}

/// A fresh, empty scratch directory (Node's `fs.mkdtempSync`), removed
/// when dropped. `name` says which test it is for; a counter keeps two
/// with the same name apart.
#[allow(dead_code)]
pub struct Scratch(pub PathBuf);

#[allow(dead_code)]
impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("evloop-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sets this process's soft limit on open descriptors and returns the old
/// one. The limit is process-wide: only a test binary with a single test may
/// change it.
pub fn set_fd_limit(soft: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        let old = lim.rlim_cur;
        lim.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        old
    }
}

// The watchdog every `#[test]` arms first thing (tests/suite/suite_rules.rs
// checks it): the same file as the unit tests' `crate::test_watchdog`.
#[path = "../../src/test_watchdog.rs"]
mod test_watchdog;
#[allow(unused_imports)] // each test crate uses part of it
pub(crate) use test_watchdog::slowdown;

/// Arms the test's watchdog (60 s, scaled by `EVLOOP_TEST_SLOWDOWN`). The
/// first call also moves the process into the repository's root: cargo runs
/// a test binary in its crate's folder (`tests/`), but the tests name files
/// relative to the root (`file!()`, `tests/node/...`). Every test calls this
/// first, and the `Once` makes the others wait until the move is done.
#[allow(dead_code)]
pub(crate) fn watchdog() -> test_watchdog::Watchdog {
    at_root();
    test_watchdog::watchdog()
}

/// [`watchdog`] with its own limit.
#[allow(dead_code)]
pub(crate) fn watchdog_for(limit: std::time::Duration) -> test_watchdog::Watchdog {
    at_root();
    test_watchdog::watchdog_for(limit)
}

fn at_root() {
    static AT_ROOT: std::sync::Once = std::sync::Once::new();
    AT_ROOT.call_once(|| std::env::set_current_dir(root()).expect("cd to the repository's root"));
}

/// The text of a panic payload (`panic!` with a literal or a format).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic payload>".to_string())
}

/// The most pool jobs that ran at once on `lp`'s thread pool, out of `jobs`
/// that each hold a thread for 20 ms: never more than the pool's threads,
/// and on a busy machine possibly fewer.
pub fn peak_pool_concurrency(lp: &evloop::EventLoop, jobs: usize) -> usize {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    lp.run_main(move || {
        for _ in 0..jobs {
            let (r, p) = (r.clone(), p.clone());
            let _ = evloop::queue_work(
                move || {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    p.fetch_max(now, Ordering::SeqCst);
                    // sleep: makes the jobs likely to overlap; callers assert
                    // only upper bounds (never more jobs than threads), which
                    // hold however the jobs happen to overlap.
                    std::thread::sleep(Duration::from_millis(20));
                    r.fetch_sub(1, Ordering::SeqCst);
                },
                |res| res.unwrap(),
            );
        }
    });
    peak.load(Ordering::SeqCst)
}
