//! `watch_run`: runs a command, and runs it again whenever a file under a
//! folder changes, in the manner of nodemon; built only on evloop's public
//! API.
//!
//! ```sh
//! cargo run --example watch_run -- --dir src -- cargo check
//! cargo run --example watch_run -- --once -- sh -c 'exit 7'; echo $?   # 7
//! ```
//!
//! Usage: `watch_run [--dir DIR] [--debounce MS] [--once] -- CMD [ARGS...]`
//! (`--dir .` and `--debounce 100` by default; the `--` may be left out when
//! `CMD` does not start with `--`). The command's stdout and stderr come out
//! line by line, prefixed `[cmd] ` and `[cmd:err] `, on watch_run's own
//! stdout and stderr; watch_run's status lines go to stdout, prefixed
//! `[watch_run] `, and its errors to stderr. Changes under a `.git`,
//! `target` or `node_modules` folder are ignored (a build writing its output
//! would restart itself for ever), though still watched (`fs::watch` has no
//! filter, and each folder costs an inotify watch: prefer `--dir src` to
//! `--dir .` next to a large `target`). The command's stdin is `/dev/null`.
//!
//! # What it does
//! - A burst of changes (a save writes, renames and chmods) is one restart:
//!   each change restarts a 100 ms timer (`--debounce`), and the restart
//!   comes when the timer fires, printing
//!   `[watch_run] change in PATH, restarting`.
//! - A restart sends `SIGTERM` to the command's process group
//!   (`ChildProcess::kill_group`; Node's `process.kill(-child.pid)`): the
//!   command and whatever it started (`sh -c '...'` runs its commands as
//!   its own children, which a signal to `sh` alone would leave running,
//!   holding the output pipes). It starts the command again once the old
//!   one has closed (exited, and its stdout and stderr ended).
//! - A command that ends by itself is not restarted until the next change
//!   (`[watch_run] CMD exited with code N, waiting for changes`), like
//!   nodemon's "clean exit - waiting for changes before restart".
//! - Ctrl-C (`SIGINT`) or `SIGTERM` stops: the command's group gets
//!   `SIGTERM`, watch_run waits for its close, closes the watcher and
//!   removes its signal listeners; the loop then has nothing left and ends
//!   by itself. A second signal while waiting sends `SIGKILL`.
//!
//! # Exit code
//! watch_run exits with the code of the last run of the command that ended,
//! counted as a shell counts it: its exit code; `128 + N` if signal `N`
//! ended it (143 for `SIGTERM`, so stopping watch_run while the command
//! runs gives 143, unless the command catches `SIGTERM` and exits with a
//! code of its own); 127 if the program could not be found (126 if it
//! could not be run for another reason, as `EACCES`). With `--once` the
//! command runs once, no folder is watched, and its code is watch_run's.
//! Bad usage (no command, an unknown option) and a folder that cannot be
//! watched exit with 2, before any command runs.
//!
//! # What happens in the loop
//! `main` parses the arguments, then [`evloop::run`] runs the "main script"
//! ([`Tool::start_up`]): it starts the watcher
//! ([`evloop::fs::watch`], recursive; Node's `fs.watch(dir, {recursive:
//! true})`), adds the `SIGINT` and `SIGTERM` listeners
//! ([`evloop::process::on_signal`]; Node's `process.on('SIGINT')`) and
//! spawns the command ([`evloop::child_process::spawn`] with `detached`;
//! Node's `child_process.spawn(cmd, args, {detached: true})`). Then the loop
//! runs, and everything after is a callback:
//! - in the poll phase: a watcher event (restart the debounce timer), a
//!   line of the command's output (written to evloop's stdout or stderr, a
//!   writer thread each, so a slow terminal never blocks the loop; reading
//!   pauses while 16 KiB wait, and resumes on `drain`), the command's
//!   `exit` (the loop reaps it through a pidfd), a caught signal, and each
//!   write's completion from the writer threads;
//! - in the timers phase: the debounce timer, which starts the restart;
//! - in the close phase: the command's pipes closing, then its `close`
//!   event, which starts the next run (or ends watch_run).
//!
//! Which handles keep the loop alive: the watcher (referenced, as Node's
//! `fs.watch` is by default) for as long as watch_run watches, even with no
//! command running; the running command (its pidfd and its two pipes); the
//! debounce timer; stdout and stderr writes not yet written. The signal
//! listeners do not: as in Node, a signal listener is unreferenced, so it
//! never stops a loop that has nothing else to do from ending; it only
//! replaces the signal's default action (Ctrl-C no longer kills the
//! process) while it is there. So stopping is: close the watcher, let the
//! command close, remove the listeners (Ctrl-C kills again from then on),
//! and the loop, with no handle left, ends; `main` then exits with the
//! code. With `--once` there is no watcher: the command alone keeps the
//! loop alive.

