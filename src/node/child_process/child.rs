//! The process itself: [`spawn`], [`ChildProcess`] and its events, the
//! pidfd the loop reaps it through, and teardown.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::rc::Rc;

use mio::unix::SourceFd;

use crate::futures::promise::{Deferred, Resolver, deferred};
use crate::node::net::handler::{Handler, call};
use crate::rt::callback::Callback;
use crate::rt::context::{try_with_core, with_core};
use crate::rt::core::Core;
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;

use super::reader::{self, ChildReader};
use super::sys;
use super::writer::{self, ChildWriter};

/// What to connect one of the child's standard streams to (Node's `stdio`
/// option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Stdio {
    /// A pipe to this process: [`ChildProcess::stdin`] / `stdout` /
    /// `stderr` (the default).
    #[default]
    Pipe,
    /// This process's own stream.
    Inherit,
    /// `/dev/null`.
    Ignore,
}

/// Options of [`spawn`] (Node's `options`): working directory, environment,
/// what each standard stream is, and whether the child leads its own
/// process group.
#[derive(Clone, Debug, Default)]
pub struct SpawnOptions {
    /// The child's working directory (default: this process's). One that
    /// does not exist is an `error` event, `spawn CMD ENOENT`, as in Node.
    pub cwd: Option<PathBuf>,
    /// The child's whole environment, replacing this process's (Node's
    /// `env`); `None` inherits it.
    pub env: Option<Vec<(String, String)>>,
    /// stdin, stdout, stderr.
    pub stdio: [Stdio; 3],
    /// Starts the child as the leader of a new process group (Node's
    /// `detached: true`), so that [`ChildProcess::kill_group`] reaches it
    /// and everything it starts (a shell's commands), and a terminal's
    /// Ctrl-C, sent to the foreground group, no longer reaches it. Unlike
    /// Node, the child stays in this process's session (a new group, not
    /// `setsid`): it keeps the controlling terminal, where reading would
    /// stop it (`SIGTTIN`), so give it a piped or ignored stdin.
    pub detached: bool,
}

/// How a child ended: its exit code, or the signal that killed it (Node's
/// `exit` arguments `(code, signal)`: exactly one is `Some`). A child that
/// could not be spawned ends with the negative error number as its code
/// (`-2` for `ENOENT`), as Node's `close` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, if the child exited.
    pub code: Option<i32>,
    /// The signal number, if a signal ended it.
    pub signal: Option<i32>,
}

impl ExitStatus {
    fn from_std(s: std::process::ExitStatus) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        ExitStatus {
            code: s.code(),
            signal: s.signal(),
        }
    }

    /// Whether the child exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The signal's name as Node prints it (`"SIGTERM"`), if a signal ended
    /// the child.
    pub fn signal_name(&self) -> Option<&'static str> {
        self.signal.map(signal_name)
    }
}

impl fmt::Display for ExitStatus {
    /// Node's `exit` arguments: `3 null` or `null SIGTERM`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(c), _) => write!(f, "{c} null"),
            (None, Some(s)) => write!(f, "null {}", signal_name(s)),
            (None, None) => f.write_str("null null"),
        }
    }
}

/// A signal's name as Node prints it; `"SIG?"` for one it does not name.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGWINCH => "SIGWINCH",
        _ => "SIG?",
    }
}

#[derive(Default)]
struct Handlers {
    spawn: Handler<()>,
    exit: Handler<ExitStatus>,
    close: Handler<ExitStatus>,
    error: Handler<io::Error>,
}

