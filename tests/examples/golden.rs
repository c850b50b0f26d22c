//! Golden tests: every article snippet's Rust example prints what Node
//! prints.
//!
//! For each `tests/golden/NAME.js` there is an `examples/NAME.rs`. The
//! expected output is `tests/golden/NAME.out` (what `node NAME.js` printed),
//! or, where runs differ (times, timestamps), `tests/golden/NAME.expect`: the
//! same lines as patterns, in which
//! - `{*}` matches any text,
//! - `{n}` matches a number (digits, optionally a decimal part),
//! - `{n:A..}` matches a number ≥ A, and `{n:A..B}` one ≥ A and < B.
//!
//! The expectation holds for every run of the snippet, Node's in real time
//! included, on a machine however busy: a measured time has only a lower
//! bound (a timer never fires early, but a busy machine can make anything
//! late), and a count only bounds that hold whatever the timing.
//!
//! `tests/golden/NAME.env` (optional) holds `KEY=VALUE` lines for the Rust
//! run, e.g. `EVLOOP_VIRTUAL_TIME=1` for timer-heavy snippets, so they run
//! instantly with exact times; `tests/golden/NAME.evloop.expect` (optional)
//! is what the Rust example must print besides: there, the exact times of
//! virtual time. The examples are built once, then run in parallel. When
//! `node` is on the PATH, the JS is re-run and checked against the shared
//! expectation, and so is the recorded `.out`.
//!
//! Run with `--explain`, an example prints the same lines with narration
//! between them, each narration line starting with `» `
//! (examples/support/mod.rs): without those, its output must meet the same
//! expectations.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn golden_dir() -> PathBuf {
    crate::common::root().join("tests/golden")
}

/// The snippets: names of `tests/golden/*.js`.
pub(crate) fn snippets() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(golden_dir())
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "js").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}

pub(crate) fn expectation(name: &str) -> Result<Vec<String>, String> {
    let dir = golden_dir();
    let path = [
        dir.join(format!("{name}.expect")),
        dir.join(format!("{name}.out")),
    ]
    .into_iter()
    .find(|p| p.exists())
    .ok_or_else(|| format!("{name}: no .expect or .out file"))?;
    Ok(std::fs::read_to_string(path)
        .map_err(|e| format!("{name}: {e}"))?
        .lines()
        .map(String::from)
        .collect())
}

/// `NAME.evloop.expect`: what the Rust example alone must print too, if
/// there is such a file.
pub(crate) fn evloop_expectation(name: &str) -> Result<Option<Vec<String>>, String> {
    let path = golden_dir().join(format!("{name}.evloop.expect"));
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    Ok(Some(text.lines().map(String::from).collect()))
}

