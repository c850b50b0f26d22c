//! Node's modules in Rust form, on the loop (`rt`) and the futures
//! (`futures`): `child_process`, `fs`, `net`, `events` (the emitter), `process` (its events),
//! `worker_threads` and `perf_hooks` (the loop metrics).

pub mod child_process;
pub(crate) mod emitter;
pub mod fs;
pub(crate) mod metrics;
pub mod net;
pub mod process;
pub(crate) mod worker;
