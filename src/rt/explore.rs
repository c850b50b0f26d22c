//! Exploration: a program run under many [seeded](crate::Builder::seed)
//! schedules, each on a fresh loop on virtual time, its distinct outputs
//! reported with a seed that replays each.
//!
//! The choice tree is walked depth-first first: a run takes the picks of a
//! path, then defaults, and records every choice it met (`Schedule`); each
//! default it took beyond its forced path is a branch still to try. A tree
//! of up to half the run budget is so enumerated completely. A bigger one
//! gets a quarter of the budget in random seeds, and the last quarter
//! shrinks what they found (fewer non-default choices, same output).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;

use crate::rt::event_loop::{Builder, EventLoop};
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
}

impl Default for ExploreOptions {
    /// 1000 runs, random seeds from 0, the default pool size.
    fn default() -> ExploreOptions {
        ExploreOptions {
            runs: 1000,
            seed: 0,
            threadpool_size: None,
        }
    }
}

/// One distinct output an exploration met.
#[derive(Clone, Debug)]
pub struct Outcome {
    lines: Vec<String>,
    choices: Vec<Choice>,
    runs: usize,
}

impl Outcome {
    /// The lines the program recorded.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The seed that replays this outcome ([`Builder::seed`],
    /// `EVLOOP_SEED`): of the runs that gave it, the one with the fewest
    /// non-default choices. `None` when its choices do not fit in 64 bits
    /// ([`choices`](Self::choices) still lists them).
    pub fn seed(&self) -> Option<u64> {
        encode(&self.choices)
    }

    /// The choices of that run, in order.
    pub fn choices(&self) -> &[Choice] {
        &self.choices
    }

    /// How many of those choices took another option than the default.
    pub fn non_default_choices(&self) -> usize {
        non_default(&self.choices)
    }

    /// How many runs gave this output.
    pub fn runs(&self) -> usize {
        self.runs
    }
}

fn non_default(choices: &[Choice]) -> usize {
    choices.iter().filter(|c| c.picked != 0).count()
}

/// What [`explore`] found: each distinct output, in the order first met.
#[derive(Clone, Debug)]
#[must_use = "an exploration is only useful if its outcomes are looked at"]
pub struct Exploration {
    outcomes: Vec<Outcome>,
    runs: usize,
    complete: bool,
}

impl Exploration {
    /// The distinct outputs, in the order first met (the all-defaults run,
    /// seed 0, first).
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// How many runs were made.
    pub fn runs(&self) -> usize {
        self.runs
    }

    /// Whether every path of the choice tree was run, so
    /// [`outcomes`](Self::outcomes) is every output the explored choices
    /// can give.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Checks `property` on every outcome's lines.
    ///
    /// # Panics
    /// If an outcome fails it, naming how many do and the simplest (fewest
    /// non-default choices), with its lines and the seed that replays it.
    #[track_caller]
    pub fn assert_all(&self, property: impl Fn(&[String]) -> bool) {
        let failing: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| !property(&o.lines))
            .collect();
        let Some(simplest) = failing
            .iter()
            .min_by_key(|o| (o.non_default_choices(), o.seed().unwrap_or(u64::MAX)))
        else {
            return;
        };
        let replay = match simplest.seed() {
            Some(seed) => format!("seed {seed} (EVLOOP_SEED={seed})"),
            None => "no seed (too many choices for 64 bits)".to_string(),
        };
        panic!(
            "{} of {} outcome(s) fail the property; the simplest, {replay}, with {} \
             non-default choice(s) {:?}, printed:\n{}",
            failing.len(),
            self.outcomes.len(),
            simplest.non_default_choices(),
            simplest
                .choices
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            simplest.lines.join("\n")
        );
    }
}

impl fmt::Display for Exploration {
    /// A report: how many runs, whether complete, then each outcome with its
    /// seed and its lines joined by ` | `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} outcome(s) in {} run(s){}",
            self.outcomes.len(),
            self.runs,
            if self.complete {
                ", every schedule tried"
            } else {
                ""
            }
        )?;
        for o in &self.outcomes {
            let seed = o.seed().map_or("-".to_string(), |s| s.to_string());
            writeln!(f, "  seed {seed}: {}", o.lines.join(" | "))?;
        }
        Ok(())
    }
}

/// Runs `program` as the main script of fresh seeded loops (virtual time),
/// many times, and reports each distinct output it recorded in its
/// [`Recorder`] with a seed that replays it ([`Builder::seed`],
/// `EVLOOP_SEED`). Every output is one Node could print for the same
/// program: only the choices Node leaves to the machine vary
/// ([`ChoiceKind`](crate::ChoiceKind)).
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
    let budget = options.runs.max(1);
    let mut found = Found::default();
    let builder = || match options.threadpool_size {
        Some(n) => EventLoop::builder().threadpool_size(n),
        None => EventLoop::builder(),
    };
    // Depth-first: paths to run, each a prefix of forced picks.
    let mut stack: Vec<Vec<usize>> = vec![Vec::new()];
    while found.runs < budget.div_ceil(2) {
        let Some(path) = stack.pop() else { break };
        let forced = path.len();
        let choices = found.run(builder().path(path), &program);
        // Branches not yet taken, the deepest on top of the stack.
        for (i, c) in choices.iter().enumerate().skip(forced) {
            for alt in 1..c.options {
                let mut next: Vec<usize> = choices[..i].iter().map(|c| c.picked).collect();
                next.push(alt);
                stack.push(next);
            }
        }
    }
    let complete = stack.is_empty();
    let mut rng = options.seed;
    let random_until = budget - budget / 4;
    while !complete && found.runs < random_until {
        let seed = splitmix64(&mut rng);
        found.run(builder().seed(seed), &program);
    }
    // Shrinking: a random run takes many needless non-default choices. For
    // each outcome, try its path with one non-default pick set back to the
    // default (later picks kept); a run giving the same output with fewer
    // replaces it (`Found::run`), and the outcome is tried again.
    let mut next = 0;
    let mut at = 0;
    while !complete && found.runs < budget && next < found.outcomes.len() {
        let picks: Vec<usize> = found.outcomes[next]
            .choices
            .iter()
            .map(|c| c.picked)
            .collect();
        let Some(i) = (at..picks.len()).find(|&i| picks[i] != 0) else {
            (next, at) = (next + 1, 0);
            continue;
        };
        let before = found.outcomes[next].non_default_choices();
        let mut path = picks;
        path[i] = 0;
        found.run(builder().path(path), &program);
        at = if found.outcomes[next].non_default_choices() < before {
            0
        } else {
            i + 1
        };
    }
    Exploration {
        outcomes: found.outcomes,
        runs: found.runs,
        complete,
    }
}

#[derive(Default)]
struct Found {
    outcomes: Vec<Outcome>,
    index: HashMap<Vec<String>, usize>,
    runs: usize,
}

impl Found {
    /// One run on a loop from `builder`; returns its choices.
    fn run(&mut self, builder: Builder, program: &impl Fn(&Recorder)) -> Vec<Choice> {
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
        self.runs += 1;
        let lines = out.0.take();
        match self.index.get(&lines) {
            Some(&i) => {
                let o = &mut self.outcomes[i];
                o.runs += 1;
                if non_default(&choices) < o.non_default_choices() {
                    o.choices = choices.clone();
                }
            }
            None => {
                self.index.insert(lines.clone(), self.outcomes.len());
                self.outcomes.push(Outcome {
                    lines,
                    choices: choices.clone(),
                    runs: 1,
                });
            }
        }
        choices
    }
}

/// The random seeds' generator (SplitMix64: every seed, well spread).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
