//! The `watch_run` example (a small nodemon), run as a child process on a
//! fresh folder: it starts the command, restarts it after a change, stops
//! on `SIGINT` / `SIGTERM` with the documented exit code and leaves no
//! process behind; `--once` passes the command's exit code through; bad
//! usage and a missing folder exit with 2. The tests wait for lines, in
//! order, never for a length of time (the backstop only turns a hang into
//! a failure).

use crate::common;
use crate::common::Scratch;
use crate::http::example_exe;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one wait may take: a backstop that turns a hang into a
/// failure naming what was awaited, before the watchdog's minute.
fn backstop() -> Duration {
    Duration::from_secs(45) * common::slowdown()
}

/// The command of the restart tests: a shell whose background `sleep`
/// outlives a signal to the shell alone, and which prints both pids.
const SLEEPER: &str = "sleep 300 & echo started $$ $!; wait";

/// A running `watch_run`: its stdout as lines (a thread reads them), its
/// stderr collected by another.
struct Tool {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Tool {
    fn start(args: &[&str]) -> Tool {
        let mut child = Command::new(example_exe("watch_run"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watch_run starts");
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Tool {
            child,
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// The next stdout line that satisfies `want` (lines before it are
    /// kept in `seen`).
    fn line(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + backstop();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no {what} from watch_run ({e:?}); its stdout so far: {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// The pids of a `[cmd] started SH SLEEP` line.
    fn started(&mut self) -> (u32, u32) {
        let line = self.line("`[cmd] started` line", |l| l.starts_with("[cmd] started "));
        let pids: Vec<u32> = line["[cmd] started ".len()..]
            .split(' ')
            .map(|p| p.parse().unwrap())
            .collect();
        (pids[0], pids[1])
    }

    /// Sends `signal` (a name for `kill`, as `INT`) to watch_run.
    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits for watch_run to exit: its exit code (a death by signal
    /// fails), the rest of its stdout, and its stderr.
    fn finish(mut self) -> (i32, Vec<String>, String) {
        let deadline = Instant::now() + backstop();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "watch_run did not exit; its stdout: {:#?}",
                self.seen
            );
            // sleep: the pause between two looks at the process; it ends only
            // by what is awaited (or the backstop): no race.
            std::thread::sleep(Duration::from_millis(20));
        };
        let rest: Vec<String> = self.lines.iter().collect();
        let stderr = self.stderr.take().unwrap().join().unwrap();
        let code = status
            .code()
            .unwrap_or_else(|| panic!("watch_run died of {status:?}; stderr: {stderr}"));
        (code, rest, stderr)
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        // A failed test: stop it as a user would (it then stops the
        // command's group), and kill it if that is not enough.
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while let Ok(None) = self.child.try_wait() {
                if Instant::now() > deadline {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                // sleep: the pause between two looks at the process; it ends only
                // by what is awaited (or the backstop): no race.
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Waits until `pid` is dead: gone, or a zombie its new parent has not
/// reaped yet (a command's background process, orphaned when its shell
/// ended).
fn assert_dies(pid: u32, who: &str) {
    let deadline = Instant::now() + backstop();
    loop {
        let alive = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => false,
            // `pid (comm) S ...`: the state follows the last ')'.
            Ok(stat) => !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z'),
        };
        if !alive {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{who} (pid {pid}) is still running"
        );
        // sleep: the pause between two looks at the process; it ends only
        // by what is awaited (or the backstop): no race.
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn path_arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The tool's life: the command starts; a change restarts it (the old
/// run's shell and its background `sleep` both end: the signal goes to
/// the group); `SIGINT` stops it all, and watch_run exits with the last
/// run's code, 143 (128 + SIGTERM, the signal that ended it).
#[test]
fn a_change_restarts_the_command_and_sigint_stops_everything() {
    let _w = common::watchdog();
    let dir = Scratch::new("watch-run-restart");
    let mut tool = Tool::start(&[
        "--dir",
        path_arg(&dir.0),
        "--debounce",
        "200",
        "--",
        "sh",
        "-c",
        SLEEPER,
    ]);
    let first = tool.started();
    // The watcher was started before the command: this change is seen.
    std::fs::write(dir.0.join("a.txt"), "one").unwrap();
    let change = tool.line("restart line", |l| l.starts_with("[watch_run] change in "));
    assert!(change.ends_with("a.txt, restarting"), "{change}");
    let second = tool.started();
    assert_ne!(first, second);
    assert_dies(first.0, "the first run's shell");
    assert_dies(first.1, "the first run's background sleep");
    tool.signal("INT");
    let (code, rest, stderr) = tool.finish();
    assert_eq!(
        rest.iter().rev().take(2).rev().collect::<Vec<_>>(),
        [
            "[watch_run] SIGINT: stopping",
            "[watch_run] stopped, exit code 143"
        ],
        "stdout after the second start: {rest:#?}"
    );
    assert_eq!(code, 143, "stderr: {stderr}");
    assert_dies(second.0, "the second run's shell");
    assert_dies(second.1, "the second run's background sleep");
}

/// A command that ignores `SIGTERM` (its children inherit that): the first
/// `SIGINT` cannot stop it, the second sends `SIGKILL` to its group, and
/// watch_run exits with 137 (128 + SIGKILL).
#[test]
fn a_second_sigint_kills_a_command_that_ignores_sigterm() {
    let _w = common::watchdog();
    let dir = Scratch::new("watch-run-stubborn");
    let script = format!("trap '' TERM; {SLEEPER}");
    let mut tool = Tool::start(&["--dir", path_arg(&dir.0), "--", "sh", "-c", &script]);
    let run = tool.started();
    tool.signal("INT");
    tool.line("stopping line", |l| l == "[watch_run] SIGINT: stopping");
    tool.signal("INT");
    let (code, rest, _) = tool.finish();
    assert_eq!(
        rest,
        [
            "[watch_run] SIGINT again: killing the command",
            "[watch_run] stopped, exit code 137"
        ]
    );
    assert_eq!(code, 137);
    assert_dies(run.0, "the shell");
    assert_dies(run.1, "its background sleep");
}

/// A program that is missing: the `ENOENT` error, and watch_run keeps
/// watching; stopped by `SIGTERM`, it exits with 127 (the shell's "command
/// not found").
#[test]
fn a_missing_program_is_reported_and_watching_goes_on() {
    let _w = common::watchdog();
    let dir = Scratch::new("watch-run-enoent");
    let mut tool = Tool::start(&["--dir", path_arg(&dir.0), "--", "evloop-no-such-program"]);
    tool.line("`waiting for changes` line", |l| {
        l == "[watch_run] evloop-no-such-program could not be started (127), waiting for changes"
    });
    tool.signal("TERM");
    let (code, rest, stderr) = tool.finish();
    assert_eq!(
        rest,
        [
            "[watch_run] SIGTERM: stopping",
            "[watch_run] stopped, exit code 127"
        ]
    );
    assert_eq!(code, 127);
    assert!(
        stderr.contains("[watch_run] spawn evloop-no-such-program ENOENT"),
        "stderr: {stderr}"
    );
}

/// `--once`: the command's lines with their prefixes, its exit code as
/// watch_run's; a missing program is 127.
#[test]
fn once_passes_the_exit_code_through() {
    let _w = common::watchdog();
    let script = "echo out; echo err >&2; exit 7";
    let (code, out, err) = Tool::start(&["--once", "--", "sh", "-c", script]).finish();
    assert_eq!((code, out), (7, vec!["[cmd] out".to_owned()]));
    assert_eq!(err, "[cmd:err] err\n");
    let (code, out, err) = Tool::start(&["--once", "evloop-no-such-program"]).finish();
    assert_eq!((code, out), (127, vec![]));
    assert_eq!(err, "[watch_run] spawn evloop-no-such-program ENOENT\n");
}

/// A command that prints faster than watch_run's stdout is read: its pipe
/// is paused while 16 KiB wait to be written and resumed on `drain`, and
/// every line comes out once, in order.
#[test]
fn a_large_output_comes_out_whole_and_in_order() {
    let _w = common::watchdog();
    let n = 100_000;
    let (code, out, err) = Tool::start(&["--once", "--", "seq", &n.to_string()]).finish();
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out.len(), n);
    for (i, line) in out.iter().enumerate() {
        assert_eq!(*line, format!("[cmd] {}", i + 1));
    }
}

/// No command, an unknown option, a folder that cannot be watched: exit
/// code 2 with the reason on stderr, and nothing is run.
#[test]
fn bad_usage_and_a_missing_folder_exit_with_2() {
    let _w = common::watchdog();
    let (code, out, err) = Tool::start(&[]).finish();
    assert_eq!((code, out), (2, vec![]));
    assert!(
        err.starts_with("watch_run: no command to run\nusage: watch_run "),
        "{err}"
    );
    let (code, _, err) = Tool::start(&["--dir"]).finish();
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = Tool::start(&["--frobnicate", "--", "true"]).finish();
    assert_eq!(code, 2);
    assert!(
        err.starts_with("watch_run: unknown option --frobnicate\n"),
        "{err}"
    );
    let dir = Scratch::new("watch-run-missing");
    let marker = dir.0.join("ran");
    let missing = dir.0.join("no-such-folder");
    let touch = format!("touch {}", path_arg(&marker));
    let (code, out, err) =
        Tool::start(&["--dir", path_arg(&missing), "--", "sh", "-c", &touch]).finish();
    assert_eq!((code, out), (2, vec![]));
    assert_eq!(
        err,
        format!(
            "[watch_run] cannot watch: ENOENT: no such file or directory, watch '{}'\n",
            missing.display()
        )
    );
    assert!(!marker.exists(), "the command ran");
}
