//! `EVLOOP_EXPLORE=N`: exploration of an unchanged program. The first loop
//! the process builds does not run the program: the process runs itself
//! again (same executable, same arguments, stdin from `/dev/null`) up to
//! `N` times, one child at a time, each with `EVLOOP_SEED` set and
//! `EVLOOP_EXPLORE` removed, walks the choice tree as `explore` does
//! (`search`), prints each distinct (stdout, exit status) with the seed
//! that replays it, and exits.
//!
//! A child's seeded loop appends each choice it takes to a file the parent
//! names in `EVLOOP_EXPLORE_CHOICES` (private to this handshake), as it
//! takes it: a child that exits early or panics still leaves its choices.
//! Only the first seeded loop a child builds records; a loop built
//! without that variable pays nothing.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::rt::explore::search::{Exploration, Run, Start, search};
use crate::rt::schedule::{Choice, ChoiceKind, encode};

/// The variable naming the file a child appends its choices to.
const CHOICES_VAR: &str = "EVLOOP_EXPLORE_CHOICES";

/// How long a child may run before it is killed as hung.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Reads `EVLOOP_EXPLORE`: `Some(n)` for `n` runs, `None` when unset, blank
/// or `0`.
///
/// # Errors
/// `InvalidInput` naming the variable and the value when it is not a whole
/// number.
pub(crate) fn runs_from_env() -> io::Result<Option<usize>> {
    let runs = crate::rt::env::parse(
        "EVLOOP_EXPLORE",
        "the number of runs to explore is a whole number (0 or blank: off)",
        |v| v.parse::<usize>().ok(),
    )?;
    Ok(runs.filter(|&n| n > 0))
}

/// In a child of an exploration: the file its first seeded loop appends its
/// choices to (`None` for every later loop, and outside an exploration).
pub(crate) fn choice_record() -> Option<File> {
    static TAKEN: AtomicBool = AtomicBool::new(false);
    let path = std::env::var_os(CHOICES_VAR)?;
    if TAKEN.swap(true, Ordering::Relaxed) {
        return None;
    }
    OpenOptions::new().append(true).open(path).ok()
}

/// Reads a child's record back: a line `OPTIONS PICKED KIND` per choice
/// (`Schedule::choose` writes them).
fn read_choices(path: &Path) -> io::Result<Vec<Choice>> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .map(|line| {
            let mut parts = line.split(' ');
            let options = parts.next().and_then(|p| p.parse().ok());
            let picked = parts.next().and_then(|p| p.parse().ok());
            let kind = parts.next().and_then(ChoiceKind::named);
            match (options, picked, kind) {
                (Some(options), Some(picked), Some(kind)) => Ok(Choice {
                    kind,
                    options,
                    picked,
                }),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("EVLOOP_EXPLORE: a child recorded a choice as {line:?}"),
                )),
            }
        })
        .collect()
}

/// The parent's side: explores `runs` runs of this process's executable,
/// prints the report on stdout and exits the process, 0 when every run
/// exited with status 0, else 1. Returns only when the exploration cannot
/// start (no executable path, no scratch file), with the reason.
pub(crate) fn explore_children(runs: usize) -> io::Error {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return io::Error::new(e.kind(), format!("EVLOOP_EXPLORE: no executable: {e}")),
    };
    let record =
        std::env::temp_dir().join(format!("evloop-explore-{}.choices", std::process::id()));
    if let Err(e) = File::create(&record) {
        return io::Error::new(
            e.kind(),
            format!("EVLOOP_EXPLORE: {}: {e}", record.display()),
        );
    }
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let mut failure = None;
    let mut runner = |start: Start| {
        let seed = match start {
            Start::Seed(seed) => seed,
            Start::Path(path) => encode(&path)?,
        };
        if failure.is_some() {
            return None;
        }
        let mut cmd = Command::new(&exe);
        cmd.args(&args)
            .env_remove("EVLOOP_EXPLORE")
            .env("EVLOOP_SEED", seed.to_string())
            .env(CHOICES_VAR, &record);
        match run_child(cmd, &record, HANG_LIMIT) {
            Ok(run) => Some(run),
            Err(e) => {
                failure = Some(e);
                None
            }
        }
    };
    let found = search(runs, 0, false, &mut runner);
    let _ = std::fs::remove_file(&record);
    if let Some(e) = failure {
        return e;
    }
    let mut stdout = io::stdout().lock();
    let _ = stdout.write_all(report(&found).as_bytes());
    let _ = stdout.flush();
    let all_ok = found.outcomes.iter().all(|o| o.exit.is_none());
    std::process::exit(if all_ok { 0 } else { 1 })
}

