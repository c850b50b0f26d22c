//! [`Shared`]: what the parent's and the worker thread's sides hold of one
//! worker, in an `Arc`.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use crate::LoopHandle;

use super::pipe::Pipe;

/// What both threads share about one worker.
pub(super) struct Shared<In, Out> {
    /// The worker's id, the key of its states in the thread-local registry.
    pub(super) id: u64,
    /// Parent → worker.
    pub(super) inbound: Pipe<In>,
    /// Worker → parent, also carrying the lifecycle events.
    pub(super) outbound: Pipe<Out>,
    /// `terminate` was called, or the parent loop is gone: the worker's loop
    /// stops at its next turn.
    pub(super) terminating: AtomicBool,
    /// The referenced handle that keeps the parent loop alive while the
    /// worker runs; dropped by the worker thread after its exit event.
    pub(super) keepalive: Mutex<Option<LoopHandle>>,
}
