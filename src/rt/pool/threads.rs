//! The pool's data, which `Core` owns: its threads, its queue and the
//! table of jobs waiting for their `after_work`, and its size. Queueing,
//! completing and cancelling jobs on a loop are in `pool`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender};
use slab::Slab;

use crate::rt::callback::Site;
use crate::rt::trace::observer::PoolSink;

/// The default number of pool threads (libuv's default).
pub const DEFAULT_THREADPOOL_SIZE: usize = 4;
/// The largest pool (libuv's limit).
pub const MAX_THREADPOOL_SIZE: usize = 1024;

/// Why a job's `after_work` received no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkError {
    /// [`Work::cancel`](crate::Work::cancel) stopped the job before it started (`ECANCELED`).
    Cancelled,
    /// `work` panicked; the message, if the panic carried one. The pool
    /// thread survives.
    Panicked(String),
}

impl fmt::Display for WorkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkError::Cancelled => f.write_str("ECANCELED: operation canceled"),
            WorkError::Panicked(m) => write!(f, "the job panicked on a pool thread: {m}"),
        }
    }
}

impl std::error::Error for WorkError {}

impl From<WorkError> for std::io::Error {
    fn from(e: WorkError) -> std::io::Error {
        let kind = match e {
            WorkError::Cancelled => std::io::ErrorKind::Interrupted,
            WorkError::Panicked(_) => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// [`Work::cancel`](crate::Work::cancel) could not cancel the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelError {
    /// The job is running on a pool thread (`EBUSY`): it will complete.
    Running,
    /// The job already finished or was cancelled.
    Finished,
    /// The job belongs to another event loop: only its own loop's thread can
    /// cancel it (its `after_work` lives there). Nothing was changed.
    OtherLoop,
}

impl fmt::Display for CancelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelError::Running => "EBUSY: the job is already running and cannot be cancelled",
            CancelError::Finished => "the job has already finished",
            CancelError::OtherLoop => {
                "the job belongs to another event loop and can only be cancelled there"
            }
        })
    }
}

impl std::error::Error for CancelError {}

thread_local! {
    /// On a pool thread: its number and the trace sink, if tracing.
    pub(super) static THREAD: std::cell::Cell<Option<(usize, Option<PoolSink>)>> = const { std::cell::Cell::new(None) };
}

pub(super) const QUEUED: u8 = 0;
pub(super) const RUNNING: u8 = 1;
pub(super) const DONE: u8 = 2;
pub(super) const CANCELLED: u8 = 3;

pub(super) type Outcome = Result<Box<dyn Any + Send>, WorkError>;
pub(super) type After = Box<dyn FnOnce(Outcome)>;
pub(super) type Job = Box<dyn FnOnce() + Send>;

pub(super) struct Pending {
    pub(super) after: After,
    pub(super) state: Arc<AtomicU8>,
    pub(super) site: Site,
}

/// One loop's pool.
pub(crate) struct Pool {
    pub(super) size: usize,
    /// Started on first use.
    pub(super) tx: RefCell<Option<Sender<Job>>>,
    /// Jobs whose `after_work` has not run yet.
    pub(super) jobs: RefCell<Slab<Pending>>,
    /// Jobs handed to the pool whose result has not come back.
    pub(super) in_flight: Cell<usize>,
    /// Jobs running on a pool thread right now.
    pub(super) running: Arc<AtomicUsize>,
    /// Where threads record their jobs when a trace file is written.
    pub(super) sink: Option<PoolSink>,
    /// Seeded mode: one queue per thread (no shared `tx`), so that the
    /// loop picks which thread runs each job (`ChoiceKind::PoolThread`).
    /// Started on first use.
    pub(super) routes: RefCell<Vec<Sender<Job>>>,
    /// Seeded mode: jobs queued that no thread has taken yet (by the
    /// model), by id.
    pub(super) parked: RefCell<HashMap<usize, Job>>,
}

