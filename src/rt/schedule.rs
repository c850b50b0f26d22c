//! The seeded mode's chooser: the one place where a loop built with
//! [`Builder::seed`](crate::Builder::seed) (or `EVLOOP_SEED`) takes a choice
//! that Node leaves to the machine, and the record of every choice taken.
//!
//! A seed is read as a mixed-radix number, one digit per choice: a choice
//! among `n` options picks `seed % n`, and the seed is divided by `n` for
//! the next. So seed 0 takes every default (option 0, the run evloop makes
//! without a seed), a small seed changes only the first choices, and every
//! path through the choice tree is one seed: the path's picks
//! `p1, p2, ...` among `n1, n2, ...` options are the seed
//! `p1 + n1 * (p2 + n2 * (...))` ([`encode`]). Once the seed's digits run
//! out, every later choice is its default; a seed holds about 64 bits of
//! choices. Exploration (`explore`) forces a path directly instead.
//!
//! Each kind of choice is legal in Node (design.md, "Seeded runs and
//! exploration"): a run with any seed prints something Node can print,
//! but for the known differences listed there (an arrival held, or two
//! senders swapped, when the program knows the order they were sent in).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io::Write;

use crate::rt::remote::Job;

/// What a seeded loop chose at one point of a run: see [`Choice`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChoiceKind {
    /// Before the first timers phase of a run, whether the millisecond of a
    /// timer due 1 ms after the main script (`setTimeout(0)`) has already
    /// passed: option 0, no (an immediate set by the main script runs
    /// first), option 1, yes (the timer runs first). Node prints either,
    /// depending on how fast the machine reached its first timers phase.
    FirstTimerDue,
    /// Which running thread-pool job ends next (its result, or one step
    /// of a job of several); option `i` is the `i`-th of them in queue
    /// order. The running jobs are the first as many as the pool has
    /// threads among those not yet delivered: jobs start in the order they
    /// were queued and end in any order, so a pool of one thread keeps
    /// them in order. The loop then waits, in real time, for that job
    /// alone, so the choice never depends on the threads' speed.
    PoolCompletion,
    /// Whether the poll phase goes on to deliver another pool result
    /// (option 0) or leaves the rest for the next iteration's poll
    /// (option 1), as when those jobs end a little later.
    PoolDeliverMore,
    /// Which idle pool thread takes the job that starts next (a job starts
    /// when a thread is free for it, in queue order; a thread is free once
    /// its job's result is delivered, or the job's step went to the back
    /// of the queue). Option `i` is the `i`-th option in thread number
    /// order, so option 0 is the lowest-numbered idle thread. Threads that
    /// have run no job are alike, so only the lowest-numbered of them is an
    /// option: the options are the idle threads that ran a job before and
    /// one fresh thread. The job really runs on the thread picked (named
    /// `evloop-pool-N`). Legal in Node: libuv's pool threads all take work
    /// from one queue, and whichever idle thread wakes first takes it.
    PoolThread,
    /// Whether something that reached the loop from outside (a readiness
    /// event of a socket, pipe, signal, watcher or child, or a post from
    /// another thread: a `LoopHandle` post, a worker's message) is handled
    /// in this poll phase (option 0) or held for a later one (option 1), as
    /// when it lands a little later; a poll that holds the first one lets
    /// the (virtual) clock move on to the next timer meanwhile, so it may
    /// land after that timer ran. The choice holds every arrival left, and
    /// once the oldest has been held twice nothing is held until it is
    /// handled: an arrival is handled at most two iterations after the
    /// first poll phase that could have handled it.
    ArrivalDelay,
    /// Which arrival is handled next (option `i`: the `i`-th candidate in
    /// arrival order): any sender's first, where a sender is a source
    /// (its readiness events) or a thread (its posts). Different senders
    /// race, so which the loop meets first is the machine's; one sender's
    /// arrivals stay in order, as libuv's async queue and a socket's bytes
    /// keep theirs.
    ArrivalOrder,
    /// How late a poll that waits for the next timer wakes: on time
    /// (option 0), or late enough that the timers of the next later
    /// deadline (option 1) or of the next two (option 2) are due too, so
    /// one timers phase runs them all, as in Node on a busy machine. A
    /// loop never wakes early; a wake later than two further deadlines is
    /// not explored.
    PollLate,
}