struct ChildInner {
    pid: Option<u32>,
    /// The unreaped child; `None` once reaped (or never spawned).
    child: RefCell<Option<Child>>,
    pidfd: RefCell<Option<OwnedFd>>,
    reg: RefCell<Option<Registration>>,
    status: Cell<Option<ExitStatus>>,
    killed: Cell<bool>,
    /// Spawned with [`SpawnOptions::detached`]: it leads a process group.
    detached: bool,
    /// `close` was emitted: the group may be gone, its id reused.
    closed: Cell<bool>,
    /// Events still awaited before `close`: the exit, and each output
    /// stream's close (Node's `_closesNeeded`).
    closes_needed: Cell<usize>,
    stdin: Option<ChildWriter>,
    stdout: Option<ChildReader>,
    stderr: Option<ChildReader>,
    waiters: RefCell<Vec<Resolver<io::Result<ExitStatus>>>>,
    /// The spawn error, for `wait` (its kind, text and code).
    spawn_error: RefCell<Option<(io::ErrorKind, String, &'static str)>>,
    on: Handlers,
}

/// A child process with Node's `ChildProcess` events, as callbacks; see
/// [`spawn`].
///
/// # Events and their order
/// `spawn` (on a next tick queued by [`spawn`]), then `exit` (in the poll
/// phase, when the loop reaps the child: code or signal), then `close`
/// (after `exit` and after stdout and stderr have both ended and closed;
/// with the same status). A child that could not be started has `error`
/// instead (on a next tick: `spawn NAME ENOENT`), no `spawn` and no `exit`,
/// then `close` in the close phase with the negative errno as its code, as
/// in Node. A running child keeps the loop alive until it is reaped, unless
/// [`unref`](ChildProcess::unref)'d.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use evloop::child_process::{self, SpawnOptions};
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let l = log.clone();
/// evloop::run(move || {
///     let child = child_process::spawn("sh", ["-c", "echo hi; exit 3"], SpawnOptions::default())
///         .unwrap();
///     let out = l.clone();
///     child.stdout().unwrap().on_line(move |line| out.borrow_mut().push(format!("line {line}")));
///     let exit = l.clone();
///     child.on_exit(move |status| exit.borrow_mut().push(format!("exit {status}")));
///     let close = l.clone();
///     child.on_close(move |status| close.borrow_mut().push(format!("close {status}")));
/// });
/// assert_eq!(*log.borrow(), ["line hi", "exit 3 null", "close 3 null"]);
/// ```
///
/// Dropping the handle changes nothing: the child runs on, its events run
/// and the loop reaps it.
#[derive(Clone)]
pub struct ChildProcess {
    inner: Rc<ChildInner>,
}

impl fmt::Debug for ChildProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildProcess")
            .field("pid", &self.inner.pid)
            .field("status", &self.inner.status.get())
            .finish()
    }
}

/// Node's `ERR_INVALID_ARG_VALUE` for an argument it refuses.
pub(super) fn invalid_arg(name: &str, why: &str, value: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "ERR_INVALID_ARG_VALUE: The argument '{name}' {why}. Received '{}'",
            value
                .chars()
                .map(|c| match c {
                    '\0' => "\\x00".to_owned(),
                    c => c.to_string(),
                })
                .collect::<String>()
        ),
    )
}

