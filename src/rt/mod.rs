//! The loop: libuv's phases, the queues, the timer wheel, the reactor, the
//! thread pool, cross-thread posts, the task executor and the observers.
//! This layer uses nothing above it; `futures` and `node` build on it.

pub(crate) mod callback;
pub(crate) mod clock;
pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod current;
pub(crate) mod drain;
pub(crate) mod env;
pub(crate) mod event_loop;
pub(crate) mod executor;
pub(crate) mod explore;
pub(crate) mod fd;
pub(crate) mod panic;
pub(crate) mod poll;
pub(crate) mod pool;
pub(crate) mod prefetch;
pub(crate) mod process;
pub(crate) mod queue;
pub(crate) mod queues;
pub(crate) mod reactor;
pub(crate) mod refs;
pub(crate) mod rejection;
pub(crate) mod remote;
pub(crate) mod run;
pub(crate) mod schedule;
pub(crate) mod signal;
pub(crate) mod teardown;
pub(crate) mod timer;
pub(crate) mod trace;
pub(crate) mod walk;
pub(crate) mod watcher;