/// How many poll phases a seeded loop may hold an arrival
/// ([`ChoiceKind::ArrivalDelay`]): it is handled within this many
/// iterations after the first poll phase that could have handled it.
pub(crate) const MAX_HOLDS: u8 = 2;

/// How many timer deadlines past the next one a late poll may reach
/// ([`ChoiceKind::PollLate`]).
pub(crate) const MAX_LATE_DEADLINES: usize = 2;

/// Something that reached a seeded loop from outside, held until the
/// schedule hands it to a poll phase.
pub(in crate::rt) enum Arrival {
    /// A readiness event: the source's token, readable, writable.
    Io(usize, bool, bool),
    /// Another thread's post.
    Post(Job),
}

impl Arrival {
    /// Who sent it (`ArrivalOrder`): the source, or the posting thread.
    fn sender(&self) -> (bool, usize) {
        match self {
            Arrival::Io(token, ..) => (true, *token),
            Arrival::Post(job) => (false, job.sender as usize),
        }
    }
}

/// A job of the model of the pool (`Schedule::order`).
struct PoolJob {
    id: usize,
    /// Steps left, 0 until its result is held.
    left: u32,
    /// The thread running it, while it runs.
    thread: Option<usize>,
}

/// A pool thread of the model.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ThreadState {
    /// It has run no job yet.
    Fresh,
    Idle,
    Busy,
}

/// What a running pool job's step end was (`Schedule::end_step`).
pub(in crate::rt) enum StepEnd {
    /// No other job waits: its next step runs on the same thread.
    Continues,
    /// It ended a step on this thread and waits at the back of the queue
    /// for its next.
    Requeued(usize),
    /// It ended on this thread: its result, to deliver.
    Done(usize, Job),
}

/// One choice a seeded loop took: among how many legal `options` it
/// `picked` which (0 is the default, the run of a loop without a seed).
/// [`EventLoop::choices`](crate::EventLoop::choices) lists a run's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Choice {
    /// What was chosen.
    pub kind: ChoiceKind,
    /// How many legal options there were (at least 2: a point with one
    /// option is no choice and is not recorded).
    pub options: usize,
    /// The option taken, below `options`.
    pub picked: usize,
}

impl ChoiceKind {
    /// The kind whose `Debug` name is `name` (a choice recorded by another
    /// process: `explore::reexec`).
    pub(crate) fn named(name: &str) -> Option<ChoiceKind> {
        use ChoiceKind::*;
        let kind = match name {
            "FirstTimerDue" => FirstTimerDue,
            "PoolCompletion" => PoolCompletion,
            "PoolDeliverMore" => PoolDeliverMore,
            "PoolThread" => PoolThread,
            "ArrivalDelay" => ArrivalDelay,
            "ArrivalOrder" => ArrivalOrder,
            "PollLate" => PollLate,
            _ => return None,
        };
        // Exhaustive: a new kind stops the build here until named above.
        match kind {
            FirstTimerDue | PoolCompletion | PoolDeliverMore | PoolThread | ArrivalDelay
            | ArrivalOrder | PollLate => Some(kind),
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}/{}", self.kind, self.picked, self.options)
    }
}

/// Where the picks come from.
pub(crate) enum Source {
    /// A seed's digits, the rest of it after the choices taken so far.
    Seed(u64),
    /// These picks, in order (each taken modulo its options), then defaults.
    Path(Vec<usize>),
}

