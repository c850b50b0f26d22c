//! Child processes after Node's `child_process`: [`spawn`] (callbacks:
//! `spawn`, `exit`, `close`, `error`; futures: [`ChildProcess::wait`]),
//! its pipes ([`ChildReader`] for stdout/stderr with a lines helper,
//! [`ChildWriter`] for stdin), and [`exec`] / [`exec_file`] collecting the
//! output (futures: [`promises`]).
//!
//! Reaping: each child gets a pidfd (`pidfd_open`, Linux ≥ 5.3) registered
//! with the loop's reactor like a socket. It becomes readable when the
//! child exits; the poll phase then reaps that pid only (std's
//! `Child::try_wait`, one `waitpid`). No process-wide `SIGCHLD` handler, no
//! thread per child, nothing shared between loops. Files: the process and
//! its events in `child.rs`, the pipes in `reader.rs` and `writer.rs`,
//! `exec` in `exec.rs` and its futures in `promises.rs`, the two raw
//! system calls in `sys.rs`.
//!
//! ```
//! use evloop::child_process::{self, ExecOptions, SpawnOptions};
//! evloop::run(|| {
//!     let child = child_process::spawn("sh", ["-c", "echo one; echo two"], SpawnOptions::default())
//!         .unwrap();
//!     child.stdout().unwrap().on_line(|line| println!("child said {line}"));
//!     child.on_close(|status| println!("close {status}")); // "close 0 null"
//!     child_process::exec("echo done", ExecOptions::default(), |r| {
//!         print!("{}", r.unwrap().stdout);
//!     })
//!     .unwrap();
//! });
//! ```

mod child;
mod exec;
pub mod promises;
pub(in crate::node) mod reader;
mod sys;
mod writer;

pub use child::{ChildProcess, ExitStatus, SpawnOptions, Stdio, Wait, signal_name, spawn};
pub use exec::{ExecError, ExecOptions, Output, exec, exec_file};
pub use promises::Exec;
pub use reader::{ChildReader, Chunks, Lines};
pub use writer::{ChildWriter, Flushed};
