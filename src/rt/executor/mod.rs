//! The future executor: tasks on the loop, polled in the microtask
//! checkpoint so that `await` orders like a resolved promise.
//!
//! A task is one 56-byte slot in the task table (`arena`), which holds its
//! cell (its future, then its output) in place when it is small and a box of
//! it otherwise; the future is polled where it lies. Waking a task queues one
//! microtask that polls it (as an 8-byte key in the microtask queue, see
//! `queue::Microtasks`); a task woken twice before it runs is polled once.
//! The executor's own leaf futures (timers, promises, channels) recognise
//! their task's waker and store the task's key instead of cloning the waker,
//! and so does a `Task` awaited by another task, so the common wake is a
//! queue push with no atomics and no allocation; any other waker (from
//! another executor, or woken from another thread) goes through an `Arc`
//! waker made once per task, and a wake from another thread reaches the loop
//! through the cross-thread path.
//!
//! Two shortcuts skip a return to the drain when nothing could tell the
//! difference (see `poll::poll_task` and `poll::poll_cell`): a task that wakes itself
//! while no other microtask is queued is polled again at once, and a task
//! poll that is the only microtask queued runs right after the poll that
//! queued it.
//!
//! One idea a file, each importing its siblings directly (this file only
//! declares them and re-exports what the rest of the crate uses):
//! - `state`: a task's key, the flags in its slot (each with its
//!   invariants), who awaits its handle, and the `TaskWaker` data behind a
//!   task's `Arc` waker;
//! - `arena`: the slots, which never move, and `Runnable`, the interface of
//!   the task cell a slot holds;
//! - `table`: the `Executor`, one loop's task table and its side maps (what
//!   `Core` owns), and what every part uses to find, count and free a task;
//! - `waker`: the waker protocol (the borrowed poll waker, `Arc` wakers for
//!   clones, cross-thread wakes, and `Waiter` for leaf futures);
//! - `poll`: queueing a task's poll, polling it in place, finishing it;
//! - `task`: `spawn`, the task's cell (the future, then its output), the
//!   `Task` handle and `yield_now`.
//!
//! `state`, `arena` and `table` are leaves: they import nothing that polls
//! or wakes a task, so `Core` (`crate::rt::core`) holds an `Executor`
//! without importing `waker`, `poll` or `task`, which use `Core`.

mod arena;
mod poll;
mod state;
pub(in crate::rt) mod table;
mod task;
#[cfg(test)]
mod tests;
mod waker;

pub(crate) use poll::poll_task;
pub use task::{Task, YieldNow, spawn, spawn_fallible, yield_now};
pub(crate) use waker::Waiter;
