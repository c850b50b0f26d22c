//! The programs whose orders Node does not fix, shared by the suite's
//! exploration tests (tests/suite/explore*.rs) and the check against Node
//! (tests/node/explore.rs, beside each program's `.js`).

use std::path::{Path, PathBuf};

use evloop::Recorder;

/// tests/node/explore/main_timeout_vs_immediate.js: a 0 ms timeout and an
/// immediate set by the main script.
pub fn main_timeout_vs_immediate(out: &Recorder) {
    let (a, b) = (out.clone(), out.clone());
    evloop::set_timeout(0, move || a.line("timeout"));
    evloop::set_immediate(move || b.line("immediate"));
}

/// A scratch folder with files `a`, `b`, `c` holding their names (remove
/// it when done).
pub fn three_files(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("evloop-explore-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["a", "b", "c"] {
        std::fs::write(dir.join(name), name).unwrap();
    }
    dir
}

/// tests/node/explore/three_file_reads.js: three `fs.readFile` calls at
/// once, of the files in `dir` ([`three_files`]).
pub fn three_file_reads(dir: &Path, out: &Recorder) {
    for name in ["a", "b", "c"] {
        let out = out.clone();
        evloop::fs::read_to_string(dir.join(name), move |text| {
            out.line(format!("read {}", text.unwrap()));
        });
    }
}

/// tests/node/explore/late_timers.js: three timers 1, 2 and 3 ms after the
/// main script, each setting an immediate.
pub fn late_timers(out: &Recorder) {
    for (name, ms) in [("A", 1), ("B", 2), ("C", 3)] {
        let out = out.clone();
        evloop::set_timeout(ms, move || {
            out.line(name);
            let out = out.clone();
            evloop::set_immediate(move || out.line(format!("i{name}")));
        });
    }
}