/// A seeded loop's chooser and what it holds back to choose among.
pub(crate) struct Schedule {
    source: RefCell<Source>,
    log: RefCell<Vec<Choice>>,
    /// Pool results taken from the inbox, not yet delivered.
    pub(in crate::rt) held: RefCell<Vec<Job>>,
    /// The model of the pool: jobs not yet delivered, in the order of its
    /// queue. The first `threads` are running (each on a thread once
    /// `start_next` gave it one); the rest wait (FIFO).
    order: RefCell<VecDeque<PoolJob>>,
    threads: usize,
    /// The model's pool threads, by number.
    pool_threads: RefCell<Vec<ThreadState>>,
    /// Readiness events and other threads' posts not yet handled, in
    /// arrival order, each with the number of poll phases that held it
    /// (`ArrivalDelay`). At most one `Io` per token: a source reported
    /// again while held keeps its place (edge-triggered readiness says
    /// only "something happened since you last looked").
    arrivals: RefCell<VecDeque<(Arrival, u8)>>,
    /// Where each choice is also appended as it is taken, for the parent
    /// process of an `EVLOOP_EXPLORE` run (`explore::reexec`).
    record: RefCell<Option<std::fs::File>>,
}

impl Schedule {
    pub(crate) fn new(source: Source, threads: usize) -> Schedule {
        Schedule {
            source: RefCell::new(source),
            log: RefCell::new(Vec::new()),
            held: RefCell::new(Vec::new()),
            order: RefCell::new(VecDeque::new()),
            threads: threads.max(1),
            pool_threads: RefCell::new(vec![ThreadState::Fresh; threads.max(1)]),
            arrivals: RefCell::new(VecDeque::new()),
            record: RefCell::new(None),
        }
    }

    /// Appends every choice from now on to `file` too, as it is taken (so
    /// a run that exits or aborts leaves them), for `explore::reexec`.
    pub(in crate::rt) fn record_to(&self, file: std::fs::File) {
        *self.record.borrow_mut() = Some(file);
    }

    /// Picks one of `options` (0 when there is only one, not recorded).
    pub(in crate::rt) fn choose(&self, kind: ChoiceKind, options: usize) -> usize {
        if options < 2 {
            return 0;
        }
        let mut log = self.log.borrow_mut();
        let picked = match &mut *self.source.borrow_mut() {
            Source::Seed(rest) => {
                let n = options as u64;
                let p = *rest % n;
                *rest /= n;
                p as usize
            }
            Source::Path(path) => path.get(log.len()).map_or(0, |&p| p % options),
        };
        let choice = Choice {
            kind,
            options,
            picked,
        };
        if let Some(file) = &mut *self.record.borrow_mut() {
            // `OPTIONS PICKED KIND`, read back by `explore::reexec`. A
            // failed write leaves the record short, never the run changed.
            let _ = writeln!(file, "{options} {picked} {kind:?}");
        }
        log.push(choice);
        picked
    }

    /// A pool job was queued (`queue_steps`).
    pub(in crate::rt) fn submitted(&self, id: usize) {
        self.order.borrow_mut().push_back(PoolJob {
            id,
            left: 0,
            thread: None,
        });
    }

    /// A queued pool job was cancelled: it never runs.
    pub(in crate::rt) fn cancelled(&self, id: usize) {
        let mut order = self.order.borrow_mut();
        if let Some(at) = order.iter().position(|j| j.id == id)
            && let Some(PoolJob {
                thread: Some(t), ..
            }) = order.remove(at)
        {
            self.pool_threads.borrow_mut()[t] = ThreadState::Idle;
        }
    }

    /// Holds a pool result until the model delivers it.
    pub(in crate::rt) fn hold(&self, job: Job) {
        if let Some(id) = job.pool_job()
            && let Some(e) = self.order.borrow_mut().iter_mut().find(|e| e.id == id)
        {
            e.left = job.steps().max(1);
        }
        self.held.borrow_mut().push(job);
    }

    /// Whether pool job `id`'s result is held.
    pub(in crate::rt) fn result_held(&self, id: usize) -> bool {
        self.held.borrow().iter().any(|j| j.pool_job() == Some(id))
    }