mod support;

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;

use evloop::child_process::{self, ChildProcess, ExitStatus, SpawnOptions, Stdio};
use evloop::fs::{self, FsWatcher, WatchOptions};
use evloop::process::{self, Signal, SignalListener};
use evloop::{Timer, set_timeout};

const USAGE: &str = "usage: watch_run [--dir DIR] [--debounce MS] [--once] -- CMD [ARGS...]";

/// The exit code of bad usage and of a folder that cannot be watched.
const BAD_USAGE: i32 = 2;

/// What the command line asked for.
#[derive(Debug, PartialEq)]
struct Config {
    dir: PathBuf,
    debounce_ms: u64,
    once: bool,
    program: String,
    args: Vec<String>,
}

/// Reads the arguments (without the program name). `Err(None)` is `--help`;
/// `Err(Some(text))` is bad usage, with what was wrong.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Config, Option<String>> {
    let mut args = args.into_iter();
    let mut dir = PathBuf::from(".");
    let mut debounce_ms = 100;
    let mut once = false;
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--" => {
                command.extend(args.by_ref());
                break;
            }
            "--help" | "-h" => return Err(None),
            "--once" => once = true,
            "--dir" => {
                let d = args.next().ok_or(Some("--dir needs a folder".to_owned()))?;
                dir = PathBuf::from(d);
            }
            "--debounce" => {
                let ms = args
                    .next()
                    .ok_or(Some("--debounce needs a number".to_owned()))?;
                debounce_ms = ms
                    .parse()
                    .map_err(|_| Some(format!("--debounce: not a number of ms: {ms:?}")))?;
            }
            option if option.starts_with("--") => {
                return Err(Some(format!("unknown option {option}")));
            }
            _ => {
                command.push(arg);
                command.extend(args.by_ref());
                break;
            }
        }
    }
    let mut command = command.into_iter();
    let program = command.next().ok_or(Some("no command to run".to_owned()))?;
    Ok(Config {
        dir,
        debounce_ms,
        once,
        program,
        args: command.collect(),
    })
}

/// How a shell counts an ended command: its code, `128 + N` for signal
/// `N`, 127 / 126 for one that could not be started.
fn shell_code(status: ExitStatus) -> i32 {
    match (status.code, status.signal) {
        // A spawn error: `close` reports the negative errno.
        (Some(code), _) if code < 0 => {
            if -code == libc::ENOENT {
                127
            } else {
                126
            }
        }
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        // The status was lost (someone else reaped the child).
        (None, None) => 1,
    }
}

/// Whether a change to `name` (relative to the watched folder) is one to
/// ignore: build output and version control.
fn ignored(name: &std::path::Path) -> bool {
    name.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some(".git" | "target" | "node_modules")
        )
    })
}

/// watch_run's state, shared by its callbacks.
struct Tool {
    config: Config,
    /// The command's current run, from its spawn until its `close`.
    child: RefCell<Option<ChildProcess>>,
    watcher: RefCell<Option<FsWatcher>>,
    /// The debounce timer while a burst of changes lasts.
    debounce: Cell<Option<Timer>>,
    /// The names changed in the current burst.
    changed: RefCell<Vec<PathBuf>>,
    /// A restart waits for the current run's `close`.
    restart_pending: Cell<bool>,
    stopping: Cell<bool>,
    signals: RefCell<Vec<SignalListener>>,
    /// watch_run's exit code so far (see the module docs).
    code: Rc<Cell<i32>>,
}

