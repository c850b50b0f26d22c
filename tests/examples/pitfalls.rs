//! The article's pitfalls that Rust turns into compile-time errors.
//!
//! "Forgetting to await Promises" (`examples/repo_only/forgotten_await.rs`): futures
//! and `evloop::Task` are `#[must_use]`, so a missing `.await` whose result
//! is unused is a warning (an error under `-D unused_must_use`), and one
//! whose result is used as the value is a type error. "Forgetting that async
//! functions always return Promises" (`examples/async_returns_promise.rs`):
//! printing a `Task` as if it were its value does not compile.
//!
//! Each case is a tiny library crate compiled with `rustc --emit=metadata`
//! (type and lint checks only, no code generation) against the evloop rlib
//! that cargo built for this test, so the whole file runs in about a second.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `target/debug/deps` directory this test binary runs from, which also
/// holds evloop's rlib and its dependencies.
fn deps_dir() -> PathBuf {
    std::env::current_exe()
        .expect("the test binary's path")
        .parent()
        .expect("the test binary is in a directory")
        .to_path_buf()
}

/// The most recently built evloop rlib in `deps`.
fn evloop_rlib(deps: &Path) -> PathBuf {
    std::fs::read_dir(deps)
        .expect("read target/debug/deps")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libevloop-") && n.ends_with(".rlib"))
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .expect("cargo built evloop's rlib for this test")
}

/// The rustc of the toolchain whose cargo built this test (so the rlib's
/// format matches), or the one on the PATH.
fn rustc() -> PathBuf {
    let sibling = Path::new(env!("CARGO")).with_file_name("rustc");
    if sibling.exists() {
        sibling
    } else {
        PathBuf::from("rustc")
    }
}

/// Compiles `source` as a library crate using evloop, with `-D
/// unused_must_use`; `Ok` or `Err(stderr)`.
fn check(name: &str, source: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("evloop-pitfalls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lib.rs");
    std::fs::write(&file, source).unwrap();
    let deps = deps_dir();
    let mut extern_arg = std::ffi::OsString::from("evloop=");
    extern_arg.push(evloop_rlib(&deps));
    let mut dependency = std::ffi::OsString::from("dependency=");
    dependency.push(&deps);
    let out = Command::new(rustc())
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "--crate-name",
            "pitfall",
        ])
        .args(["--emit=metadata", "-D", "unused_must_use"])
        .arg("-L")
        .arg(dependency)
        .arg("--extern")
        .arg(extern_arg)
        .arg("-o")
        .arg(dir.join("out.rmeta"))
        .arg(&file)
        .output()
        .expect("run rustc");
    let _ = std::fs::remove_dir_all(&dir);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn assert_fails_with(name: &str, source: &str, messages: &[&str]) {
    let stderr = match check(name, source) {
        Ok(()) => panic!("{name}: compiled, but should have been rejected"),
        Err(stderr) => stderr,
    };
    for m in messages {
        assert!(
            stderr.contains(m),
            "{name}: rustc's output does not mention {m:?}:\n{stderr}"
        );
    }
}

/// The corrected code compiles cleanly: the checks below fail for the
/// reason they claim, not because the crate cannot be found.
#[test]
fn awaited_futures_and_detached_tasks_compile() {
    let _w = common::watchdog();
    let good = r#"
        pub async fn process_item(path: &str) -> std::io::Result<String> {
            let data = evloop::fs::promises::read_to_string(path).await?;
            Ok(data)
        }
        pub async fn save(path: &str) -> std::io::Result<()> {
            evloop::fs::promises::write_file(path, "data").await
        }
        pub fn start() {
            evloop::spawn(async { 1 }).detach();
        }
    "#;
    if let Err(stderr) = check("good", good) {
        panic!("the corrected version does not compile:\n{stderr}");
    }
}

#[test]
fn a_future_that_is_not_awaited_is_a_must_use_warning() {
    let _w = common::watchdog();
    let bad = r#"
        pub async fn save(path: &str) {
            evloop::fs::promises::write_file(path, "data"); // Missing .await!
        }
    "#;
    assert_fails_with(
        "future",
        bad,
        &[
            "unused implementer of `Future` that must be used",
            "futures do nothing unless you `.await` or poll them",
        ],
    );
}

#[test]
fn a_task_that_is_neither_awaited_nor_detached_is_a_must_use_warning() {
    let _w = common::watchdog();
    let bad = r#"
        pub fn start() {
            evloop::spawn(async { 1 }); // nobody awaits the Task
        }
    "#;
    assert_fails_with(
        "task",
        bad,
        &[
            "unused `Task` that must be used",
            "a Task does nothing to its caller unless awaited",
        ],
    );
}

/// The article's own shape, the missing await's result used as the string:
/// not even a warning but a type error.
#[test]
fn using_a_future_as_its_value_is_a_type_error() {
    let _w = common::watchdog();
    let bad = r#"
        pub async fn process_item(path: &str) -> usize {
            let data = evloop::fs::promises::read_to_string(path); // Missing .await!
            str::len(&data)
        }
    "#;
    assert_fails_with("value", bad, &["mismatched types", "expected `&str`"]);
}

/// "Forgetting that async functions always return Promises": printing the
/// handle as if it were the value does not compile (JavaScript prints
/// `Hello, [object Promise]`); see `examples/async_returns_promise.rs`.
#[test]
fn printing_a_task_as_its_value_does_not_compile() {
    let _w = common::watchdog();
    let bad = r#"
        async fn get_user_name(_id: u32) -> &'static str {
            "Ada"
        }
        pub fn greet() {
            let name = evloop::spawn(get_user_name(123));
            println!("Hello, {name}");
            name.detach();
        }
    "#;
    assert_fails_with(
        "display",
        bad,
        &["`Task<&str>` doesn't implement `std::fmt::Display`"],
    );
}
