//! The pool in the seeded mode: the loop's model of the pool
//! (`Schedule`) decides when each job starts, on which thread, and when it
//! ends, and the loop makes the real pool follow it. A job goes to the
//! thread the model picked (each thread has its own queue) when the model
//! starts it; its result is delivered when the model says it ends, after
//! waiting in real time for that job alone. The loop also records the
//! jobs' `start` and `done` replay steps at those points, at virtual times
//! and with the model's thread, so a seed writes the same page every time.

use std::sync::Arc;

use crate::rt::core::Core;
use crate::rt::schedule::{Schedule, StepEnd};

use super::threads::Pool;
use super::{CancelError, Work};

impl Core {
    /// Hands every job the model starts now to its thread, recording each
    /// start.
    #[cold]
    #[inline(never)]
    pub(in crate::rt) fn start_pool_jobs(&self, s: &Schedule) {
        while let Some((id, thread)) = s.start_next() {
            self.record_job(id, "start", thread);
            // A job of several steps that went to the back of the queue
            // starts again in the model only: it ran whole on its thread.
            let job = self.pool.parked.borrow_mut().remove(&id);
            if let Some(job) = job
                && let Some(route) = self.pool.route(thread)
            {
                // The thread lives as long as its queue's sender.
                let _ = route.send(job);
            }
        }
    }

    /// The pool results of a seeded poll phase: the model picks which
    /// running job ends next, the loop waits for its result (real time),
    /// and delivers it, until the model stops (`Schedule::pick_ending`).
    /// Returns how many callbacks ran.
    pub(in crate::rt) fn deliver_results<const OBSERVED: bool>(&self, s: &Schedule) -> usize {
        let mut ran = 0;
        loop {
            self.start_pool_jobs(s);
            let Some(id) = s.pick_ending(ran > 0) else {
                return ran;
            };
            self.wait_for_result(s, id);
            match s.end_step(id) {
                None => return ran,
                Some(StepEnd::Continues) => {}
                Some(StepEnd::Requeued(thread)) => self.record_job(id, "done", thread),
                Some(StepEnd::Done(thread, job)) => {
                    self.record_job(id, "done", thread);
                    // Its thread is free before its callback runs, as in
                    // libuv: a job waiting for one starts first.
                    self.start_pool_jobs(s);
                    self.run_post::<OBSERVED>(job);
                    ran += 1;
                }
            }
        }
    }

    /// Waits (in real time) until pool job `id` has sent its result,
    /// holding whatever else the inbox brings meanwhile. I/O readiness seen
    /// while waiting is kept for the next poll phase.
    fn wait_for_result(&self, s: &Schedule, id: usize) {
        loop {
            self.hold_inbox(s);
            if s.result_held(id) {
                return;
            }
            let mut fired = self.fired.borrow_mut();
            if let Err(e) = self.reactor.borrow_mut().poll(None, &mut fired) {
                log::error!(target: "evloop", "poll failed: {e}");
            }
        }
    }

    /// Records a job's `start` or `done` on `thread` in the replay, at the
    /// loop's time.
    fn record_job(&self, id: usize, event: &str, thread: usize) {
        let site = self.pool.jobs.borrow().get(id).map(|p| p.site);
        if let Some(site) = site {
            self.record(|r, ms| r.pool_sink().job(Some(ms), event, id, site, Some(thread)));
        }
    }
}

impl Work {
    /// `cancel` in the seeded mode: only a job the model has not started
    /// can be cancelled (its thread may not have taken it for real yet,
    /// but the model says it has). `Ok` when it is still parked, so the
    /// caller goes on to cancel it; the parked job is dropped.
    pub(super) fn cancel_seeded(&self, pool: &Pool) -> Result<(), CancelError> {
        let ours =
            (pool.jobs.borrow().get(self.id)).is_some_and(|p| Arc::ptr_eq(&p.state, &self.state));
        if !ours {
            return Err(CancelError::Finished);
        }
        let parked = pool.parked.borrow_mut().remove(&self.id);
        match parked {
            Some(job) => {
                drop(job);
                Ok(())
            }
            None => Err(CancelError::Running),
        }
    }
}
