//! The tests that build and run the examples as child processes (the
//! golden outputs, the HTTP server, the tour, the `watch_run` tool),
//! compile snippets against evloop (the pitfalls) or open the replay page
//! in a browser (replay_page):
//! one test binary (issue 16: one link instead of four cuts the build of
//! `cargo test`).
//!
//! Each file is a module, so a test's name starts with its file's:
//! `cargo test --test examples golden::` runs tests/examples/golden.rs.

#[path = "../common/mod.rs"]
mod common;

mod echo;
mod embed;
mod golden;
mod http;
mod orders;
mod pitfalls;
mod quiz;
mod replay;
mod replay_page;
mod tour;
mod watch_run;