impl Tool {
    /// The main script: watch, listen for the signals, start the command.
    fn start_up(self: &Rc<Self>) {
        if !self.config.once {
            let me = self.clone();
            let options = WatchOptions::new().recursive(true);
            match fs::watch(&self.config.dir, options, move |_, name| {
                if let Some(name) = name {
                    me.changed_file(name);
                }
            }) {
                Ok(w) => *self.watcher.borrow_mut() = Some(w),
                Err(e) => {
                    // Nothing started yet: with nothing alive, the loop ends.
                    error(&format!("cannot watch: {e}"));
                    self.code.set(BAD_USAGE);
                    return;
                }
            }
        }
        for signal in [Signal::Int, Signal::Term] {
            let me = self.clone();
            match process::on_signal(signal, move |s| me.stop(s)) {
                Ok(l) => self.signals.borrow_mut().push(l),
                Err(e) => error(&format!("cannot listen for {}: {e}", signal.name())),
            }
        }
        // A write that fills the stream's buffer paused the command's
        // reading (see `forward`); `drain` resumes it.
        let me = self.clone();
        process::stdout().on_drain(move || me.resume(|c| c.stdout().cloned()));
        let me = self.clone();
        process::stderr().on_drain(move || me.resume(|c| c.stderr().cloned()));
        if !self.config.once {
            status_line(&format!(
                "watching {} for changes; running {}",
                self.config.dir.display(),
                self.command_line()
            ));
        }
        self.run_command();
    }

