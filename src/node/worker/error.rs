//! What can go wrong: [`WorkerError`] for a worker, [`PostMessageError`]
//! for a message.

use std::fmt;

/// Why a worker failed: what [`Worker::on_error`] listeners receive, and the
/// error of [`run_worker`].
///
/// [`Worker::on_error`]: crate::Worker::on_error
/// [`run_worker`]: crate::run_worker
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkerError {
    /// A panic escaped the worker's code (its main closure or a callback of
    /// its loop): Node's uncaught exception inside a worker. Holds the panic
    /// message (or a placeholder for a payload that is not a string).
    Panicked(String),
    /// The worker could not start: no thread, or no event loop for it.
    StartFailed(String),
    /// From [`run_worker`] only: the worker exited with this code without
    /// posting a result (Node's "Worker stopped with exit code N").
    ///
    /// [`run_worker`]: crate::run_worker
    Exited(i32),
}

impl fmt::Display for WorkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::Panicked(m) => write!(f, "the worker panicked: {m}"),
            WorkerError::StartFailed(m) => write!(f, "the worker could not start: {m}"),
            WorkerError::Exited(code) => write!(
                f,
                "the worker stopped with exit code {code} before posting a result"
            ),
        }
    }
}

impl std::error::Error for WorkerError {}

/// A message could not be posted: the other side is gone. Holds the message
/// back.
///
/// From [`Worker::post_message`]: the worker has exited, is being
/// terminated, or closed its port ([`ParentPort::close`]). From
/// [`ParentPort::post_message`]: the parent's event loop has been dropped.
///
/// [`Worker::post_message`]: crate::Worker::post_message
/// [`ParentPort::close`]: crate::ParentPort::close
/// [`ParentPort::post_message`]: crate::ParentPort::post_message
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostMessageError<T>(pub T);

impl<T> PostMessageError<T> {
    /// The message that was not posted.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Display for PostMessageError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the other side of the worker's channel is gone: the message was not posted")
    }
}

impl<T: fmt::Debug> std::error::Error for PostMessageError<T> {}
