//! Exploration: a program run under many [seeded](crate::Builder::seed)
//! schedules, each on a fresh loop on virtual time, its distinct outputs
//! reported with a seed that replays each. The walk of the choice tree is
//! `search`, over a runner: here in process, a forced path per run
//! (`Builder::path`); in `reexec` (`EVLOOP_EXPLORE`), a child process per
//! run given the path as a seed.

pub(crate) mod reexec;
pub(crate) mod search;

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;

use crate::rt::event_loop::{Builder, EventLoop};
use crate::rt::explore::search::{Exploration, Run, Start, search, simplicity};
use crate::rt::schedule::{Choice, encode};

/// Where an explored program writes its output: the lines of one run, in
/// order, compared between runs. Clones share the lines.
#[derive(Clone, Default, Debug)]
pub struct Recorder(Rc<RefCell<Vec<String>>>);

impl Recorder {
    /// Appends a line to this run's output (the program's `console.log`).
    pub fn line(&self, line: impl Into<String>) {
        self.0.borrow_mut().push(line.into());
    }

    /// The lines recorded so far (for a run outside [`explore`], e.g. one
    /// replayed with `EVLOOP_SEED`).
    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// How [`explore`] runs a program.
#[derive(Clone, Copy, Debug)]
pub struct ExploreOptions {
    /// At most this many runs (at least 1). A choice tree with up to half
    /// as many leaves is enumerated completely
    /// ([`Exploration::is_complete`]); a bigger one gets a quarter in
    /// random seeds, and the last quarter goes to finding, for each output
    /// they gave, a run with fewer non-default choices.
    pub runs: usize,
    /// Where the random seeds start, so an exploration is itself
    /// replayable.
    pub seed: u64,
    /// The thread-pool size of each run's loop ([`Builder::threadpool_size`]):
    /// with `n` threads only the first `n` jobs not yet completed can end
    /// next. `None`: `EVLOOP_THREADPOOL_SIZE`, or 4.
    pub threadpool_size: Option<usize>,
    /// Whether to branch on which pool thread runs a job
    /// ([`ChoiceKind::PoolThread`](crate::ChoiceKind::PoolThread)). Off by
    /// default: a program sees its thread only if its work looks (a name,
    /// a thread-local), and every job chained after another doubles the
    /// tree. Off, each job takes the seed's thread in random runs and the
    /// default in the depth-first walk, whose completeness then covers the
    /// other choices only.
    pub pool_threads: bool,
}

impl Default for ExploreOptions {
    /// 1000 runs, random seeds from 0, the default pool size, no branching
    /// on pool threads.
    fn default() -> ExploreOptions {
        ExploreOptions {
            runs: 1000,
            seed: 0,
            threadpool_size: None,
            pool_threads: false,
        }
    }
}

/// Runs `program` as the main script of fresh seeded loops (virtual time),
/// many times, and reports each distinct output it recorded in its
/// [`Recorder`] with a seed that replays it ([`Builder::seed`],
/// `EVLOOP_SEED`). Every output is one Node could print for the same
/// program: only the choices Node leaves to the machine vary
/// ([`ChoiceKind`](crate::ChoiceKind)). `EVLOOP_EXPLORE=N` does the same
/// for an unchanged program, each run a process of its own ([`Builder`]).
///
/// ```
/// let found = evloop::explore(Default::default(), |out| {
///     let (a, b) = (out.clone(), out.clone());
///     evloop::set_timeout(0, move || a.line("timeout"));
///     evloop::set_immediate(move || b.line("immediate"));
/// });
/// assert!(found.is_complete());
/// assert_eq!(found.outcomes().len(), 2);
/// assert_eq!(found.outcomes()[0].lines(), ["immediate", "timeout"]);
/// assert_eq!(found.outcomes()[1].seed(), Some(1));
/// ```
///
/// # Panics
/// If a loop is already running on this thread, if a loop cannot be
/// created, or if a run panics (after printing the seed that replays it
/// on standard error).
pub fn explore(options: ExploreOptions, program: impl Fn(&Recorder)) -> Exploration {
    search(
        options.runs,
        options.seed,
        options.pool_threads,
        &mut in_process(options, &program),
    )
}

/// Explores `program` as [`explore`] does and checks `property` on every
/// output. When one fails, shrinks against the property itself: from the
/// simplest failing run found, it tries runs with fewer or smaller
/// non-default choices, the simplest first (one of its non-default picks
/// alone, or made smaller; every pick from one point on left to the
/// default; one pick set back to the default or made smaller, the others
/// kept), and keeps any run whose output still fails `property`, whether
/// the same output or another, until no such step gives a simpler failing
/// run or `options.runs` more runs are spent. Simpler: fewer non-default
/// choices, then a smaller seed. Returns the exploration when every output
/// passes.
///
/// ```
/// // Two pool jobs end in either order; the property wants "a" first.
/// let result = std::panic::catch_unwind(|| {
///     evloop::assert_every_order(Default::default(), |out| {
///         for name in ["a", "b"] {
///             let out = out.clone();
///             evloop::queue_work(|| (), move |_| out.line(name));
///         }
///     }, |lines| lines[0] == "a")
/// });
/// let message = *result.unwrap_err().downcast::<String>().unwrap();
/// assert!(message.contains("EVLOOP_SEED=1"), "{message}");
///
/// let found = evloop::assert_every_order(Default::default(), |out| {
///     out.line("only");
/// }, |lines| lines.len() == 1);
/// assert_eq!(found.outcomes().len(), 1);
/// ```
///
/// # Panics
/// When an output fails `property`: the message says how many outcomes
/// fail, then names the simplest failing run: its seed
/// (`EVLOOP_SEED=N`, or none when its choices do not fit in 64 bits), its
/// non-default choices, and its lines. Also as [`explore`] does.
#[track_caller]
pub fn assert_every_order(
    options: ExploreOptions,
    program: impl Fn(&Recorder),
    property: impl Fn(&[String]) -> bool,
) -> Exploration {
    let mut runner = in_process(options, &program);
    let found = search(
        options.runs,
        options.seed,
        options.pool_threads,
        &mut runner,
    );
    let failing = found.outcomes.iter().filter(|o| !property(o.lines()));
    let Some(simplest) = failing.clone().min_by_key(|o| simplicity(o.choices())) else {
        return found;
    };
    let mut best = (simplest.choices().to_vec(), simplest.lines().to_vec());
    let mut budget = options.runs.max(1);
    'shrink: while budget > 0 {
        for start in simpler_paths(&best.0) {
            if budget == 0 {
                break 'shrink;
            }
            budget -= 1;
            let Some(run) = runner(Start::Path(start)) else {
                continue;
            };
            if !property(&run.lines) && simplicity(&run.choices) < simplicity(&best.0) {
                best = (run.choices, run.lines);
                continue 'shrink;
            }
        }
        break;
    }
    let (choices, lines) = best;
    let replay = match encode(&choices) {
        Some(seed) => format!("seed {seed} (EVLOOP_SEED={seed})"),
        None => "no seed (too many choices for 64 bits)".to_string(),
    };
    let non_default: Vec<String> = choices
        .iter()
        .enumerate()
        .filter(|(_, c)| c.picked != 0)
        .map(|(i, c)| format!("#{i} {c}"))
        .collect();
    panic!(
        "{} of {} outcome(s) fail the property; shrunk against it, the simplest failing run, \
         {replay}, with {} non-default choice(s) {non_default:?}, printed:\n{}",
        failing.count(),
        found.outcomes.len(),
        non_default.len(),
        lines.join("\n")
    );
}

