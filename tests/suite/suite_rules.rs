//! The rules every test in this suite follows (design.md, "Testing"),
//! checked over the source of every test file (tests/**/*.rs: the test
//! binaries, the modules of the grouped ones and tests/common) so that a new
//! test cannot forget them:
//! - every `#[test]` arms a watchdog first thing (`common::watchdog()`), so
//!   a hang fails in seconds with the test's name instead of holding CI;
//! - no test sleeps a thread to let another side of a race win (the
//!   scripts' `block(ms)` is `evloop::block_for`, which moves virtual time):
//!   a `thread::sleep` in a test file carries a `// sleep:` comment on the
//!   line before it saying why the order it checks does not depend on it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// `(file, line, name)` of every `#[test]` function in a test file whose
/// first statement does not arm a watchdog.
fn tests_without_a_watchdog(file: &str, src: &str) -> Vec<String> {
    let lines: Vec<&str> = src.lines().collect();
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "#[test]" {
            continue;
        }
        let Some(f) = (i + 1..lines.len()).find(|&j| lines[j].trim_start().starts_with("fn "))
        else {
            continue;
        };
        let first = (f + 1..lines.len())
            .map(|j| lines[j].trim())
            .find(|l| !l.starts_with("//"))
            .unwrap_or("");
        if !(first.starts_with("let _w = common::watchdog")) {
            missing.push(format!("{file}:{}: {}", f + 1, lines[f].trim()));
        }
    }
    missing
}

/// `file:line` of every `thread::sleep` in a test file that no `// sleep:`
/// comment explains.
fn unexplained_sleeps(file: &str, src: &str) -> Vec<String> {
    let lines: Vec<&str> = src.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        // (Spelt in two pieces so that this line does not match itself.)
        if !code.contains(concat!("thread::", "sleep(")) {
            continue;
        }
        let explained = (0..i)
            .rev()
            .take_while(|&j| lines[j].trim().starts_with("//"))
            .any(|j| lines[j].trim().starts_with("// sleep:"));
        if !explained {
            found.push(format!("{file}:{}: {}", i + 1, line.trim()));
        }
    }
    found
}

/// The `.rs` files under `dir`, at any depth.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
}

/// `(tests/PATH, text)` of every test file: tests/*.rs, the modules of the
/// grouped binaries (tests/suite/, tests/node/, tests/examples/) and
/// tests/common/.
fn test_sources() -> Vec<(String, String)> {
    let dir = crate::common::root().join("tests");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&dir).unwrap().display().to_string();
            (
                format!("tests/{name}"),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_test_arms_a_watchdog() {
    let _w = common::watchdog();
    let sources = test_sources();
    assert!(
        sources.len() > 20,
        "found only {} test files",
        sources.len()
    );
    let missing: Vec<String> = sources
        .iter()
        .flat_map(|(f, s)| tests_without_a_watchdog(f, s))
        .collect();
    assert!(
        missing.is_empty(),
        "tests that do not start with `let _w = common::watchdog();`:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_thread_sleep_says_why_it_is_no_race() {
    let _w = common::watchdog();
    let found: Vec<String> = test_sources()
        .iter()
        .flat_map(|(f, s)| unexplained_sleeps(f, s))
        .collect();
    assert!(
        found.is_empty(),
        "thread::sleep with no `// sleep:` comment on the line before:\n{}",
        found.join("\n")
    );
}

/// A grouped test binary (tests/NAME/main.rs) compiles only the modules its
/// main.rs declares: a test file put beside it but not declared there would
/// never build nor run.
#[test]
fn every_file_of_a_grouped_binary_is_one_of_its_modules() {
    let _w = common::watchdog();
    let dir = crate::common::root().join("tests");
    let mut grouped = 0;
    let mut undeclared = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let group = entry.unwrap().path();
        let Ok(main) = std::fs::read_to_string(group.join("main.rs")) else {
            continue;
        };
        grouped += 1;
        for file in std::fs::read_dir(&group).unwrap() {
            let path = file.unwrap().path();
            let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
                continue;
            };
            if path.extension().is_some_and(|x| x == "rs")
                && name != "main"
                && !main.lines().any(|l| l.trim() == format!("mod {name};"))
            {
                undeclared.push(path.strip_prefix(&dir).unwrap().display().to_string());
            }
        }
    }
    assert!(grouped >= 3, "found only {grouped} grouped test binaries");
    assert!(
        undeclared.is_empty(),
        "test files that no tests/*/main.rs declares with `mod NAME;`: {undeclared:?}"
    );
}

