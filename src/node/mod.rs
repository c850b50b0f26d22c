//! Node's modules in Rust form, on the loop (`rt`) and the futures
//! (`futures`): `child_process`, `fs`, `net`, `dgram`, `dns`, `events` (the
//! emitter), `process` (its events and signals), `worker_threads` and
//! `perf_hooks` (the loop metrics).

pub mod child_process;
mod chunk_cursor;
pub mod dgram;
pub mod dns;
pub(crate) mod emitter;
pub mod fs;
mod item_stream;
pub(crate) mod metrics;
pub mod net;
pub(crate) mod out_queue;
pub mod process;
pub(crate) mod signal;
pub(crate) mod stdio;
pub(crate) mod worker;
mod write_waiter;