    /// Whether the model has pool jobs not yet delivered (one of them is
    /// running, so the next poll phase delivers at least one result).
    pub(in crate::rt) fn pool_busy(&self) -> bool {
        !self.order.borrow().is_empty()
    }

    /// Starts the next job a free thread takes, if any: the first of the
    /// running jobs (the first `threads` not yet delivered) without a
    /// thread gets one of the idle threads (`ChoiceKind::PoolThread`).
    /// Returns the job and its thread; call until `None`.
    pub(in crate::rt) fn start_next(&self) -> Option<(usize, usize)> {
        let at =
            (self.order.borrow().iter().take(self.threads)).position(|j| j.thread.is_none())?;
        let options: Vec<usize> = {
            let threads = self.pool_threads.borrow();
            let fresh = threads.iter().position(|&t| t == ThreadState::Fresh);
            (0..threads.len())
                .filter(|&t| threads[t] == ThreadState::Idle || Some(t) == fresh)
                .collect()
        };
        // Never empty: each running job with a thread holds one, and fewer
        // than `threads` jobs do.
        let thread = *options.get(self.choose(ChoiceKind::PoolThread, options.len()))?;
        self.pool_threads.borrow_mut()[thread] = ThreadState::Busy;
        let mut order = self.order.borrow_mut();
        order[at].thread = Some(thread);
        Some((order[at].id, thread))
    }

    /// Which pool job ends next (a step, or its result), by the model of a
    /// FIFO pool of `threads` threads whose jobs end in any order: one of
    /// the running jobs (the first `threads` not yet delivered, in queue
    /// order). `None` when none runs, or when `delivered` (this poll phase
    /// delivered a result already) and the choice leaves the rest for the
    /// next poll. The caller waits for its result, then calls `end_step`.
    pub(in crate::rt) fn pick_ending(&self, delivered: bool) -> Option<usize> {
        let running = self.order.borrow().len().min(self.threads);
        if running == 0 || (delivered && self.choose(ChoiceKind::PoolDeliverMore, 2) == 1) {
            return None;
        }
        let at = self.choose(ChoiceKind::PoolCompletion, running);
        Some(self.order.borrow()[at].id)
    }

    /// Running job `id`, whose result is held, ends a step (see
    /// [`StepEnd`]). A job of several steps that ends one while others
    /// wait goes to the back of the queue, freeing its thread, as
    /// `run_step` does. `None` if `id` is not running.
    pub(in crate::rt) fn end_step(&self, id: usize) -> Option<StepEnd> {
        let mut order = self.order.borrow_mut();
        let at = order.iter().position(|j| j.id == id)?;
        let thread = order[at].thread?;
        let left = order[at].left;
        if left > 1 {
            order[at].left = left - 1;
            if order.len() <= self.threads {
                return Some(StepEnd::Continues);
            }
            let mut job = order.remove(at)?;
            job.thread = None;
            order.push_back(job);
            self.pool_threads.borrow_mut()[thread] = ThreadState::Idle;
            return Some(StepEnd::Requeued(thread));
        }
        order.remove(at);
        self.pool_threads.borrow_mut()[thread] = ThreadState::Idle;
        let mut held = self.held.borrow_mut();
        let i = held.iter().position(|j| j.pool_job() == Some(id))?;
        Some(StepEnd::Done(thread, held.swap_remove(i)))
    }

    /// A poll's readiness events arrive, in the order the kernel listed
    /// them; a source already held takes the new flags where it waits
    /// (edge-triggered readiness only says "something happened since you
    /// last looked").
    pub(in crate::rt) fn arrive_io(&self, batch: impl IntoIterator<Item = (usize, bool, bool)>) {
        let mut arrivals = self.arrivals.borrow_mut();
        for (token, r, w) in batch {
            let held = arrivals.iter_mut().find_map(|(a, _)| match a {
                Arrival::Io(t, hr, hw) if *t == token => Some((hr, hw)),
                _ => None,
            });
            match held {
                Some((hr, hw)) => (*hr, *hw) = (*hr || r, *hw || w),
                None => arrivals.push_back((Arrival::Io(token, r, w), 0)),
            }
        }
    }