/// Paths simpler than `choices`, the simplest first (a run mostly takes
/// as many non-default choices as its path forces): each non-default pick
/// alone (the picks before it left to the default, those after it too),
/// also made smaller; every pick from one non-default on left to the
/// default; one pick set to the default or made smaller, the rest kept.
fn simpler_paths(choices: &[Choice]) -> Vec<Vec<Choice>> {
    let default = |c: &Choice| Choice { picked: 0, ..*c };
    let at: Vec<usize> = (0..choices.len())
        .filter(|&i| choices[i].picked != 0)
        .collect();
    let mut paths = Vec::new();
    for &i in &at {
        for smaller in 0..=choices[i].picked {
            let mut alone: Vec<Choice> = choices[..=i].iter().map(default).collect();
            alone[i].picked = smaller;
            paths.push(alone);
            if smaller < choices[i].picked {
                let mut path = choices.to_vec();
                path[i].picked = smaller;
                paths.push(path);
            }
        }
        paths.push(choices[..i].to_vec());
    }
    // Every default (seed 0) is the exploration's first run: it passed, or
    // it would be the simplest failing run already.
    let limit = simplicity(choices);
    paths.retain(|p| (1, 0) <= simplicity(p) && simplicity(p) < limit);
    paths.sort_by_key(|p| simplicity(p));
    paths.dedup_by_key(|p| simplicity(p));
    paths
}

/// The in-process runner: each run a fresh loop, forced down its path
/// ([`Builder::path`]).
fn in_process<'a>(
    options: ExploreOptions,
    program: &'a impl Fn(&Recorder),
) -> impl FnMut(Start) -> Option<Run> + 'a {
    move |start| {
        let builder = match options.threadpool_size {
            Some(n) => EventLoop::builder().threadpool_size(n),
            None => EventLoop::builder(),
        };
        let builder = match start {
            Start::Path(path) => builder.path(path.iter().map(|c| c.picked).collect()),
            Start::Seed(seed) => builder.seed(seed),
        };
        Some(run_in_process(builder, program))
    }
}

/// One run on a loop from `builder`.
fn run_in_process(builder: Builder, program: &impl Fn(&Recorder)) -> Run {
    let lp = builder
        .build()
        .unwrap_or_else(|e| panic!("evloop::explore: cannot create an event loop: {e}"));
    let out = Recorder::default();
    let result = catch_unwind(AssertUnwindSafe(|| lp.run_main(|| program(&out))));
    let choices = lp.choices();
    drop(lp);
    if let Err(payload) = result {
        match encode(&choices) {
            Some(seed) => eprintln!("evloop::explore: the run with seed {seed} panicked"),
            None => eprintln!("evloop::explore: the run with choices {choices:?} panicked"),
        }
        resume_unwind(payload);
    }
    Run {
        lines: out.0.take(),
        exit: None,
        choices,
    }
}
