//! # evloop
//!
//! A hand-built, single-threaded event loop that reproduces Node.js's
//! call-stack / queues / event-loop model exactly: libuv's phases (timers →
//! pending → idle/prepare → poll → check → close), Node's next-tick and
//! microtask queues drained after every callback, and Node's timer rules.
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! let out = Rc::new(RefCell::new(Vec::new()));
//! let o = out.clone();
//! let say = move |s: &'static str| o.borrow_mut().push(s);
//! evloop::run(move || {
//!     let s = say.clone();
//!     evloop::set_timeout(0, move || s("timeout"));
//!     let s = say.clone();
//!     evloop::set_immediate(move || s("immediate"));
//!     let s = say.clone();
//!     evloop::queue_microtask(move || s("microtask"));
//!     let s = say.clone();
//!     evloop::next_tick(move || s("next tick"));
//!     say("sync");
//! });
//! let out = out.borrow();
//! assert_eq!(out[..3], ["sync", "next tick", "microtask"]);
//! // As in Node, setTimeout(0) vs setImmediate from the main script depends
//! // on whether 1 ms passed before the first timers phase.
//! assert_eq!(out.len(), 5);
//! ```
//!
//! ## Map of the crate
//! - [`EventLoop`], [`run`], [`RunMode`]: the loop and how to drive it; the
//!   phase order is in one function, `Core::iterate_as` in `src/rt/run.rs`.
//! - Queues: [`next_tick`], [`queue_microtask`], [`set_immediate`].
//! - Timers: [`set_timeout`], [`set_interval`], [`Timer`] (a timing wheel).
//! - Loop watchers, as libuv's: [`Idle`], [`Prepare`], [`Check`]; every
//!   handle of the loop: [`walk`].
//! - Other threads: [`LoopHandle`] posts closures into a loop and wakes it.
//! - Failure: panics in callbacks follow the policy on [`EventLoop`].
//! - Every order Node could print: [`Builder::seed`] replays one schedule
//!   of the choices Node leaves to the machine, [`explore`] tries them all.
#![deny(missing_docs)]

// Three layers, each using only the ones below it: the Node-style modules
// (`node`) build on the futures (`futures`), which build on the loop (`rt`).
mod futures;
mod node;
mod rt;
#[cfg(test)]
mod test_prop;
#[cfg(test)]
mod test_watchdog;

#[doc(hidden)]
pub use futures::combinator::__private;
pub use futures::combinator::{
    AggregateError, AllSettled, Any, Either, JoinAll, Race, Select, TryJoinAll, all_settled, any,
    join_all, race, select, try_join_all,
};
pub use futures::promise::{
    BrokenPromise, Deferred, ExecutorPanic, Resolver, deferred, promise, try_promise,
};
pub use futures::stream::{
    Generator, Next, Receiver, SendError, SendFuture, Sender, Stream, StreamNext, TrySendError,
    Yielder, channel, stream,
};
pub use futures::sync::{
    Acquire, Limit, Permit, RateLimiter, Semaphore, TokenBucket, WaitForSlot, WaitForToken, limit,
};
pub use futures::then::Thenable;
pub use futures::timer::{Elapsed, Interval, Sleep, Timeout, interval, sleep, timeout};
pub use node::emitter::{
    DEFAULT_EVENT_STREAM_CAPACITY, DEFAULT_MAX_LISTENERS, ErrorMonitor, Event, EventEmitter,
    EventStream, EventStreamCloser, Listener, ListenerId, NewListener, RemoveListener,
    WeakEventEmitter, on_event, on_event_or_error, once_event, once_event_or_error,
};
pub use node::metrics::{DelayMonitor, Elu, event_loop_utilization, monitor_event_loop_delay};
pub use node::worker::{
    NextMessage, ParentPort, PostMessageError, Worker, WorkerError, WorkerExit, run_worker,
};
pub use node::{child_process, dgram, dns, fs, net, process};
pub use rt::current::{block_for, handle, hrtime, now, set_uncaught_panic_handler, stop, walk};
pub use rt::env::trace_from_env;
pub use rt::event_loop::{Builder, EventLoop, run, run_async};
pub use rt::executor::{Task, YieldNow, spawn, spawn_fallible, yield_now};
pub use rt::explore::search::{Exploration, Outcome};
pub use rt::explore::{ExploreOptions, Recorder, assert_every_order, explore};
pub use rt::fd::FdWatcher;
pub use rt::panic::UncaughtPanic;
pub use rt::pool::{
    CancelError, DEFAULT_THREADPOOL_SIZE, MAX_THREADPOOL_SIZE, Work, WorkError, queue_work,
};
pub use rt::queue::{Immediate, clear_immediate, next_tick, queue_microtask, set_immediate};
/// The cross-thread wake-flag protocol, exported only to the loom model
/// (`RUSTFLAGS="--cfg loom" cargo test --test loom --release`).
#[cfg(loom)]
#[doc(hidden)]
pub use rt::remote::WakeFlag;
pub use rt::remote::{DEFAULT_POST_LIMIT, LoopHandle, PostError, TryPostError};
pub use rt::run::RunMode;
pub use rt::schedule::{Choice, ChoiceKind};
pub use rt::timer::{
    Delay, TIMEOUT_MAX, Timer, clear_interval, clear_timeout, set_interval, set_interval_with,
    set_timeout, set_timeout_with,
};
pub use rt::trace::{Labels, Phase, RefCounts, Snapshot, snapshot};
pub use rt::walk::{HandleInfo, HandleKind};
pub use rt::watcher::{Check, Idle, Prepare};

/// The README's Rust examples, compiled and run as doctests so they stay
/// true (never part of a normal build).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