pub(crate) fn env_of(name: &str) -> Vec<(String, String)> {
    std::fs::read_to_string(golden_dir().join(format!("{name}.env")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Whether `line` matches `pattern` (see the module docs).
fn matches(pattern: &str, line: &str) -> bool {
    let Some(open) = pattern.find('{') else {
        return pattern == line;
    };
    let Some(close) = pattern[open..].find('}').map(|c| open + c) else {
        return pattern == line;
    };
    let (literal, token, rest) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    if token != "*" && token != "n" && !token.starts_with("n:") {
        // Not a pattern (Node prints objects as `{ a: 1 }`): a literal `{`.
        let Some(line) = line.strip_prefix(&pattern[..=open]) else {
            return false;
        };
        return matches(&pattern[open + 1..], line);
    }
    let Some(line) = line.strip_prefix(literal) else {
        return false;
    };
    if token == "*" {
        return (0..=line.len())
            .filter(|&i| line.is_char_boundary(i))
            .any(|i| matches(rest, &line[i..]));
    }
    if let Some(range) = token.strip_prefix('n') {
        let digits = line
            .char_indices()
            .take_while(|&(i, c)| c.is_ascii_digit() || (c == '.' && i > 0) || (c == '-' && i == 0))
            .map(|(i, c)| i + c.len_utf8())
            .last()
            .unwrap_or(0);
        // Try the longest number first, then shorter ones (a following `.`).
        return (1..=digits).rev().any(|end| {
            let Ok(value) = line[..end].parse::<f64>() else {
                return false;
            };
            let ok = match range.strip_prefix(':') {
                None if range.is_empty() => true,
                Some(r) => {
                    let (lo, hi) = r.split_once("..").unwrap_or((r, ""));
                    lo.parse::<f64>().is_ok_and(|lo| value >= lo)
                        && (hi.is_empty() || hi.parse::<f64>().is_ok_and(|hi| value < hi))
                }
                None => false,
            };
            ok && matches(rest, &line[end..])
        });
    }
    pattern == line
}

pub(crate) fn compare(what: &str, expected: &[String], actual: &str) -> Result<(), String> {
    let actual: Vec<&str> = actual.lines().collect();
    let ok =
        expected.len() == actual.len() && expected.iter().zip(&actual).all(|(e, a)| matches(e, a));
    if ok {
        return Ok(());
    }
    let mut msg = format!("{what}: output differs\n--- expected ---\n");
    for l in expected {
        msg += &format!("  {l}\n");
    }
    msg += "--- actual ---\n";
    for l in &actual {
        msg += &format!("  {l}\n");
    }
    Err(msg)
}

/// How long a snippet (Node's or the Rust example) may run before it is
/// killed as hung: far beyond the few seconds the slowest one takes, even on
/// a busy machine (and times `EVLOOP_TEST_SLOWDOWN`).
pub(crate) fn hang_limit() -> Duration {
    Duration::from_secs(120) * common::slowdown()
}

/// Runs a command, killing it if it runs past `limit`; its stdout, or why
/// not.
pub(crate) fn run(cmd: Command, limit: Duration) -> Result<String, String> {
    run_full(cmd, limit).map(|(stdout, _)| stdout)
}

/// [`run`], with stderr too: `(stdout, stderr)`.
fn run_full(mut cmd: Command, limit: Duration) -> Result<(String, String), String> {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    // Both pipes are read while the child runs: a child that writes more
    // than a pipe holds would otherwise wait for ever for its reader.
    fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            return Err(format!("still running after {limit:?}: killed"));
        }
        // sleep: only paces the polling for the child's exit; the output is
        // read by the threads above, whenever it comes.
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().map_err(|_| "reading stdout panicked")?;
    let stderr = stderr.join().map_err(|_| "reading stderr panicked")?;
    if !status.success() {
        return Err(format!("exited with {status}; stderr:\n{stderr}"));
    }
    Ok((stdout, stderr))
}

pub(crate) fn examples_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::root().join("target"));
    target.join("debug/examples")
}

/// Builds the examples, once per test run (the tests that run them share
/// the build).
pub(crate) fn build_examples() {
    static BUILT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *BUILT.get_or_init(|| {
        Command::new(env!("CARGO"))
            .args(["build", "-q", "--examples"])
            .current_dir(crate::common::root())
            .status()
            .expect("cargo build --examples")
            .success()
    });
    assert!(ok, "building the examples failed");
}

/// Runs example `name` with `args`, in its golden environment; its stdout.
fn run_example(name: &str, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(examples_dir().join(name));
    cmd.args(args).current_dir(crate::common::root());
    for (k, v) in env_of(name) {
        cmd.env(k, v);
    }
    run(cmd, hang_limit()).map_err(|e| format!("{name}: {e}"))
}

/// Checks `out`, the stdout of example `name`, against its expectations.
fn check_output(name: &str, what: &str, out: &str) -> Result<(), String> {
    compare(what, &expectation(name)?, out)?;
    match evloop_expectation(name)? {
        Some(exact) => compare(&format!("{what} (evloop)"), &exact, out),
        None => Ok(()),
    }
}

