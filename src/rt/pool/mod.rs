//! The thread pool for blocking work: a fixed set of threads fed by one
//! queue, whose results come back to the loop's poll phase (libuv's
//! `uv_queue_work`).
//!
//! Each job carries its `work` closure to a pool thread; the `after_work`
//! callback stays on the loop in a table keyed by job id. When `work` ends,
//! the pool thread posts the result through the loop's cross-thread queue
//! (the same path and the same eventfd as `LoopHandle::post`), and the poll
//! phase runs `after_work` with it. The pool is fixed-size because blocking
//! work is bounded by the disk and the cores, not by how many jobs are
//! queued: more threads only add contention (tokio's default pool grows to
//! hundreds of threads on `fs_small` and is 2.4× slower than four).

use std::any::Any;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crossbeam_channel::Sender;

use crate::rt::callback::{Callback, Site};

use crate::rt::context::{try_with_core, with_core};

use crate::rt::core::Core;
use crate::rt::trace::observer::PoolSink;

mod seeded;
pub(crate) mod threads;

use threads::{After, CANCELLED, DONE, Job, Outcome, Pending, QUEUED, RUNNING, THREAD};
pub use threads::{CancelError, DEFAULT_THREADPOOL_SIZE, MAX_THREADPOOL_SIZE, WorkError};

/// Handle to a job from [`queue_work`], to cancel it.
#[derive(Debug)]
pub struct Work {
    loop_id: u32,
    id: usize,
    state: Arc<AtomicU8>,
}

/// Runs `work` on the loop's thread pool and then `after_work` with its
/// result on the loop (libuv's `uv_queue_work`).
///
/// # Ordering
/// `after_work` runs in the **poll phase** of the iteration in which the
/// result arrives, after that iteration's due timers, followed by the
/// next-tick/microtask drain like every callback. Jobs start in FIFO order on
/// the first free thread; at most as many run at once as the pool has
/// threads (4 unless configured: [`Builder::threadpool_size`](crate::Builder::threadpool_size)
/// or `EVLOOP_THREADPOOL_SIZE`). The threads start on the first job. A job
/// not yet completed keeps the loop alive.
///
/// # Errors
/// `after_work` gets [`WorkError::Panicked`] if `work` panics (the pool thread
/// lives on) and [`WorkError::Cancelled`] after [`Work::cancel`].
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// evloop::run(|| {
///     evloop::queue_work(
///         || (1..=10u64).product::<u64>(),
///         |result| assert_eq!(result, Ok(3_628_800)),
///     );
/// });
/// ```
#[track_caller]
pub fn queue_work<T, W, A>(work: W, after_work: A) -> Work
where
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
    A: FnOnce(Result<T, WorkError>) + 'static,
{
    queue_steps(move || Step::Done(work()), after_work)
}

/// One step of a multi-step job (see [`queue_steps`]).
pub(crate) enum Step<T> {
    /// The job is finished with this value.
    Done(T),
    /// Run this next, as a new job at the back of the pool's queue.
    Next(Box<dyn FnOnce() -> Step<T> + Send>),
}

/// What a pool thread needs to run the steps of one job.
struct JobCtx {
    site: Site,
    loop_id: u32,
    id: usize,
    remote: crate::rt::remote::Remote,
    /// The pool's queue; `None` in the seeded mode, where a job's steps all
    /// run on the thread the loop gave it (the model of the pool keeps
    /// count of their turns).
    tx: Option<Sender<Job>>,
    /// The pool's count of jobs running on a thread.
    running: Arc<AtomicUsize>,
    /// Steps run so far, told to the loop with the result (the seeded
    /// mode's model of the pool needs them).
    steps: std::sync::atomic::AtomicU32,
}