/// Starts `command` with `args` (Node's `child_process.spawn`); the program
/// is looked up on `PATH` as `execvp` does. Its events: [`ChildProcess`].
///
/// # Errors
/// For arguments Node refuses with a throw (`ERR_INVALID_ARG_VALUE`): an
/// empty command, a NUL byte in the command or an argument. A program
/// that cannot be run (missing, not executable, a `cwd` that does not
/// exist, no descriptors left for its pipes) is an `error` event instead,
/// as in Node. If the loop cannot watch a started child (no pidfd, the
/// reactor refuses its pipes), the child is killed and reaped and the OS
/// error returned.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn spawn<I, S>(command: &str, args: I, options: SpawnOptions) -> io::Result<ChildProcess>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    if command.is_empty() {
        return Err(invalid_arg("file", "cannot be empty", command));
    }
    if command.contains('\0') {
        return Err(invalid_arg(
            "file",
            "must be a string without null bytes",
            command,
        ));
    }
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    for (i, a) in args.iter().enumerate() {
        if a.contains('\0') {
            return Err(invalid_arg(
                &format!("args[{i}]"),
                "must be a string without null bytes",
                a,
            ));
        }
    }
    let mut cmd = Command::new(command);
    cmd.args(&args);
    if let Some(cwd) = &options.cwd {
        cmd.current_dir(cwd);
    }
    if let Some(env) = &options.env {
        cmd.env_clear();
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
    }
    if options.detached {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let stdio = |s: Stdio| match s {
        Stdio::Pipe => std::process::Stdio::piped(),
        Stdio::Inherit => std::process::Stdio::inherit(),
        Stdio::Ignore => std::process::Stdio::null(),
    };
    // The child's output goes into one end of a socket pair, as libuv's
    // `UV_CREATE_PIPE` does (`uv_socketpair`): a socket's buffer holds
    // several times a pipe's 64 KiB, so a fast writer and its reader wake
    // each other far less often.
    let output = |s: Stdio| -> io::Result<(std::process::Stdio, Option<UnixStream>)> {
        match s {
            Stdio::Pipe => {
                let (ours, theirs) = UnixStream::pair()?;
                Ok((std::process::Stdio::from(OwnedFd::from(theirs)), Some(ours)))
            }
            other => Ok((stdio(other), None)),
        }
    };
    let ((out, stdout), (err, stderr)) = match (output(options.stdio[1]), output(options.stdio[2]))
    {
        (Ok(out), Ok(err)) => (out, err),
        (Err(e), _) | (_, Err(e)) => {
            return with_core("child_process::spawn", |core| Ok(failed(core, command, e)));
        }
    };
    cmd.stdin(stdio(options.stdio[0])).stdout(out).stderr(err);
    let spawned = cmd.spawn();
    // The child's ends must close here, or the readers never see the end.
    drop(cmd);
    with_core("child_process::spawn", |core| match spawned {
        Ok(child) => start(core, child, stdout, stderr, options.detached),
        Err(e) => Ok(failed(core, command, e)),
    })
}

/// A child that could not be started: `error` on a next tick, then `close`
/// in the close phase (Node closes the stdio pipes it had made there).
fn failed(core: &Core, command: &str, e: io::Error) -> ChildProcess {
    let errno = e.raw_os_error().unwrap_or(libc::EINVAL);
    let code = crate::node::fs::errno_name(errno).0;
    let message = format!("spawn {command} {code}");
    let inner = Rc::new(ChildInner::new(None, false, None, None, None, 0));
    *inner.spawn_error.borrow_mut() = Some((e.kind(), message, code));
    let status = ExitStatus {
        code: Some(-errno),
        signal: None,
    };
    inner.status.set(Some(status));
    let me = inner.clone();
    core.push_tick(Callback::new(
        move || {
            // `close` is queued first, so a panicking `error` handler
            // cannot lose it.
            me.settle_waiters();
            let me2 = me.clone();
            with_core("ChildProcess::close", |core| {
                core.push_close(Callback::new(
                    move || me2.emit_close(),
                    std::panic::Location::caller(),
                ))
            });
            if let Err(e) = me.wait_result() {
                call(&me.on.error, e);
            }
        },
        std::panic::Location::caller(),
    ));
    ChildProcess { inner }
}