    /// The command as a shell would read it back (words with spaces or
    /// quotes single-quoted).
    fn command_line(&self) -> String {
        let quote = |w: &String| {
            if !w.is_empty()
                && !w.contains(|c: char| c.is_whitespace() || "'\"$&;|<>*?".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        };
        let words: Vec<String> = std::iter::once(&self.config.program)
            .chain(&self.config.args)
            .map(quote)
            .collect();
        words.join(" ")
    }

    /// Starts the command; its `close` decides what comes next.
    fn run_command(self: &Rc<Self>) {
        let options = SpawnOptions {
            // Its own process group, for `kill_group`; stdin `/dev/null`, as
            // a background group must not read the terminal.
            detached: true,
            stdio: [Stdio::Ignore, Stdio::Pipe, Stdio::Pipe],
            ..SpawnOptions::default()
        };
        let child = match child_process::spawn(&self.config.program, &self.config.args, options) {
            Ok(child) => child,
            Err(e) => {
                // Refused before anything ran (an empty program name, or
                // the loop could not watch the child): as a failed spawn.
                error(&format!("cannot run {}: {e}", self.config.program));
                let einval = ExitStatus {
                    code: Some(-e.raw_os_error().unwrap_or(libc::EINVAL)),
                    signal: None,
                };
                return self.ended(einval);
            }
        };
        if let Some(out) = child.stdout() {
            forward(out, "[cmd] ", process::stdout());
        }
        if let Some(err) = child.stderr() {
            forward(err, "[cmd:err] ", process::stderr());
        }
        // `spawn sh ENOENT`: the program is missing. `close` follows, with
        // the negative errno as its code.
        child.on_error(|e| error(&e.to_string()));
        let me = self.clone();
        child.on_close(move |status| me.ended(status));
        *self.child.borrow_mut() = Some(child);
    }

    /// The run closed (or could not start): restart, wait, or finish.
    fn ended(self: &Rc<Self>, status: ExitStatus) {
        self.child.borrow_mut().take();
        let code = shell_code(status);
        self.code.set(code);
        if self.stopping.get() || self.config.once {
            return self.finish();
        }
        if self.restart_pending.replace(false) {
            return self.run_command();
        }
        let how = match (status.code, status.signal_name()) {
            (Some(c), _) if c < 0 => format!("could not be started ({code})"),
            (_, Some(name)) => format!("was killed by {name} ({code})"),
            _ => format!("exited with code {code}"),
        };
        status_line(&format!(
            "{} {how}, waiting for changes",
            self.config.program
        ));
    }

    /// A watcher event: (re)starts the debounce timer.
    fn changed_file(self: &Rc<Self>, name: &std::path::Path) {
        if self.stopping.get() || ignored(name) {
            return;
        }
        self.changed.borrow_mut().push(name.to_path_buf());
        match self.debounce.get() {
            Some(timer) => {
                timer.refresh();
            }
            None => {
                let me = self.clone();
                let timer = set_timeout(self.config.debounce_ms, move || me.restart());
                self.debounce.set(Some(timer));
            }
        }
    }

    /// The burst is over: restart the command (now if it is not running,
    /// else after its `close`).
    fn restart(self: &Rc<Self>) {
        self.debounce.set(None);
        let changed = std::mem::take(&mut *self.changed.borrow_mut());
        if self.stopping.get() || changed.is_empty() {
            return;
        }
        if self.restart_pending.get() {
            return; // the restart already waiting starts the new run
        }
        let mut what = self.config.dir.join(&changed[0]).display().to_string();
        let mut others = changed[1..].to_vec();
        others.sort();
        others.dedup();
        others.retain(|n| *n != changed[0]);
        if !others.is_empty() {
            what.push_str(&format!(" (and {} more)", others.len()));
        }
        status_line(&format!("change in {what}, restarting"));
        let child = self.child.borrow().clone();
        match child {
            Some(child) => {
                self.restart_pending.set(true);
                child.kill_group(libc::SIGTERM);
            }
            None => self.run_command(),
        }
    }

    /// `SIGINT` or `SIGTERM`: stop everything; a second one kills.
    fn stop(self: &Rc<Self>, signal: Signal) {
        let child = self.child.borrow().clone();
        if self.stopping.replace(true) {
            if let Some(child) = child {
                status_line(&format!("{} again: killing the command", signal.name()));
                child.kill_group(libc::SIGKILL);
            }
            return;
        }
        status_line(&format!("{}: stopping", signal.name()));
        if let Some(timer) = self.debounce.take() {
            timer.clear();
        }
        self.close_watcher();
        match child {
            Some(child) => {
                // `finish` comes with its `close`.
                child.kill_group(libc::SIGTERM);
            }
            None => self.finish(),
        }
    }

    fn close_watcher(&self) {
        if let Some(w) = self.watcher.borrow_mut().take() {
            w.close();
        }
    }

    /// Nothing runs any more: close what is left so the loop can end.
    fn finish(self: &Rc<Self>) {
        self.stopping.set(true);
        if let Some(timer) = self.debounce.take() {
            timer.clear();
        }
        self.close_watcher();
        // Dropped outside the borrow: this may run inside a listener.
        let listeners = std::mem::take(&mut *self.signals.borrow_mut());
        drop(listeners);
        if !self.config.once {
            status_line(&format!("stopped, exit code {}", self.code.get()));
        }
    }

    /// Resumes the current run's stream that `pick` names after a `drain`.
    fn resume(&self, pick: impl Fn(&ChildProcess) -> Option<child_process::ChildReader>) {
        if let Some(reader) = self.child.borrow().as_ref().and_then(pick) {
            reader.resume();
        }
    }
}

/// Writes each line of `from` to `to` with `prefix`; pauses reading while
/// `to` holds 16 KiB or more (its `drain` resumes it: see `start_up`).
fn forward(from: &child_process::ChildReader, prefix: &'static str, to: process::StdWriter) {
    let reader = from.clone();
    from.on_line(move |line| {
        if !to.write(format!("{prefix}{line}\n")) {
            reader.pause();
        }
    });
}

/// A status line on stdout, among the command's lines.
fn status_line(text: &str) {
    // Dropped only by a broken stdout, as the command's lines would be.
    process::stdout().write(format!("[watch_run] {text}\n"));
}

/// An error on stderr.
fn error(text: &str) {
    process::stderr().write(format!("[watch_run] {text}\n"));
}

fn main() {
    support::init();
    let config = match parse(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(None) => {
            println!("{USAGE}");
            return;
        }
        Err(Some(problem)) => {
            eprintln!("watch_run: {problem}\n{USAGE}");
            std::process::exit(BAD_USAGE);
        }
    };
    let code = Rc::new(Cell::new(0));
    let tool = Rc::new(Tool {
        config,
        child: RefCell::new(None),
        watcher: RefCell::new(None),
        debounce: Cell::new(None),
        changed: RefCell::new(Vec::new()),
        restart_pending: Cell::new(false),
        stopping: Cell::new(false),
        signals: RefCell::new(Vec::new()),
        code: code.clone(),
    });
    evloop::run(move || tool.start_up());
    // The loop ended by itself: nothing runs, everything is written.
    std::process::exit(code.get());
}