impl Pool {
    /// `seeded`: the loop routes each job to a thread (`routes`) and
    /// records the jobs' steps in its replay itself, at virtual times.
    pub(crate) fn new(size: usize, sink: Option<PoolSink>, seeded: bool) -> Pool {
        let sink = sink.map(|mut sink| {
            if seeded {
                sink.replay = None;
            }
            sink
        });
        Pool {
            size,
            tx: RefCell::new(None),
            jobs: RefCell::new(Slab::new()),
            in_flight: Cell::new(0),
            running: Arc::new(AtomicUsize::new(0)),
            sink,
            routes: RefCell::new(Vec::new()),
            parked: RefCell::new(HashMap::new()),
        }
    }

    /// Jobs waiting for a thread.
    pub(crate) fn queued(&self) -> usize {
        (self.tx.borrow().as_ref()).map_or_else(|| self.parked.borrow().len(), |tx| tx.len())
    }

    /// Jobs running on a thread.
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Jobs not yet completed on the loop: they keep it alive.
    pub(crate) fn pending(&self) -> usize {
        self.jobs.borrow().len()
    }

    /// Where each job whose callback has not run was queued, for `walk`.
    pub(crate) fn sites(&self) -> Vec<Site> {
        self.jobs.borrow().iter().map(|(_, job)| job.site).collect()
    }

    /// Jobs handed to threads whose result has not come back: the loop
    /// must wait for them in real time (virtual time does not jump).
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.get()
    }

    pub(super) fn sender(&self) -> Sender<Job> {
        let mut tx = self.tx.borrow_mut();
        if let Some(tx) = &*tx {
            return tx.clone();
        }
        let (sender, rx) = crossbeam_channel::unbounded::<Job>();
        for i in 0..self.size {
            self.spawn(i, rx.clone());
        }
        *tx = Some(sender.clone());
        sender
    }

    /// Seeded mode: the queue of thread `n` alone.
    pub(super) fn route(&self, n: usize) -> Option<Sender<Job>> {
        let mut routes = self.routes.borrow_mut();
        if routes.is_empty() {
            for i in 0..self.size {
                let (sender, rx) = crossbeam_channel::unbounded::<Job>();
                self.spawn(i, rx);
                routes.push(sender);
            }
        }
        routes.get(n).cloned()
    }

    /// Starts pool thread `i`, running the jobs `rx` brings.
    fn spawn(&self, i: usize, rx: Receiver<Job>) {
        let sink = self.sink.clone();
        std::thread::Builder::new()
            .name(format!("evloop-pool-{i}"))
            .spawn(move || {
                if let Some(sink) = &sink {
                    sink.thread(i);
                }
                THREAD.set(Some((i, sink)));
                // A job counts itself in `running` (see `run_step`).
                for job in rx.iter() {
                    job();
                }
            })
            .expect("evloop: cannot start a thread-pool thread");
    }

    /// Drops queued jobs (loop teardown); threads exit once idle.
    pub(crate) fn clear(&self) -> usize {
        self.tx.borrow_mut().take();
        self.routes.borrow_mut().clear();
        let parked = std::mem::take(&mut *self.parked.borrow_mut());
        crate::rt::panic::drop_in_teardown(parked, "a pool job not started", None);
        let jobs = std::mem::take(&mut *self.jobs.borrow_mut());
        let n = jobs.len();
        for (_, job) in jobs {
            job.state.store(CANCELLED, Ordering::Release);
            crate::rt::panic::drop_in_teardown(
                job.after,
                "a pool job's completion callback",
                Some(job.site),
            );
        }
        n
    }
}

/// Reads the pool size from `EVLOOP_THREADPOOL_SIZE`, if set (blank is
/// unset).
pub(crate) fn size_from_env() -> std::io::Result<Option<usize>> {
    crate::rt::env::parse("EVLOOP_THREADPOOL_SIZE", &size_expected(), |v| {
        v.parse().ok().filter(|&n| size_in_range(n))
    })
}

fn size_in_range(n: usize) -> bool {
    (1..=MAX_THREADPOOL_SIZE).contains(&n)
}

/// What a thread-pool size must be, for its errors.
fn size_expected() -> String {
    format!("the thread pool size must be a whole number from 1 to {MAX_THREADPOOL_SIZE}")
}

pub(crate) fn check_size(size: Option<usize>, what: &str) -> std::io::Result<usize> {
    match size {
        Some(n) if size_in_range(n) => Ok(n),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what}: {}", size_expected()),
        )),
    }
}