/// Like [`queue_work`], but the work may come in steps: each `Step::Next`
/// goes to the back of the pool's queue as its own job, so a long job (a big
/// file read in chunks) shares the threads fairly with the jobs queued
/// behind it, without a trip through the loop between steps. `after_work`
/// runs once, with the final value. Cancelling stops it only before the first
/// step starts.
#[track_caller]
pub(crate) fn queue_steps<T, W, A>(first: W, after_work: A) -> Work
where
    T: Send + 'static,
    W: FnOnce() -> Step<T> + Send + 'static,
    A: FnOnce(Result<T, WorkError>) + 'static,
{
    let site = Location::caller();
    with_core("queue_work", |core| {
        let pool = &core.pool;
        let state = Arc::new(AtomicU8::new(QUEUED));
        let after: After = Box::new(move |outcome: Outcome| {
            after_work(outcome.map(|v| *v.downcast::<T>().expect("a job returns its own type")))
        });
        let id = pool.jobs.borrow_mut().insert(Pending {
            after,
            state: state.clone(),
            site,
        });
        pool.in_flight.set(pool.in_flight.get() + 1);
        core.record(|r, _| r.pool_sink().job(None, "queued", id, site, None));
        let tx = core.schedule.is_none().then(|| pool.sender());
        let ctx = Arc::new(JobCtx {
            site,
            loop_id: core.id,
            id,
            remote: core.remote_ref().clone(),
            tx: tx.clone(),
            running: pool.running.clone(),
            steps: std::sync::atomic::AtomicU32::new(1),
        });
        let job_state = state.clone();
        let job: Job = Box::new(move || {
            if job_state
                .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                return; // cancelled while queued
            }
            ctx.running.fetch_add(1, Ordering::AcqRel);
            run_step(Box::new(first), ctx, job_state);
        });
        match (tx, &core.schedule) {
            (Some(tx), _) => {
                if tx.send(job).is_err() {
                    unreachable!("the pool's threads outlive its sender");
                }
            }
            (None, Some(s)) => {
                s.submitted(id);
                pool.parked.borrow_mut().insert(id, job);
                core.start_pool_jobs(s);
            }
            (None, None) => unreachable!("an unseeded pool has a queue"),
        }
        Work {
            loop_id: core.id,
            id,
            state,
        }
    })
}

/// Runs steps on a pool thread: the next step goes to the back of the queue
/// when other jobs wait (fairness), and runs right here when none does (no
/// hand-off to another thread, which cost 8% on a 64 MiB read). Then
/// reports the end to the loop.
fn run_step<T: Send + 'static>(
    mut step: Box<dyn FnOnce() -> Step<T> + Send>,
    ctx: Arc<JobCtx>,
    state: Arc<AtomicU8>,
) {
    let traced = THREAD.take().map(|t| {
        let started = std::time::Instant::now();
        if let Some(r) = t.1.as_ref().and_then(|s| s.replay.as_ref()) {
            r.job(None, "start", ctx.id, ctx.site, Some(t.0));
        }
        (t, started)
    });
    let outcome: Outcome = loop {
        let next = catch_unwind(AssertUnwindSafe(step));
        if let Ok(Step::Next(_)) = next {
            ctx.steps.fetch_add(1, Ordering::Relaxed);
        }
        match next {
            Ok(Step::Next(next)) if ctx.tx.as_ref().is_none_or(Sender::is_empty) => step = next,
            Ok(Step::Next(next)) => {
                record(traced, ctx.site, ctx.id);
                ctx.running.fetch_sub(1, Ordering::AcqRel);
                let tx = ctx.tx.clone().expect("a job with a queue");
                let job: Job = Box::new(move || {
                    ctx.running.fetch_add(1, Ordering::AcqRel);
                    run_step(next, ctx, state)
                });
                // If the pool is gone (loop dropped), so is whoever waited.
                let _ = tx.send(job);
                return;
            }
            Ok(Step::Done(v)) => break Ok(Box::new(v)),
            Err(p) => break Err(WorkError::Panicked(panic_message(p.as_ref()))),
        }
    };
    record(traced, ctx.site, ctx.id);
    state.store(DONE, Ordering::Release);
    // No longer running before the loop can hear of it: once `after_work`
    // has run, a snapshot must not count the job as running.
    ctx.running.fetch_sub(1, Ordering::AcqRel);
    let (loop_id, id, steps) = (ctx.loop_id, ctx.id, ctx.steps.load(Ordering::Relaxed));
    // If the loop is gone there is nobody to tell. The callback runs under
    // the job's own site, so a panic in it names the `queue_work` call.
    let _ = ctx.remote.post_unreferenced_at(
        Box::new(move || complete(loop_id, id, outcome)),
        ctx.site,
        Some((id, steps)),
    );
}

