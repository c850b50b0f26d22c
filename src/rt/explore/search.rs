//! The search of an exploration, whatever runs the program (`Start` in,
//! `Run` out): the choice tree walked depth-first first, then random
//! seeds, then shrinking; and what it found (`Exploration`, `Outcome`).
//!
//! A run takes the picks of a path, then defaults, and records every
//! choice it met (`Schedule`); each default it took beyond its forced path
//! is a branch still to try. A tree of up to half the run budget is so
//! enumerated completely. A bigger one gets a quarter of the budget in
//! random seeds, and the last quarter shrinks what they found (fewer
//! non-default choices, same output).

use std::collections::HashMap;
use std::fmt;

use crate::rt::schedule::{Choice, ChoiceKind, encode};

/// One distinct output an exploration met.
#[derive(Clone, Debug)]
pub struct Outcome {
    lines: Vec<String>,
    choices: Vec<Choice>,
    runs: usize,
    /// How a re-executed run (`EVLOOP_EXPLORE`) ended, when not with exit
    /// status 0; `None` in process.
    pub(in crate::rt) exit: Option<String>,
}

impl Outcome {
    /// The lines the program recorded.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The seed that replays this outcome ([`Builder::seed`](crate::Builder::seed),
    /// `EVLOOP_SEED`): of the runs that gave it, the one with the fewest
    /// non-default choices (then the smallest seed). `None` when its
    /// choices do not fit in 64 bits
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

/// What [`explore`](crate::explore) found: each distinct output, in the order first met.
#[derive(Clone, Debug)]
#[must_use = "an exploration is only useful if its outcomes are looked at"]
pub struct Exploration {
    pub(in crate::rt) outcomes: Vec<Outcome>,
    pub(in crate::rt) runs: usize,
    pub(in crate::rt) complete: bool,
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
        let Some(simplest) = failing.iter().min_by_key(|o| simplicity(&o.choices)) else {
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

/// How simple a run is, smaller first: its non-default choices, then its
/// seed (none: the biggest).
pub(in crate::rt) fn simplicity(choices: &[Choice]) -> (usize, u64) {
    (non_default(choices), encode(choices).unwrap_or(u64::MAX))
}

/// How a run starts.
pub(in crate::rt) enum Start {
    /// These picks (each with its options, so that a run in another process
    /// can be given them as a seed), then defaults.
    Path(Vec<Choice>),
    /// A seed's digits.
    Seed(u64),
}

/// What a run gave.
pub(in crate::rt) struct Run {
    pub(in crate::rt) lines: Vec<String>,
    /// How a run in another process ended, when not with exit status 0.
    pub(in crate::rt) exit: Option<String>,
    pub(in crate::rt) choices: Vec<Choice>,
}

/// The search, whatever runs the program: `run` makes one run, or `None`
/// when it cannot take that start (a path whose seed does not fit in 64
/// bits, for a run in another process), which leaves the exploration
/// incomplete.
///
/// The choice tree is walked depth-first first: a run takes the picks of a
/// path, then defaults, and records every choice it met; each default it
/// took beyond its forced path is a branch still to try. Up to half of the
/// `budget` (at least 1 run) goes so; a bigger tree gets a quarter in
/// random seeds from `seed`, and the last quarter shrinks what they found
/// (fewer non-default choices, same output). The walk branches on
/// `PoolThread` only if `pool_threads`.
pub(in crate::rt) fn search(
    budget: usize,
    seed: u64,
    pool_threads: bool,
    run: &mut dyn FnMut(Start) -> Option<Run>,
) -> Exploration {
    let budget = budget.max(1);
    let mut found = Found::default();
    let mut skipped = false;
    // Depth-first: paths to run, each a prefix of forced picks.
    let mut stack: Vec<Vec<Choice>> = vec![Vec::new()];
    while found.runs < budget.div_ceil(2) {
        let Some(path) = stack.pop() else { break };
        let forced = path.len();
        let Some(choices) = found.run(run, Start::Path(path)) else {
            skipped = true;
            continue;
        };
        // Branches not yet taken, the deepest on top of the stack.
        let branches = |c: &&Choice| pool_threads || c.kind != ChoiceKind::PoolThread;
        for (i, c) in choices
            .iter()
            .enumerate()
            .skip(forced)
            .filter(|(_, c)| branches(c))
        {
            for alt in 1..c.options {
                let mut next = choices[..=i].to_vec();
                next[i].picked = alt;
                stack.push(next);
            }
        }
    }
    let complete = stack.is_empty() && !skipped;
    let mut rng = seed;
    let random_until = budget - budget / 4;
    // A start `run` cannot take counts as a try, so this ends.
    let mut tries = 0;
    while !complete && found.runs < random_until && tries < budget {
        tries += 1;
        let seed = splitmix64(&mut rng);
        found.run(run, Start::Seed(seed));
    }
    // Shrinking: a random run takes many needless non-default choices. For
    // each outcome, try its path with one non-default pick set back to the
    // default (later picks kept); a run giving the same output with fewer
    // replaces it (`Found::run`), and the outcome is tried again.
    let mut next = 0;
    let mut at = 0;
    let mut attempts = 0;
    while !complete && found.runs < budget && attempts < budget && next < found.outcomes.len() {
        let choices = &found.outcomes[next].choices;
        let Some(i) = (at..choices.len()).find(|&i| choices[i].picked != 0) else {
            (next, at) = (next + 1, 0);
            continue;
        };
        // A run `run` cannot take counts too, so this ends.
        attempts += 1;
        let before = found.outcomes[next].non_default_choices();
        let mut path = choices.clone();
        path[i].picked = 0;
        found.run(run, Start::Path(path));
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
    index: HashMap<(Vec<String>, Option<String>), usize>,
    runs: usize,
}

impl Found {
    /// One run from `start`, added to its outcome; returns its choices.
    fn run(
        &mut self,
        run: &mut dyn FnMut(Start) -> Option<Run>,
        start: Start,
    ) -> Option<Vec<Choice>> {
        let Run {
            lines,
            exit,
            choices,
        } = run(start)?;
        self.runs += 1;
        let key = (lines, exit);
        match self.index.get(&key) {
            Some(&i) => {
                let o = &mut self.outcomes[i];
                o.runs += 1;
                if simplicity(&choices) < simplicity(&o.choices) {
                    o.choices = choices.clone();
                }
            }
            None => {
                self.index.insert(key.clone(), self.outcomes.len());
                let (lines, exit) = key;
                self.outcomes.push(Outcome {
                    lines,
                    choices: choices.clone(),
                    runs: 1,
                    exit,
                });
            }
        }
        Some(choices)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::schedule::ChoiceKind;

    /// A runner that, as a child process does, can only take a start that
    /// is a seed: a branch whose seed does not fit in 64 bits is skipped,
    /// and the exploration says it is incomplete, having run the others.
    #[test]
    fn a_branch_beyond_64_bits_is_skipped_and_leaves_it_incomplete() {
        let _w = crate::test_watchdog::watchdog();
        // 70 choices of two options: the tree's deepest branches (tried
        // first) are beyond 64 bits.
        let mut skipped = 0;
        let mut run = |start: Start| {
            let picks: Vec<usize> = match start {
                Start::Seed(seed) => (0..64).map(|i| (seed >> i) as usize & 1).collect(),
                Start::Path(path) => {
                    if encode(&path).is_none() {
                        skipped += 1;
                        return None;
                    }
                    path.iter().map(|c| c.picked).collect()
                }
            };
            let choices: Vec<Choice> = (0..70)
                .map(|i| Choice {
                    kind: ChoiceKind::PoolDeliverMore,
                    options: 2,
                    picked: picks.get(i).copied().unwrap_or(0),
                })
                .collect();
            Some(Run {
                lines: vec![encode(&choices).unwrap().to_string()],
                exit: None,
                choices,
            })
        };
        let found = search(8, 0, false, &mut run);
        assert!(!found.is_complete());
        assert_eq!(found.runs(), 8);
        assert!(found.outcomes().iter().all(|o| o.seed().is_some()));
        // Each of the first three depth-first runs leaves six branches
        // (choice 65 to 70 set) beyond 64 bits; the loop ends after the
        // fourth run, before its own are popped.
        assert_eq!(skipped, 18);
    }
}
