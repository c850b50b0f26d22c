//! Running an `fs` operation on the thread pool, its error as an `io::Error`.

use std::io;

use crate::rt::pool::queue_work;

/// Runs `op` on the pool and hands its result to `cb`; a panic or a
/// cancellation becomes an `io::Error`.
#[track_caller]
pub(super) fn on_pool<T, W, C>(op: W, cb: C)
where
    T: Send + 'static,
    W: FnOnce() -> io::Result<T> + Send + 'static,
    C: FnOnce(io::Result<T>) + 'static,
{
    let _work = queue_work(op, move |r| cb(r.map_err(io::Error::from).and_then(|r| r)));
}