/// Puts the pool thread's identity back and, when tracing, records the job
/// as a slice on that thread's track.
fn record(traced: Option<((usize, Option<PoolSink>), std::time::Instant)>, site: Site, id: usize) {
    if let Some(((n, sink), started)) = traced {
        if let Some(sink) = &sink {
            sink.job(n, site, started, std::time::Instant::now());
            if let Some(r) = &sink.replay {
                r.job(None, "done", id, site, Some(n));
            }
        }
        THREAD.set(Some((n, sink)));
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    crate::rt::panic::panic_message(p)
        .unwrap_or("<non-string panic>")
        .to_string()
}

/// Runs on the loop, in the poll phase: hands the result to `after_work`.
fn complete(loop_id: u32, id: usize, outcome: Outcome) {
    try_with_core(|core| {
        if core.id != loop_id {
            return;
        }
        let pool = &core.pool;
        pool.in_flight.set(pool.in_flight.get().saturating_sub(1));
        let job = pool.jobs.borrow_mut().try_remove(id);
        if let Some(job) = job {
            (job.after)(outcome);
        }
    });
}

impl Work {
    /// Cancels the job if no pool thread has started it (`uv_cancel`); its
    /// `after_work` then gets [`WorkError::Cancelled`] in the next
    /// iteration's pending phase.
    ///
    /// # Errors
    /// [`CancelError::Running`] if it is running (it will complete normally),
    /// [`CancelError::Finished`] if it already finished or was cancelled,
    /// [`CancelError::OtherLoop`] if the loop running here is not the job's
    /// (the job is left alone).
    ///
    /// # Panics
    /// If no event loop is running on this thread (the job is left alone).
    pub fn cancel(&self) -> Result<(), CancelError> {
        // The loop is checked before the job's state changes: a job marked
        // cancelled that its own loop never hears of would keep that loop
        // alive forever, waiting for an `after_work` that never comes.
        with_core("Work::cancel", |core| {
            if core.id != self.loop_id {
                return Err(CancelError::OtherLoop);
            }
            let pool = &core.pool;
            if core.schedule.is_some() {
                self.cancel_seeded(pool)?;
            }
            match self.state.compare_exchange(
                QUEUED,
                CANCELLED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {}
                Err(RUNNING) => return Err(CancelError::Running),
                Err(_) => return Err(CancelError::Finished),
            }
            pool.in_flight.set(pool.in_flight.get().saturating_sub(1));
            if let Some(s) = &core.schedule {
                s.cancelled(self.id);
            }
            let job = pool.jobs.borrow_mut().try_remove(self.id);
            if let Some(job) = job {
                let Pending { after, site, .. } = job;
                core.record(|r, _| r.pool_sink().job(None, "cancelled", self.id, site, None));
                core.defer_pending(Callback::new(
                    move || after(Err(WorkError::Cancelled)),
                    site,
                ));
            }
            Ok(())
        })
    }
}

impl Core {
    /// The pool's table must be empty before the loop can exit.
    pub(crate) fn pool_busy(&self) -> bool {
        self.pool.pending() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::threads::check_size;
    use super::*;

    #[test]
    fn pool_sizes_outside_1_to_1024_or_not_numbers_are_errors() {
        for bad in [None, Some(0), Some(1025)] {
            let e = check_size(bad, "EVLOOP_THREADPOOL_SIZE=\"x\"").unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
            assert!(
                e.to_string().starts_with("EVLOOP_THREADPOOL_SIZE=\"x\": "),
                "{e}"
            );
        }
        assert_eq!(check_size(Some(1), "x").unwrap(), 1);
        assert_eq!(check_size(Some(1024), "x").unwrap(), 1024);
        // What the environment variable parser hands over for "abc".
        assert_eq!("abc".trim().parse::<usize>().ok(), None);
    }

    /// Once `after_work` has run, the job is no longer counted as running.
    /// (The pool thread used to decrement the count after posting the
    /// result, so a loop that ran the callback and exited at once saw the
    /// job still running in its snapshot: about 3 times in 5 here, and
    /// `tests/suite/trace.rs` failed under valgrind.)
    #[test]
    fn a_completed_job_is_not_counted_as_running() {
        let _w = crate::test_watchdog::watchdog();
        let lp = crate::EventLoop::builder()
            .threadpool_size(1)
            .build()
            .unwrap();
        for round in 0..2000 {
            lp.enter(|| {
                let _ = queue_work(|| (), |_| {});
            });
            lp.run(crate::RunMode::Default);
            assert_eq!(lp.snapshot().pool_running, 0, "round {round}");
        }
    }
}
