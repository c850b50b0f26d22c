//! What every example shares (`mod support;` at the top of each: a folder
//! with a `mod.rs` is not an example of its own to cargo).
//!
//! [`init`], first thing in `main`:
//! - sets up `env_logger`, so evloop's log warnings show on stderr (the
//!   blocked-loop watchdog, `EVLOOP_WATCHDOG_MS=100`; the max-listeners
//!   leak warning, which evloop also prints as a process warning), and with `EVLOOP_TRACE=1` its
//!   trace of every phase and callback (target `evloop::trace`, level
//!   `trace`), with no `RUST_LOG` needed; `RUST_LOG` still works as usual;
//! - reads the `--explain` flag, which turns on [`explain!`]: narration on
//!   stdout, each line `» [phase] text`, where `phase` is the loop's phase
//!   at that moment (`main` while the main script runs). Without the flag
//!   an example prints exactly what Node prints for the article's snippet;
//!   with it, the same lines in the same order, with narration between
//!   them (tests/examples/golden.rs checks both).
// Each example uses part of this module.
#![allow(dead_code, unused_imports, unused_macros)]

use std::sync::atomic::{AtomicBool, Ordering};

static EXPLAIN: AtomicBool = AtomicBool::new(false);

/// Sets up logging and reads `--explain` (see the module docs).
pub fn init() {
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"));
    // A bad value is left for the loop to report: its `build()` (and so
    // `evloop::run`) fails naming the variable.
    if evloop::trace_from_env().unwrap_or(false) {
        logger.filter_module("evloop::trace", log::LevelFilter::Trace);
    }
    logger.format_timestamp(None).init();
    let explain = std::env::args().skip(1).any(|arg| arg == "--explain");
    EXPLAIN.store(explain, Ordering::Relaxed);
}

/// Whether `--explain` was given.
pub fn explaining() -> bool {
    EXPLAIN.load(Ordering::Relaxed)
}

/// Prints `text` as narration, each line as `» [phase] line`. Call it only
/// while a loop runs on this thread (its phase is read from
/// `evloop::snapshot()`); [`explain!`] calls it only with `--explain`.
pub fn narrate(text: &str) {
    let phase = evloop::snapshot().phase.name();
    for line in text.lines() {
        println!("» [{phase}] {line}");
    }
}

/// `explain!("format", args..)`: with `--explain`, narrates the formatted
/// text ([`narrate`]); without it, does nothing (not even the formatting).
macro_rules! explain {
    ($($arg:tt)*) => {
        if $crate::support::explaining() {
            $crate::support::narrate(&format!($($arg)*));
        }
    };
}
pub(crate) use explain;