/// Runs `check` on every snippet's name, in parallel, and fails with the
/// errors it returns.
pub(crate) fn for_every_snippet(check: impl Fn(&str) -> Result<(), String> + Sync) {
    let names = snippets();
    let failures: BTreeMap<String, String> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let check = &check;
                s.spawn(move || (name.clone(), check(name)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| {
                let (name, r) = h.join().unwrap();
                r.err().map(|e| (name, e))
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} snippets differ:\n{}",
        failures.len(),
        names.len(),
        failures.values().cloned().collect::<Vec<_>>().join("\n")
    );
}

/// What starts a line of `--explain` narration (examples/support/mod.rs).
const NARRATION: &str = "» ";

#[test]
fn every_snippet_prints_what_node_prints() {
    // Building the examples may wait for cargo's lock and take minutes on a
    // busy machine.
    let _w = common::watchdog_for(Duration::from_secs(900));
    build_examples();
    for_every_snippet(|name| {
        let out = run_example(name, &[])?;
        if out.lines().any(|l| l.starts_with(NARRATION)) {
            return Err(format!("{name}: narration without --explain"));
        }
        check_output(name, name, &out)
    });
}

/// `--explain` only adds narration: without its lines, the output is what
/// Node prints, and there is some narration.
#[test]
fn explain_only_adds_narration() {
    let _w = common::watchdog_for(Duration::from_secs(900));
    build_examples();
    for_every_snippet(|name| {
        let out = run_example(name, &["--explain"])?;
        let (narration, program): (Vec<&str>, Vec<&str>) =
            out.lines().partition(|l| l.starts_with(NARRATION));
        if narration.is_empty() {
            return Err(format!("{name} --explain: no narration"));
        }
        let program: String = program.iter().map(|l| format!("{l}\n")).collect();
        check_output(
            name,
            &format!("{name} --explain, narration left out"),
            &program,
        )
    });
}

/// The examples set up logging (examples/support/mod.rs) so that
/// `EVLOOP_TRACE=1` alone shows evloop's trace, and the watchdog's warning
/// shows by default, both on stderr, leaving stdout as it was.
#[test]
fn trace_and_watchdog_show_without_rust_log() {
    let _w = common::watchdog_for(Duration::from_secs(900));
    build_examples();
    let run_with = |name: &str, key: &str, value: &str| {
        let mut cmd = Command::new(examples_dir().join(name));
        cmd.current_dir(crate::common::root())
            .env_remove("RUST_LOG")
            .env(key, value);
        run_full(cmd, hang_limit()).unwrap()
    };
    let (stdout, stderr) = run_with("read_file_callback", "EVLOOP_TRACE", "1");
    assert!(
        stderr.contains("evloop::trace") && stderr.contains("poll: 1 callback(s)"),
        "no trace on stderr:\n{stderr}"
    );
    compare(
        "read_file_callback",
        &expectation("read_file_callback").unwrap(),
        &stdout,
    )
    .unwrap();
    // calculatePrimes(50000) holds the main script far longer than 100 ms.
    let (stdout, stderr) = run_with("primes_blocking_vs_worker", "EVLOOP_WATCHDOG_MS", "100");
    assert!(
        stderr.contains("evloop::watchdog") && stderr.contains("the main script"),
        "no watchdog warning on stderr:\n{stderr}"
    );
    assert_eq!(stdout, "");
}

/// The rate limiter's log lines carry only a wall-clock timestamp
/// (`new Date().toISOString()`), which the golden patterns cannot compare;
/// on virtual time the timestamps are exact, so their spacing shows the
/// window at work: five requests 100 ms apart (the first five answers take
/// 100 ms), then each one a second after the one five places before it.
#[test]
fn rate_limiter_keeps_to_its_window() {
    let _w = common::watchdog_for(Duration::from_secs(900));
    build_examples();
    let out = run_example("rate_limiter", &[]).unwrap();
    // "Making API request for ID 7 at 2026-11-26T05:49:36.682Z": the time
    // of day in ms.
    let times: Vec<i64> = out
        .lines()
        .filter_map(|l| l.strip_prefix("Making API request for ID "))
        .map(|l| {
            let time = l.rsplit('T').next().unwrap().trim_end_matches('Z');
            let parts: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
            ((parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]) * 1000.0).round() as i64
        })
        .collect();
    let since_first: Vec<i64> = times
        .iter()
        .map(|t| (t - times[0]).rem_euclid(86_400_000))
        .collect();
    let expected: Vec<i64> = (0..20).map(|i| i / 5 * 1000 + i % 5 * 100).collect();
    assert_eq!(since_first, expected, "{out}");
}

#[test]
fn every_snippet_has_an_example() {
    let _w = common::watchdog();
    for name in snippets() {
        // examples/repo_only/ holds the ones that need serde_json or httparse
        // (built by the tests crate).
        let found = ["examples", "examples/repo_only"].iter().any(|dir| {
            crate::common::root()
                .join(dir)
                .join(format!("{name}.rs"))
                .exists()
        });
        assert!(found, "tests/golden/{name}.js has no examples/{name}.rs");
    }
}

