//! For the environment-variable binaries (`tests/env_*.rs`), each of which
//! holds one test because it changes the process environment.

use std::ffi::OsStr;

use evloop::EventLoop;

/// Sets variable `name` to `value`, or removes it (`None`).
pub fn set<V: AsRef<OsStr>>(name: &str, value: Option<V>) {
    // SAFETY: only the `env_*` binaries call this, each holding one test,
    // so nothing else in the process reads or writes the environment
    // meanwhile (evloop reads its variables only in `build()`, on the
    // calling thread; no loop or pool thread reads them after).
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

/// Each of `bad`, as the value of `name`, makes `EventLoop::new()` fail with
/// `InvalidInput` and the message `NAME="bad": why`. Leaves the last one
/// set.
pub fn assert_rejected(name: &str, bad: &[&str], why: &str) {
    for bad in bad {
        set(name, Some(bad));
        let err = EventLoop::new().expect_err(bad);
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{name}={bad}");
        assert_eq!(err.to_string(), format!("{name}={bad:?}: {why}"));
    }
}