    /// Another thread's post arrives.
    pub(in crate::rt) fn arrive_post(&self, job: Job) {
        self.arrivals
            .borrow_mut()
            .push_back((Arrival::Post(job), 0));
    }

    /// The next arrival to handle in this poll phase, unless the choice
    /// holds every one for a later phase (`ArrivalDelay`), and if not, any
    /// sender's first (`ArrivalOrder`). Holds count together, so the oldest
    /// arrival has been held the most; once it has been held `MAX_HOLDS`
    /// times, nothing is held until it is handled.
    pub(in crate::rt) fn next_arrival(&self) -> Option<Arrival> {
        let holds = self.arrivals.borrow().front()?.1;
        if holds < MAX_HOLDS && self.choose(ChoiceKind::ArrivalDelay, 2) == 1 {
            for arrival in self.arrivals.borrow_mut().iter_mut() {
                arrival.1 += 1;
            }
            return None;
        }
        let candidates: Vec<usize> = {
            let arrivals = self.arrivals.borrow();
            let mut seen = Vec::new();
            (0..arrivals.len())
                .filter(|&i| {
                    let sender = arrivals[i].0.sender();
                    let first = !seen.contains(&sender);
                    if first {
                        seen.push(sender);
                    }
                    first
                })
                .collect()
        };
        let at = candidates[self.choose(ChoiceKind::ArrivalOrder, candidates.len())];
        self.arrivals.borrow_mut().remove(at).map(|(a, _)| a)
    }

    /// Whether arrivals are held or a pool job runs: either way the poll
    /// phase has something to hand over.
    pub(in crate::rt) fn holds_any(&self) -> bool {
        !self.arrivals.borrow().is_empty() || self.pool_busy()
    }

    /// Whether posts are held for a later poll phase: they keep the loop
    /// alive, as they did in the inbox. (Held readiness does not: a
    /// source that does not keep the loop alive would not have.)
    pub(in crate::rt) fn holds_posts(&self) -> bool {
        (self.arrivals.borrow().iter()).any(|(a, _)| matches!(a, Arrival::Post(_)))
    }

    /// The posts and pool results still held (loop teardown).
    pub(in crate::rt) fn take_held(&self) -> Vec<Job> {
        self.order.borrow_mut().clear();
        let mut all: Vec<Job> = (self.arrivals.take().into_iter())
            .filter_map(|(a, _)| match a {
                Arrival::Post(job) => Some(job),
                Arrival::Io(..) => None,
            })
            .collect();
        all.extend(self.held.take());
        all
    }

    /// Where a poll that waits for the next timer wakes (`PollLate`):
    /// `deadlines` are the next distinct deadlines, earliest first, the
    /// first being the one the poll waits for; returns the index of the
    /// one it wakes at.
    pub(in crate::rt) fn late_wake(&self, deadlines: usize) -> usize {
        let options = deadlines.min(MAX_LATE_DEADLINES + 1);
        self.choose(ChoiceKind::PollLate, options)
    }

    /// The choices taken so far.
    pub(crate) fn choices(&self) -> Vec<Choice> {
        self.log.borrow().clone()
    }
}

/// The seed that replays `choices` (see the module doc), or `None` if it
/// does not fit in 64 bits. Trailing defaults cost nothing.
pub(crate) fn encode(choices: &[Choice]) -> Option<u64> {
    let last = choices.iter().rposition(|c| c.picked != 0);
    let Some(last) = last else { return Some(0) };
    let mut seed: u64 = 0;
    for c in choices[..=last].iter().rev() {
        seed = seed
            .checked_mul(c.options as u64)?
            .checked_add(c.picked as u64)?;
    }
    Some(seed)
}