#[test]
fn node_still_prints_the_recorded_output() {
    // All scripts at once, then up to three runs alone of a script that did
    // not match (each takes up to 4 s).
    let _w = common::watchdog_for(Duration::from_secs(600));
    if Command::new("node").arg("--version").output().is_err() {
        println!("skipped: node is not on the PATH, so the recorded outputs were not re-checked");
        return;
    }
    let node_run = |name: &str, expected: &[String]| {
        let mut cmd = Command::new("node");
        cmd.arg(golden_dir().join(format!("{name}.js")))
            .current_dir(golden_dir());
        run(cmd, hang_limit())
            .map_err(|e| format!("node {name}.js: {e}"))
            .and_then(|out| compare(&format!("node {name}.js"), expected, &out))
    };
    let mut failures = Vec::new();
    let mut checks = Vec::new();
    for name in snippets() {
        match expectation(&name) {
            Ok(expected) => {
                // The recorded output is one the expectation allows.
                let recorded = std::fs::read_to_string(golden_dir().join(format!("{name}.out")))
                    .map_err(|e| format!("{name}.out: {e}"))
                    .and_then(|out| compare(&format!("{name}.out"), &expected, &out));
                failures.extend(recorded.err());
                checks.push((name, expected));
            }
            Err(e) => failures.push(e),
        }
    }
    // All scripts at once first (they mostly wait on timers).
    let first: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = checks
            .iter()
            .map(|(name, expected)| s.spawn(|| node_run(name, expected)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Node has no virtual time. A script whose order races real time
    // (limited_parallelism's chains of timers, which of rate_limiter's
    // requests must wait) can print another order when a busy machine, or
    // the other scripts, delay Node by a hundred milliseconds or so: the
    // expectation must be an output Node prints, not the only one it can.
    // So a script that did not match is run again alone, up to three times.
    for ((name, expected), mut result) in checks.iter().zip(first) {
        for _ in 0..3 {
            if result.is_ok() {
                break;
            }
            result = node_run(name, expected);
        }
        failures.extend(result.err());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn patterns_match_as_documented() {
    let _w = common::watchdog();
    assert!(matches("Total time: {n:3000..}ms", "Total time: 3004ms"));
    assert!(!matches("Total time: {n:3000..}ms", "Total time: 2999ms"));
    assert!(matches("took {n:1000..2000} ms", "took 1003.5 ms"));
    assert!(!matches("took {n:1000..2000} ms", "took 2000 ms"));
    assert!(matches("[{*}] fetched {n}", "[12:00:01.123] fetched 7"));
    assert!(matches("exact", "exact"));
    assert!(!matches("exact", "exactly"));
    assert!(matches("{*}", ""));
    assert!(matches("Config: { a: 1 }", "Config: { a: 1 }"));
    assert!(!matches("Config: { a: 1 }", "Config: { a: 2 }"));
    assert!(matches("{ took {n:1..} ms }", "{ took 5 ms }"));
}

/// A process warning reaches stderr in Node's format with no logger set up
/// (`RUST_LOG` unset): `(evloop:PID) Name: message`, as Node prints
/// `(node:PID) Name: message`; stdout is unchanged.
#[test]
fn warnings_print_on_stderr_in_nodes_format() {
    let _w = common::watchdog_for(Duration::from_secs(900));
    build_examples();
    let mut cmd = Command::new(examples_dir().join("listener_leak"));
    cmd.current_dir(crate::common::root())
        .env_remove("RUST_LOG")
        .arg("--explain");
    let (stdout, stderr) = run_full(cmd, hang_limit()).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("(evloop:"))
        .unwrap_or_else(|| panic!("no warning on stderr:\n{stderr}"));
    let pid = line["(evloop:".len()..].split(')').next().unwrap();
    assert!(pid.parse::<u32>().is_ok(), "{line}");
    assert!(
        line.ends_with(
            ") MaxListenersExceededWarning: Possible EventEmitter memory leak detected. \
             11 data listeners added to [EventEmitter]. MaxListeners is 10. \
             Use emitter.setMaxListeners() to increase limit"
        ),
        "{line}"
    );
    assert!(stdout.contains("Data received: { id: 2, end: true }"));
}

/// examples/explore_orders.rs finds its order-dependent bug: the run where
/// the message is read before the settings, with a seed; and that seed,
/// given back through `EVLOOP_SEED`, replays that run alone.
#[test]
fn explore_orders_finds_the_bug_and_its_seed_replays_it() {
    let _w = common::watchdog_for(Duration::from_secs(900));
    build_examples();
    let mut cmd = Command::new(examples_dir().join("explore_orders"));
    cmd.current_dir(crate::common::root())
        .env_remove("EVLOOP_SEED");
    let out = run(cmd, hang_limit()).unwrap();
    assert!(out.contains("every schedule tried"), "{out}");
    assert!(
        out.contains("seed 0: settings loaded | message (fr): bonjour"),
        "{out}"
    );
    let seed = out
        .split("replay it with EVLOOP_SEED=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no seed reported:\n{out}"));
    let mut cmd = Command::new(examples_dir().join("explore_orders"));
    cmd.current_dir(crate::common::root())
        .env("EVLOOP_SEED", seed);
    let replay = run(cmd, hang_limit()).unwrap();
    assert_eq!(replay, "message (en): bonjour\nsettings loaded\n");
}