fn start(
    core: &Core,
    mut child: Child,
    stdout: Option<UnixStream>,
    stderr: Option<UnixStream>,
    detached: bool,
) -> io::Result<ChildProcess> {
    let pid = child.id();
    let pidfd = match sys::pidfd_open(pid) {
        Ok(fd) => fd,
        Err(e) => {
            // Without a pidfd the loop could not reap it: do not leave it.
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let stdin = child.stdin.take();
    let outputs = usize::from(stdout.is_some()) + usize::from(stderr.is_some());
    // The readers tell the child when they close; they need its `Rc`,
    // which needs them: build the readers with a cell the child fills in.
    // Strong: a child whose handles were all dropped must live to emit
    // `close`; the cycle ends when each reader's hook has run or is torn
    // down.
    let cell: Rc<RefCell<Option<Rc<ChildInner>>>> = Rc::new(RefCell::new(None));
    let hook = |cell: &Rc<RefCell<Option<Rc<ChildInner>>>>| -> Box<dyn FnOnce()> {
        let cell = cell.clone();
        Box::new(move || {
            let child = cell.borrow().clone();
            if let Some(child) = child {
                child.one_closed();
            }
        })
    };
    let pipes = (|| -> io::Result<_> {
        let stdin = match stdin {
            Some(p) => Some(ChildWriter {
                inner: writer::WriterInner::new(core, p.into())?,
            }),
            None => None,
        };
        let reader = |p: Option<UnixStream>| -> io::Result<_> {
            Ok(match p {
                Some(p) => Some(ChildReader {
                    inner: reader::ReaderInner::new(core, p, hook(&cell))?,
                }),
                None => None,
            })
        };
        let stdout = reader(stdout)?;
        let stderr = reader(stderr)?;
        Ok((stdin, stdout, stderr))
    })();
    let (stdin, stdout, stderr) = match pipes {
        Ok(pipes) => pipes,
        Err(e) => {
            // The loop cannot watch it: do not leave it running unwatched.
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    let inner = Rc::new(ChildInner::new(
        Some(pid),
        detached,
        stdin,
        stdout,
        stderr,
        outputs + 1,
    ));
    *cell.borrow_mut() = Some(inner.clone());
    *inner.child.borrow_mut() = Some(child);
    let raw = pidfd.as_raw_fd();
    let reg = match Registration::new(
        core,
        &mut SourceFd(&raw),
        inner.clone(),
        HandleKind::Process,
    ) {
        Ok(reg) => reg,
        Err(e) => {
            if let Some(mut child) = inner.child.borrow_mut().take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            return Err(e);
        }
    };
    *inner.pidfd.borrow_mut() = Some(pidfd);
    *inner.reg.borrow_mut() = Some(reg);
    let me = inner.clone();
    core.push_tick(Callback::new(
        move || call(&me.on.spawn, ()),
        std::panic::Location::caller(),
    ));
    Ok(ChildProcess { inner })
}

impl ChildInner {
    fn new(
        pid: Option<u32>,
        detached: bool,
        stdin: Option<ChildWriter>,
        stdout: Option<ChildReader>,
        stderr: Option<ChildReader>,
        closes_needed: usize,
    ) -> ChildInner {
        ChildInner {
            pid,
            child: RefCell::new(None),
            pidfd: RefCell::new(None),
            reg: RefCell::new(None),
            status: Cell::new(None),
            killed: Cell::new(false),
            detached,
            closed: Cell::new(false),
            closes_needed: Cell::new(closes_needed),
            stdin,
            stdout,
            stderr,
            waiters: RefCell::new(Vec::new()),
            spawn_error: RefCell::new(None),
            on: Handlers::default(),
        }
    }

    /// The pidfd was readable: reap this child (only this pid).
    fn reap(self: &Rc<Self>) {
        let status = {
            let mut child = self.child.borrow_mut();
            let Some(c) = child.as_mut() else {
                return;
            };
            match c.try_wait() {
                Ok(Some(s)) => {
                    *child = None;
                    ExitStatus::from_std(s)
                }
                // Not exited yet (a spurious wake-up): wait for the next.
                Ok(None) => return,
                Err(_) => {
                    // ECHILD: someone else reaped it (a `waitpid(-1)`
                    // elsewhere in the process); the status is lost.
                    *child = None;
                    ExitStatus {
                        code: None,
                        signal: None,
                    }
                }
            }
        };
        let reg = self.reg.borrow_mut().take();
        let fd = self.pidfd.borrow_mut().take();
        if let (Some(reg), Some(fd)) = (reg, &fd) {
            drop(reg.deregister(&mut SourceFd(&fd.as_raw_fd())));
        }
        drop(fd);
        if let Some(stdin) = &self.stdin {
            stdin.inner.close();
        }
        self.status.set(Some(status));
        self.settle_waiters();
        // Node's `flushStdio`: streams nobody reads are drained so that
        // `close` can come.
        let me = self.clone();
        with_core("ChildProcess::exit", |core| {
            core.push_tick(Callback::new(
                move || {
                    for r in [&me.stdout, &me.stderr].into_iter().flatten() {
                        r.inner.flush_unread();
                    }
                },
                std::panic::Location::caller(),
            ))
        });
        let after = CountExit(self.clone());
        call(&self.on.exit, status);
        drop(after);
    }

    fn settle_waiters(&self) {
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for w in waiters {
            w.resolve(self.wait_result());
        }
    }

    fn wait_result(&self) -> io::Result<ExitStatus> {
        if let Some((kind, message, code)) = &*self.spawn_error.borrow() {
            return Err(crate::node::fs::with_code(*kind, message.clone(), code));
        }
        Ok(self.status.get().expect("settled after the exit"))
    }

    /// One of the exit and the output streams' closes happened.
    fn one_closed(self: &Rc<Self>) {
        let left = self.closes_needed.get().saturating_sub(1);
        self.closes_needed.set(left);
        if left == 0 {
            self.emit_close();
        }
    }

    fn emit_close(&self) {
        let status = self.status.get().expect("close follows the exit");
        self.closed.set(true);
        call(&self.on.close, status);
        drop((
            self.on.spawn.take(),
            self.on.exit.take(),
            self.on.close.take(),
            self.on.error.take(),
        ));
    }

    /// Hands an unreaped child to a thread that waits for it: the loop is
    /// gone, and the child must not become a zombie.
    fn detach(&self) {
        drop(self.reg.borrow_mut().take());
        drop(self.pidfd.borrow_mut().take());
        let Some(mut child) = self.child.borrow_mut().take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("evloop-reaper".into())
            .spawn(move || {
                let _ = child.wait();
            });
        if let Err(e) = spawned {
            log::warn!("evloop: cannot start a thread to reap a child: {e}");
        }
    }
}

/// Counts the exit towards `close` after the `exit` handler, also when it
/// panics (then on a next tick, outside the unwinding): with an
/// uncaught-panic handler the loop goes on, and `close` must still come.
struct CountExit(Rc<ChildInner>);

impl Drop for CountExit {
    fn drop(&mut self) {
        let me = self.0.clone();
        if std::thread::panicking() {
            try_with_core(|core| {
                core.push_tick(Callback::new(
                    move || me.one_closed(),
                    std::panic::Location::caller(),
                ))
            });
        } else {
            me.one_closed();
        }
    }
}

impl Ready for ChildInner {
    fn ready(self: Rc<Self>, readable: bool, _writable: bool) {
        if readable {
            self.reap();
        }
    }

    fn teardown(&self) {
        // The loop is dropped with the child running: as Node's children
        // outlive their parent, it is not killed; it is reaped elsewhere.
        self.detach();
        drop((
            self.on.spawn.take(),
            self.on.exit.take(),
            self.on.close.take(),
            self.on.error.take(),
        ));
        self.waiters.borrow_mut().clear();
    }
}

impl Drop for ChildInner {
    fn drop(&mut self) {
        self.detach();
    }
}

impl ChildProcess {
    /// Sets the `spawn` handler: the child started (a next tick after
    /// [`spawn`]; never if it could not start).
    pub fn on_spawn(&self, mut handler: impl FnMut() + 'static) -> &ChildProcess {
        *self.inner.on.spawn.borrow_mut() = Some(Box::new(move |()| handler()));
        self
    }

    /// Sets the `exit` handler: the child ended (code or signal); runs in
    /// the poll phase when the loop reaps it. Its output may still be
    /// arriving: `close` comes after it.
    pub fn on_exit(&self, handler: impl FnMut(ExitStatus) + 'static) -> &ChildProcess {
        *self.inner.on.exit.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `close` handler: the child exited and its stdout and
    /// stderr have ended; the last event.
    pub fn on_close(&self, handler: impl FnMut(ExitStatus) + 'static) -> &ChildProcess {
        *self.inner.on.close.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// Sets the `error` handler: the child could not be started (`spawn
    /// NAME ENOENT`, `spawn NAME EACCES`; [`fs::error_code`](crate::fs::error_code)
    /// gives the code, `"ENOENT"`).
    pub fn on_error(&self, handler: impl FnMut(io::Error) + 'static) -> &ChildProcess {
        *self.inner.on.error.borrow_mut() = Some(Box::new(handler));
        self
    }

    /// The child's pid; `None` if it could not be started.
    pub fn pid(&self) -> Option<u32> {
        self.inner.pid
    }

    /// The child's stdin, if it is a pipe.
    pub fn stdin(&self) -> Option<&ChildWriter> {
        self.inner.stdin.as_ref()
    }

    /// The child's stdout, if it is a pipe.
    pub fn stdout(&self) -> Option<&ChildReader> {
        self.inner.stdout.as_ref()
    }

    /// The child's stderr, if it is a pipe.
    pub fn stderr(&self) -> Option<&ChildReader> {
        self.inner.stderr.as_ref()
    }

    /// How the child ended, once reaped (Node's `exitCode` / `signalCode`).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.inner.status.get()
    }

    /// Sends `SIGTERM` (Node's `kill()`); see [`kill_with`](ChildProcess::kill_with).
    pub fn kill(&self) -> bool {
        self.kill_with(libc::SIGTERM)
    }

    /// Sends `signal` (a `libc::SIG*` number) to the child. Returns whether
    /// it was delivered: `false` once the child has been reaped or never
    /// started (Node's `kill` return). [`killed`](ChildProcess::killed) is
    /// then `true`.
    pub fn kill_with(&self, signal: i32) -> bool {
        if self.inner.child.borrow().is_none() {
            return false;
        }
        let Some(pid) = self.inner.pid else {
            return false;
        };
        let ok = sys::kill(pid, signal).is_ok();
        if ok {
            self.inner.killed.set(true);
        }
        ok
    }

    /// Sends `signal` (a `libc::SIG*` number) to the process group of a
    /// child spawned [`detached`](SpawnOptions::detached): the child and
    /// everything it started that stayed in its group, also after the
    /// child itself has exited, until its `close` (Node's
    /// `process.kill(-child.pid, signal)`). The way to stop a shell
    /// command with its commands: a plain [`kill`](ChildProcess::kill)
    /// ends `sh` and leaves what it runs behind, holding the pipes, so
    /// `close` waits for them.
    ///
    /// Returns whether it was delivered: `false` for a child not detached
    /// or never started, after `close` (the group's id may belong to
    /// another process by then), or when the group has no process left.
    /// As with Node's `process.kill`, [`killed`](ChildProcess::killed)
    /// stays as it was.
    pub fn kill_group(&self, signal: i32) -> bool {
        let inner = &self.inner;
        let Some(pid) = inner.pid else {
            return false;
        };
        if !inner.detached || inner.closed.get() {
            return false;
        }
        sys::kill_group(pid, signal).is_ok()
    }

    /// Whether a signal was delivered by [`kill`](ChildProcess::kill) or
    /// [`kill_with`](ChildProcess::kill_with) (Node's `killed`).
    pub fn killed(&self) -> bool {
        self.inner.killed.get()
    }

    /// Lets the loop exit while the child runs (Node's `unref`). Its pipes
    /// stay referenced, as Node's do: unref them too, or spawn with
    /// [`Stdio::Ignore`] or [`Stdio::Inherit`].
    pub fn unref(&self) {
        if let Some(reg) = &*self.inner.reg.borrow() {
            reg.set_ref(false);
        }
    }

    /// Makes the running child keep the loop alive again.
    pub fn ref_(&self) {
        if let Some(reg) = &*self.inner.reg.borrow() {
            reg.set_ref(true);
        }
    }

    /// The future style of `exit`: resolves with the child's status once
    /// it is reaped (at once if it already was; awaiting resumes in the
    /// microtask after the `exit` handler), or with the spawn error
    /// (`spawn NAME ENOENT`) if it never started.
    pub fn wait(&self) -> Wait {
        let (resolver, deferred) = deferred();
        if self.inner.status.get().is_some() {
            resolver.resolve(self.inner.wait_result());
        } else {
            self.inner.waiters.borrow_mut().push(resolver);
        }
        Wait { deferred }
    }
}

/// The future of [`ChildProcess::wait`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Wait {
    deferred: Deferred<io::Result<ExitStatus>>,
}

impl std::future::Future for Wait {
    type Output = io::Result<ExitStatus>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<ExitStatus>> {
        std::pin::Pin::new(&mut self.deferred)
            .poll(cx)
            .map(|r| r.unwrap_or_else(|_| Err(io::Error::other("the loop was dropped"))))
    }
}
