//! Worker threads: a closure on its own thread with its own event loop,
//! talking to its parent by messages (Node's `worker_threads`).
//!
//! Built on the loop's public pieces: each worker thread runs its own
//! [`EventLoop`], and everything that crosses threads is a [`LoopHandle`]
//! post.
//!
//! # Plumbing
//! Each direction is a [`Pipe`]: a mutex-guarded queue plus the receiving
//! loop's handle. Sending pushes the value and posts one job that pops one
//! value on the receiving thread, so values arrive in order, one per
//! poll-phase callback, each followed by the tick/microtask drain. A value
//! that cannot be sent is handed back to the sender. Lifecycle events
//! (online, error, exit) are posted through the same handle by the same
//! thread, so they keep their place among the messages. Posted jobs must be
//! `Send`, so they carry only the worker's id; on the receiving thread they
//! find the (`!Send`) listeners in a thread-local registry.
//!
//! Files: the [`Worker`] handle and [`run_worker`] in `handle.rs`; the
//! parent's side of the events (the state behind the handle, the jobs that
//! deliver them) in `parent.rs`; the exit code and its future
//! [`WorkerExit`] in `exit.rs`; the worker thread's side and [`ParentPort`]
//! in `port.rs`; what both threads share about a worker (`Shared`) in
//! `shared.rs`; the cross-thread `Pipe` in `pipe.rs`, and the locking of
//! the shared mutexes in `lock.rs`; the receiving end's listeners and buffer
//! (`Mailbox`, [`NextMessage`]) in `mailbox.rs`; the thread-local
//! registries and the loop-drop hook in `registry.rs`; the error types in
//! `error.rs`.
//!
//! [`EventLoop`]: crate::EventLoop
//! [`LoopHandle`]: crate::LoopHandle
//! [`Pipe`]: pipe::Pipe

mod error;
mod exit;
mod handle;
mod lock;
mod mailbox;
mod parent;
mod pipe;
mod port;
mod registry;
mod shared;

pub use error::{PostMessageError, WorkerError};
pub use exit::WorkerExit;
pub use handle::{Worker, run_worker};
pub use mailbox::NextMessage;
pub use port::ParentPort;