/// The two checks find what they should (each could fail).
#[test]
fn the_rules_catch_what_they_describe() {
    let _w = common::watchdog();
    let bad = "#[test]\nfn a() {\n    // note\n    run();\n}\n";
    assert_eq!(tests_without_a_watchdog("x.rs", bad), ["x.rs:2: fn a() {"]);
    let good = "#[test]\n#[should_panic]\nfn a() {\n    let _w = common::watchdog();\n}\n";
    assert!(tests_without_a_watchdog("x.rs", good).is_empty());
    let sleepy = "fn f() {\n    // wait a bit\n    std::thread::sleep(d);\n}\n";
    assert_eq!(unexplained_sleeps("x.rs", sleepy).len(), 1);
    let said = "fn f() {\n    // sleep: only makes the write later; the order is fixed\n    // by the loop.\n    std::thread::sleep(d);\n}\n";
    assert!(unexplained_sleeps("x.rs", said).is_empty());
}

/// The child process of the two tests below: with `EVLOOP_TEST_HANG` set it
/// hangs, and its watchdog (200 ms) must end it; otherwise it passes.
#[test]
fn watchdog_target() {
    let _w = common::watchdog_for(Duration::from_millis(200));
    if std::env::var_os("EVLOOP_TEST_HANG").is_some() {
        loop {
            std::thread::park();
        }
    }
}

/// The full name of [`watchdog_target`] in this test binary (tests/suite/).
const WATCHDOG_TARGET: &str = "suite_rules::watchdog_target";

/// Runs this test binary's `watchdog_target` alone with `env` set.
fn run_watchdog_target(env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", WATCHDOG_TARGET, "--test-threads=1"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the test binary runs")
}

#[test]
fn a_hanging_test_fails_with_its_name_instead_of_hanging() {
    let _w = common::watchdog();
    let out = run_watchdog_target(&[("EVLOOP_TEST_HANG", "1")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    let hung = format!("watchdog: test `{WATCHDOG_TARGET}` still running after");
    assert!(
        stderr.contains(&hung) && stderr.contains("it hangs"),
        "{stderr}"
    );
    // Without the switch the same test passes.
    let out = run_watchdog_target(&[]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn a_bad_slowdown_is_an_error_naming_the_variable() {
    let _w = common::watchdog();
    for bad in ["false", "0", "-1", "2.5", ""] {
        let out = run_watchdog_target(&[("EVLOOP_TEST_SLOWDOWN", bad)]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{bad:?} accepted: {stdout}");
        assert!(
            stdout.contains(&format!(
                "EVLOOP_TEST_SLOWDOWN={bad:?}: expected a whole number from 1 up"
            )),
            "{bad:?}: {stdout}"
        );
    }
}

/// Every public struct and enum implements `Debug` (issue 21: three did
/// not), read from the pinned API list, `docs/public-api.txt` (which CI
/// checks against the code), so a new type cannot forget it.
#[test]
fn every_public_type_implements_debug() {
    let _w = common::watchdog();
    let api = std::fs::read_to_string(crate::common::root().join("docs/public-api.txt")).unwrap();
    let mut types = std::collections::BTreeMap::<&str, bool>::new();
    for line in api.lines() {
        let mut words = line.split_whitespace();
        let (Some(kind @ ("struct" | "enum")), Some(name)) = (words.next(), words.next()) else {
            continue;
        };
        let debug = words
            .next()
            .is_some_and(|w| w.starts_with("impl-Debug-for-"));
        *types.entry(name).or_default() |= debug;
        let _ = kind;
    }
    assert!(types.len() > 50, "read {} types", types.len());
    let missing: Vec<_> = types
        .iter()
        .filter(|(_, d)| !**d)
        .map(|(n, _)| *n)
        .collect();
    assert!(
        missing.is_empty(),
        "public types without Debug: {missing:?}"
    );
}