/// Reads `EVLOOP_SEED`, if set (blank is unset).
///
/// # Errors
/// `InvalidInput` naming the variable and the value when it is not a whole
/// number from 0 to 2^64 - 1.
pub(crate) fn seed_from_env() -> std::io::Result<Option<u64>> {
    crate::rt::env::parse(
        "EVLOOP_SEED",
        "a seed is a whole number from 0 to 18446744073709551615",
        |v| v.parse().ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed decoded choice by choice gives back the seed when encoded.
    #[test]
    fn a_seed_and_its_choices_encode_each_other() {
        for seed in [0u64, 1, 5, 17, 12345, u64::MAX / 3] {
            let s = Schedule::new(Source::Seed(seed), 4);
            let mut n = 2;
            while s.log.borrow().len() < 70 {
                s.choose(ChoiceKind::PoolCompletion, n);
                n = n % 5 + 2;
            }
            assert_eq!(encode(&s.choices()), Some(seed), "seed {seed}");
        }
        let path = Schedule::new(Source::Path(vec![1, 0, 2]), 4);
        assert_eq!(path.choose(ChoiceKind::FirstTimerDue, 2), 1);
        assert_eq!(path.choose(ChoiceKind::PoolCompletion, 3), 0);
        assert_eq!(path.choose(ChoiceKind::PoolCompletion, 2), 0, "2 % 2");
        assert_eq!(path.choose(ChoiceKind::PoolCompletion, 1), 0, "no choice");
        assert_eq!(path.choose(ChoiceKind::PoolCompletion, 4), 0, "default");
        assert_eq!(path.choices().len(), 4);
        assert_eq!(encode(&path.choices()), Some(1));
    }

    /// A result for pool job `id` of `steps` steps, as a pool thread sends.
    fn result(id: u32, steps: u32) -> Job {
        Job {
            f: Box::new(|| {}),
            site: std::panic::Location::caller(),
            pool: Some((id, steps)),
            sender: 0,
        }
    }

    /// The model's threads: fresh ones are alike (no choice among them),
    /// a thread is free once its job is delivered, and a job that starts
    /// then may take any idle thread that ran a job or the lowest fresh
    /// one, in number order.
    #[test]
    fn a_job_starts_on_an_idle_thread_fresh_ones_counting_as_one() {
        let s = Schedule::new(Source::Path(vec![0, 1]), 4);
        for id in 0..3 {
            s.submitted(id);
        }
        let started: Vec<_> = std::iter::from_fn(|| s.start_next()).collect();
        assert_eq!(started, [(0, 0), (1, 1), (2, 2)]);
        assert!(s.choices().is_empty(), "{:?}", s.choices());
        // Job 0 ends (the path's first pick); job 3 may run on thread 0
        // again or on the fresh thread 3 (the path's second pick).
        assert_eq!(s.pick_ending(false), Some(0));
        s.hold(result(0, 1));
        assert!(matches!(s.end_step(0), Some(StepEnd::Done(0, _))));
        s.submitted(3);
        assert_eq!(s.start_next(), Some((3, 3)));
        assert_eq!(s.start_next(), None);
        let kinds: Vec<_> = s.choices().iter().map(|c| (c.kind, c.options)).collect();
        assert_eq!(
            kinds,
            [(ChoiceKind::PoolCompletion, 3), (ChoiceKind::PoolThread, 2)]
        );
        // A job of two steps ending one while another waits frees its
        // thread and goes to the back.
        s.submitted(4);
        assert_eq!(s.start_next(), Some((4, 0)), "the only idle thread");
        s.submitted(5);
        assert_eq!(s.start_next(), None, "every thread is busy");
        s.hold(result(1, 2));
        assert!(matches!(s.end_step(1), Some(StepEnd::Requeued(1))));
        assert_eq!(s.start_next(), Some((5, 1)));
        assert_eq!(s.choices().len(), 2, "no choice with one idle thread");
    }
}
