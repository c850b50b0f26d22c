//! The behaviour suite: one test binary for the tests of the loop, the
//! executor, the combinators, virtual time, workers, tracing, reliability,
//! the model check and the stress tests, and the rules every test follows
//! (issue 16: one binary instead of twelve links evloop and the
//! dev-dependencies once, which cuts the build of `cargo test`).
//!
//! Each file is a module, so a test's name starts with its file's:
//! `cargo test --test suite loop_behaviour::` runs tests/suite/loop_behaviour.rs.
//! `log` takes one logger per process, so the suites that check what evloop
//! logs share `common::logs`, which keeps each test thread's records apart.
//! The tests that change something process-wide (an environment variable,
//! a resource limit, the global allocator) are binaries of their own in
//! tests/*.rs.

#[path = "../common/mod.rs"]
mod common;

mod bounds;
mod embed;
mod executor;
mod explore;
mod explore_late;
mod fd_watcher;
mod fs_typed;
mod futures_behaviour;
mod futures_io;
mod ledger;
mod loop_behaviour;
mod model;
mod net_smoke;
mod reliability;
mod stress;
mod suite_rules;
mod teardown_panics;
mod then;
mod timer_handles;
mod trace;
mod virtual_time;
mod watchers;
mod worker;
