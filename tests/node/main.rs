//! The suites that port the Node.js scripts of tests/node/GROUP/ (see
//! tests/node/README.md) and test the Node-style APIs around them: one test
//! binary (issue 16: one link instead of five cuts the build of
//! `cargo test`).
//!
//! Each file is a module, so a test's name starts with its file's:
//! `cargo test --test node node_order::` runs tests/node/node_order.rs.

#[path = "../common/mod.rs"]
mod common;

mod child;
mod dgram;
mod dns;
mod emitter;
mod explore;
mod fs;
mod net;
mod node_async;
mod node_order;
mod process;
mod signal;
mod watch;
mod worker;
