//! One direction of a worker's channel: a mutex-guarded queue plus the
//! receiving loop's handle (see "Plumbing" in the module docs).

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::LoopHandle;

use super::lock::lock;

struct PipeState<T> {
    queue: VecDeque<T>,
    /// The receiving loop (unreferenced); `None` until it exists.
    handle: Option<LoopHandle>,
    closed: bool,
}

pub(super) struct Pipe<T> {
    state: Mutex<PipeState<T>>,
}

impl<T: Send + 'static> Pipe<T> {
    pub(super) fn new(handle: Option<LoopHandle>) -> Pipe<T> {
        Pipe {
            state: Mutex::new(PipeState {
                queue: VecDeque::new(),
                handle,
                closed: false,
            }),
        }
    }

    /// Queues `value` and posts `job`, which pops one value on the receiving
    /// loop. Before the receiving loop exists the value just waits (see
    /// [`Pipe::attach`]). Gives the value back if the pipe is closed or the
    /// receiving loop is gone.
    pub(super) fn send(&self, value: T, job: impl FnOnce() + Send + 'static) -> Result<(), T> {
        let mut st = lock(&self.state);
        if st.closed {
            return Err(value);
        }
        // Posting before pushing is safe: the job pops under this lock.
        if let Some(h) = &st.handle
            && h.post(job).is_err()
        {
            st.closed = true;
            st.handle = None;
            return Err(value);
        }
        st.queue.push_back(value);
        Ok(())
    }

    /// Posts a job that carries no value, in order with the values.
    pub(super) fn post(&self, job: impl FnOnce() + Send + 'static) -> bool {
        let st = lock(&self.state);
        match &st.handle {
            Some(h) if !st.closed => h.post(job).is_ok(),
            _ => false,
        }
    }

    /// Connects the receiving loop: one job for each value already waiting,
    /// then direct posts from now on.
    pub(super) fn attach<J: FnOnce() + Send + 'static>(
        &self,
        handle: LoopHandle,
        job: impl Fn() -> J,
    ) {
        let mut st = lock(&self.state);
        if st.closed {
            return;
        }
        for _ in 0..st.queue.len() {
            // Our own loop, alive on this very thread: cannot fail.
            let _ = handle.post(job());
        }
        st.handle = Some(handle);
    }

    /// The oldest value, for a job on the receiving loop.
    pub(super) fn take(&self) -> Option<T> {
        lock(&self.state).queue.pop_front()
    }

    /// Refuses further sends; with `clear`, drops the values not yet taken.
    pub(super) fn close(&self, clear: bool) {
        let (handle, dropped) = {
            let mut st = lock(&self.state);
            st.closed = true;
            let dropped = if clear {
                std::mem::take(&mut st.queue)
            } else {
                VecDeque::new()
            };
            (st.handle.take(), dropped)
        };
        drop(handle);
        drop(dropped);
    }

    /// Posts a last job, then closes the pipe and drops the values not yet
    /// taken.
    pub(super) fn close_with(&self, job: impl FnOnce() + Send + 'static) {
        let (handle, dropped) = {
            let mut st = lock(&self.state);
            if let Some(h) = &st.handle
                && !st.closed
            {
                let _ = h.post(job);
            }
            st.closed = true;
            (st.handle.take(), std::mem::take(&mut st.queue))
        };
        drop(handle);
        drop(dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_hands_back_values_it_cannot_send() {
        let pipe: Pipe<u32> = Pipe::new(None);
        assert_eq!(pipe.send(1, || {}), Ok(()));
        pipe.close(false);
        assert_eq!(pipe.send(2, || {}), Err(2));
        assert_eq!(pipe.take(), Some(1));
    }
}
