//! [`exec`] and [`exec_file`]: run a command to its end and collect its
//! output (Node's `exec` / `execFile`), with Node's `maxBuffer` limit;
//! [`promises`] has their futures.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;

use super::child::{ChildProcess, ExitStatus, SpawnOptions, Stdio, invalid_arg, spawn};

/// Node's default `maxBuffer`: 1 MiB per stream.
const DEFAULT_MAX_BUFFER: usize = 1024 * 1024;

/// Options of [`exec`] and [`exec_file`] (Node's).
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// The most bytes kept of stdout, and of stderr; past it the child is
    /// killed with [`kill_signal`](ExecOptions::kill_signal) and the result
    /// is `ERR_CHILD_PROCESS_STDIO_MAXBUFFER` (default 1 MiB, Node's).
    pub max_buffer: usize,
    /// The signal that stops a child past `max_buffer` (default `SIGTERM`).
    pub kill_signal: i32,
    /// The child's working directory.
    pub cwd: Option<PathBuf>,
    /// The child's whole environment; `None` inherits this process's.
    pub env: Option<Vec<(String, String)>>,
}

impl Default for ExecOptions {
    fn default() -> ExecOptions {
        ExecOptions {
            max_buffer: DEFAULT_MAX_BUFFER,
            kill_signal: libc::SIGTERM,
            cwd: None,
            env: None,
        }
    }
}

/// What a command printed, and how it ended (Node's `stdout`, `stderr`).
/// The text is UTF-8, invalid bytes replaced (Node's default encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How the child ended (exit code 0 for [`exec`]'s `Ok`).
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Why [`exec`] or [`exec_file`] failed, with what the child printed
/// (Node's error object and the callback's `stdout`, `stderr`).
///
/// Its [`Display`](fmt::Display) is Node's `err.message`: `Command failed:
/// CMD` and stderr for a non-zero exit or a signal, `stdout maxBuffer length
/// exceeded`, or the spawn error (`spawn /bin/sh ENOENT`).
#[derive(Clone, Debug)]
pub struct ExecError {
    message: String,
    /// Node's string `err.code`: `Some("ERR_CHILD_PROCESS_STDIO_MAXBUFFER")`
    /// past `maxBuffer`, the errno name (`"ENOENT"`) for a spawn error.
    pub node_code: Option<&'static str>,
    /// The exit code, when the child exited non-zero (Node's numeric
    /// `err.code`).
    pub exit_code: Option<i32>,
    /// The signal that ended the child, if one did.
    pub signal: Option<i32>,
    /// Whether the child was killed by us ([`ChildProcess::killed`]);
    /// `false` on the `maxBuffer` error, which Node leaves without it.
    pub killed: bool,
    /// The command as Node prints it (`err.cmd`).
    pub cmd: String,
    /// What the child printed on stdout (up to `max_buffer` bytes).
    pub stdout: String,
    /// What the child printed on stderr (up to `max_buffer` bytes).
    pub stderr: String,
}

impl ExecError {
    /// An error with no child output: the command was refused, or the
    /// loop went away.
    pub(super) fn without_output(
        message: String,
        node_code: Option<&'static str>,
        cmd: &str,
    ) -> ExecError {
        ExecError {
            message,
            node_code,
            exit_code: None,
            signal: None,
            killed: false,
            cmd: cmd.to_owned(),
            stdout: String::new(),
            stderr: String::new(),
        }
    }

    /// Node's `err.name`: `RangeError` past `maxBuffer`, else `Error`.
    pub fn name(&self) -> &'static str {
        match self.node_code {
            Some("ERR_CHILD_PROCESS_STDIO_MAXBUFFER") => "RangeError",
            _ => "Error",
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExecError {}

impl From<ExecError> for io::Error {
    fn from(e: ExecError) -> io::Error {
        io::Error::other(e)
    }
}

/// Runs `command` in `/bin/sh -c` and calls `callback` once with its
/// output (Node's `child_process.exec`): `Ok` if it exited with code 0,
/// else an [`ExecError`] holding the output too. The callback runs when
/// the child has exited and its output has ended (Node's `close`). An
/// output past `max_buffer` closes both pipes and kills the child; the
/// callback then gets `ERR_CHILD_PROCESS_STDIO_MAXBUFFER` once it is
/// reaped.
///
/// ```
/// evloop::run(|| {
///     evloop::child_process::exec("echo hi; exit 2", Default::default(), |r| {
///         let e = r.unwrap_err();
///         assert_eq!(e.exit_code, Some(2));
///         assert_eq!(e.stdout, "hi\n");
///         assert_eq!(e.to_string(), "Command failed: echo hi; exit 2\n");
///     })
///     .unwrap();
/// });
/// ```
///
/// # Errors
/// As [`spawn`]: an empty command or a NUL byte in it.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn exec(
    command: &str,
    options: ExecOptions,
    callback: impl FnOnce(Result<Output, ExecError>) + 'static,
) -> io::Result<ChildProcess> {
    if command.is_empty() {
        return Err(invalid_arg("command", "cannot be empty", command));
    }
    run(
        "/bin/sh",
        &["-c", command],
        command.to_owned(),
        options,
        callback,
    )
}

/// Runs `file` with `args`, no shell, and calls `callback` once with its
/// output, as [`exec`] (Node's `child_process.execFile`).
///
/// # Errors
/// As [`spawn`].
///
/// # Panics
/// If no event loop is running on this thread.
pub fn exec_file<I, S>(
    file: &str,
    args: I,
    options: ExecOptions,
    callback: impl FnOnce(Result<Output, ExecError>) + 'static,
) -> io::Result<ChildProcess>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut cmd = file.to_owned();
    for a in &args {
        cmd.push(' ');
        cmd.push_str(a);
    }
    run(file, &args, cmd, options, callback)
}

