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
//! Each kind of choice is legal in Node (design.md, "Seeded runs"): a run
//! with any seed prints something Node can print.

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
    /// them in order.
    PoolCompletion,
    /// Whether the poll phase goes on to deliver another pool result
    /// (option 0) or leaves the rest for the next iteration's poll
    /// (option 1), as when those jobs end a little later.
    PoolDeliverMore,
    /// Whether a post from another thread (a `LoopHandle` post or a
    /// worker's message) that has reached the inbox runs in this poll phase
    /// (option 0) or is held for the next iteration's (option 1), as when
    /// it lands a little later. Posts run in the order they reached the
    /// inbox, so holding one holds every later one too, and a post held
    /// twice runs without a choice: a post runs at most two iterations
    /// after the first poll phase that could have run it.
    PostDelay,
}

/// How many poll phases a seeded loop may hold a post that has reached its
/// inbox ([`ChoiceKind::PostDelay`]): a post runs within this many
/// iterations after the first poll phase that could have run it.
pub(crate) const MAX_POST_HOLDS: u8 = 2;

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
            "PostDelay" => PostDelay,
            _ => return None,
        };
        // Exhaustive: a new kind stops the build here until named above.
        match kind {
            FirstTimerDue | PoolCompletion | PoolDeliverMore | PostDelay => Some(kind),
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
    /// queue, each with its steps left (0 until its result is held). The
    /// first `threads` are running; the rest wait (FIFO).
    order: RefCell<VecDeque<(usize, u32)>>,
    threads: usize,
    /// Other threads' posts taken from the inbox, in arrival order, each
    /// with the number of poll phases that held it (`PostDelay`).
    pub(in crate::rt) posts: RefCell<VecDeque<(Job, u8)>>,
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
            posts: RefCell::new(VecDeque::new()),
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
        self.order.borrow_mut().push_back((id, 0));
    }

    /// A queued pool job was cancelled: it never runs.
    pub(in crate::rt) fn cancelled(&self, id: usize) {
        self.order.borrow_mut().retain(|&(job, _)| job != id);
    }

    /// Holds a pool result until the model delivers it.
    pub(in crate::rt) fn hold(&self, job: Job) {
        if let Some(id) = job.pool_job()
            && let Some(e) = self.order.borrow_mut().iter_mut().find(|e| e.0 == id)
        {
            e.1 = job.steps().max(1);
        }
        self.held.borrow_mut().push(job);
    }

    /// The next pool result to deliver, by the model of a FIFO pool of
    /// `threads` threads whose jobs end in any order: one of the running
    /// jobs (the first `threads` not yet delivered, in queue order) whose
    /// result is held ends a step. A job of several steps that ends one
    /// while others wait goes to the back of the queue, as `run_step`
    /// does. `None` when no running job's result is held (or `more` says
    /// stop).
    pub(in crate::rt) fn next_result(&self, delivered: bool) -> Option<Job> {
        loop {
            let candidates: Vec<usize> = {
                let held = self.held.borrow();
                let order = self.order.borrow();
                let is_held = |id: usize| held.iter().any(|j| j.pool_job() == Some(id));
                (order.iter().take(self.threads).enumerate())
                    .filter(|(_, e)| is_held(e.0))
                    .map(|(i, _)| i)
                    .collect()
            };
            if candidates.is_empty()
                || (delivered && self.choose(ChoiceKind::PoolDeliverMore, 2) == 1)
            {
                return None;
            }
            let at = candidates[self.choose(ChoiceKind::PoolCompletion, candidates.len())];
            let mut order = self.order.borrow_mut();
            let (id, left) = order[at];
            if left > 1 {
                order[at].1 = left - 1;
                if order.len() > self.threads
                    && let Some(e) = order.remove(at)
                {
                    order.push_back(e);
                }
                continue;
            }
            order.remove(at);
            let mut held = self.held.borrow_mut();
            let i = held.iter().position(|j| j.pool_job() == Some(id))?;
            return Some(held.swap_remove(i));
        }
    }

    /// The next post to run in this poll phase, in arrival order: the
    /// first held post, unless the choice holds it (and so every later
    /// one) for the next phase; a post already held `MAX_POST_HOLDS` times
    /// runs without a choice. When the phase stops, every post left has
    /// been held once more.
    pub(in crate::rt) fn next_post(&self) -> Option<Job> {
        let holds = self.posts.borrow().front()?.1;
        if holds < MAX_POST_HOLDS && self.choose(ChoiceKind::PostDelay, 2) == 1 {
            for post in self.posts.borrow_mut().iter_mut() {
                post.1 += 1;
            }
            return None;
        }
        self.posts.borrow_mut().pop_front().map(|(job, _)| job)
    }

    /// Whether posts are held for a later poll phase (they keep the loop
    /// alive, as they did in the inbox).
    pub(in crate::rt) fn holds_posts(&self) -> bool {
        !self.posts.borrow().is_empty()
    }

    /// The posts and pool results still held (loop teardown).
    pub(in crate::rt) fn take_held(&self) -> Vec<Job> {
        self.order.borrow_mut().clear();
        let mut all: Vec<Job> = self.posts.take().into_iter().map(|(j, _)| j).collect();
        all.extend(self.held.take());
        all
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
}