/// One child, killed if it runs past `limit`: its stdout, how it ended,
/// its choices.
fn run_child(mut cmd: Command, record: &PathBuf, limit: Duration) -> io::Result<Run> {
    File::create(record)?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("EVLOOP_EXPLORE: cannot start: {e}")))?;
    let mut stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    // The reader ends when the child's stdout closes (it exited, or was
    // killed below).
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    let (bytes, exit) = match rx.recv_timeout(limit) {
        Ok(bytes) => (bytes, describe(child.wait()?)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let bytes = rx.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
            (bytes, Some(format!("killed after {limit:?} (hung?)")))
        }
    };
    Ok(Run {
        lines: String::from_utf8_lossy(&bytes)
            .lines()
            .map(String::from)
            .collect(),
        exit,
        choices: read_choices(record)?,
    })
}

/// `None` for exit status 0, else how the child ended.
fn describe(status: ExitStatus) -> Option<String> {
    (!status.success()).then(|| status.to_string())
}

/// The report: a heading line, then each outcome's heading (its seed, runs,
/// lines, exit status when not 0) and its lines, each indented by two
/// spaces.
fn report(found: &Exploration) -> String {
    let mut text = format!(
        "EVLOOP_EXPLORE: {} outcome(s) in {} run(s), {}; each run a child process with \
         EVLOOP_SEED=N, killed after {:?}\n",
        found.outcomes.len(),
        found.runs,
        if found.complete {
            "every schedule tried"
        } else {
            "not every schedule tried"
        },
        HANG_LIMIT
    );
    for (i, o) in found.outcomes.iter().enumerate() {
        let seed = o
            .seed()
            .map_or("- (beyond 64 bits)".to_string(), |s| s.to_string());
        text += &format!(
            "outcome {}: seed {seed}, {} run(s), {} line(s)",
            i + 1,
            o.runs(),
            o.lines().len()
        );
        if let Some(exit) = &o.exit {
            text += &format!(", {exit}");
        }
        text += "\n";
        for line in o.lines() {
            text += &format!("  {line}\n");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rt::schedule::{Schedule, Source};

    /// Every kind a seeded loop records is read back as itself.
    #[test]
    fn recorded_choices_read_back() {
        let _w = crate::test_watchdog::watchdog();
        let path = std::env::temp_dir().join(format!("evloop-rec-{}", std::process::id()));
        let schedule = Schedule::new(Source::Path(vec![0, 1, 2, 3, 4, 5, 6]), 4);
        schedule.record_to(File::create(&path).unwrap());
        for (i, kind) in [
            ChoiceKind::FirstTimerDue,
            ChoiceKind::PoolCompletion,
            ChoiceKind::PoolDeliverMore,
            ChoiceKind::PoolThread,
            ChoiceKind::ArrivalDelay,
            ChoiceKind::ArrivalOrder,
            ChoiceKind::PollLate,
        ]
        .into_iter()
        .enumerate()
        {
            schedule.choose(kind, i + 2);
        }
        assert_eq!(read_choices(&path).unwrap(), schedule.choices());
        std::fs::write(&path, "2 1 NoSuchKind\n").unwrap();
        assert!(read_choices(&path).is_err());
        std::fs::remove_file(&path).unwrap();
    }

    /// A child still running at the hang limit is killed; what it printed
    /// by then is its output, and its outcome says it was killed.
    #[test]
    fn a_hung_child_is_killed_at_the_limit() {
        let _w = crate::test_watchdog::watchdog();
        let record = std::env::temp_dir().join(format!("evloop-hung-{}", std::process::id()));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started; exec sleep 30"]);
        let start = std::time::Instant::now();
        let run = run_child(cmd, &record, Duration::from_millis(300)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert_eq!(run.lines, ["started"]);
        assert_eq!(run.exit.as_deref(), Some("killed after 300ms (hung?)"));
        assert!(run.choices.is_empty());
        std::fs::remove_file(&record).unwrap();
    }
}