/// The callback of one [`exec`] or [`exec_file`].
type ExecCallback = Box<dyn FnOnce(Result<Output, ExecError>)>;

/// What one run has collected, and whether the callback has run.
struct Collect {
    stdout: RefCell<Vec<u8>>,
    stderr: RefCell<Vec<u8>>,
    /// `maxBuffer` was passed on this stream.
    overflow: Cell<Option<&'static str>>,
    callback: RefCell<Option<ExecCallback>>,
    cmd: String,
}

impl Collect {
    fn text(buf: &RefCell<Vec<u8>>) -> String {
        String::from_utf8_lossy(&buf.borrow()).into_owned()
    }

    /// Node's `exithandler`: the callback runs once.
    fn finish(&self, child: &ChildProcess, status: Option<ExitStatus>, spawn: Option<io::Error>) {
        let Some(callback) = self.callback.borrow_mut().take() else {
            return;
        };
        let stdout = Collect::text(&self.stdout);
        let stderr = Collect::text(&self.stderr);
        let error = |message: String, node_code| ExecError {
            message,
            node_code,
            exit_code: status.and_then(|s| s.code),
            signal: status.and_then(|s| s.signal),
            killed: child.killed(),
            cmd: self.cmd.clone(),
            stdout: stdout.clone(),
            stderr: stderr.clone(),
        };
        let result = if let Some(stream) = self.overflow.get() {
            Err(ExecError {
                exit_code: None,
                signal: None,
                killed: false,
                ..error(
                    format!("{stream} maxBuffer length exceeded"),
                    Some("ERR_CHILD_PROCESS_STDIO_MAXBUFFER"),
                )
            })
        } else if let Some(e) = spawn {
            Err(error(e.to_string(), crate::node::fs::error_code(&e)))
        } else {
            match status {
                Some(s) if s.success() => Ok(Output {
                    status: s,
                    stdout,
                    stderr,
                }),
                _ => Err(error(
                    format!("Command failed: {}\n{stderr}", self.cmd),
                    None,
                )),
            }
        };
        callback(result);
    }
}

fn run<S: AsRef<str>>(
    file: &str,
    args: &[S],
    cmd: String,
    options: ExecOptions,
    callback: impl FnOnce(Result<Output, ExecError>) + 'static,
) -> io::Result<ChildProcess> {
    let child = spawn(
        file,
        args.iter().map(AsRef::as_ref),
        SpawnOptions {
            cwd: options.cwd,
            env: options.env,
            stdio: [Stdio::Pipe, Stdio::Pipe, Stdio::Pipe],
            detached: false,
        },
    )?;
    let collect = Rc::new(Collect {
        stdout: RefCell::new(Vec::new()),
        stderr: RefCell::new(Vec::new()),
        overflow: Cell::new(None),
        callback: RefCell::new(Some(Box::new(callback))),
        cmd,
    });
    let max = options.max_buffer;
    let signal = options.kill_signal;
    let streams = [(child.stdout(), "stdout"), (child.stderr(), "stderr")];
    for (reader, name) in streams {
        let Some(reader) = reader else { continue };
        let c = collect.clone();
        let ch = child.clone();
        reader.on_data(move |chunk| {
            if c.overflow.get().is_some() {
                return;
            }
            let buf = if name == "stdout" {
                &c.stdout
            } else {
                &c.stderr
            };
            let room = max.saturating_sub(buf.borrow().len());
            if chunk.len() > room {
                // Node's `kill()` in `execFile`: keep what fits, destroy
                // both streams (so `close` need not wait for a grandchild
                // holding them open), signal the child; the callback runs
                // at `close`.
                buf.borrow_mut().extend_from_slice(&chunk[..room]);
                c.overflow.set(Some(name));
                for r in [ch.stdout(), ch.stderr()].into_iter().flatten() {
                    r.destroy();
                }
                ch.kill_with(signal);
            } else {
                buf.borrow_mut().extend_from_slice(chunk);
            }
        });
    }
    let c = collect.clone();
    let ch = child.clone();
    child.on_close(move |status| c.finish(&ch, Some(status), None));
    let c = collect;
    let ch = child.clone();
    child.on_error(move |e| c.finish(&ch, None, Some(e)));
    Ok(child)
}
