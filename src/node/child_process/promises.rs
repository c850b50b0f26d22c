//! The futures of [`exec`](super::exec) and [`exec_file`](super::exec_file)
//! (Node's `util.promisify(exec)`).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::futures::promise::{Deferred, Resolver, deferred};

use super::child::ChildProcess;
use super::exec::{self, ExecError, ExecOptions, Output};

/// [`exec`](super::exec) as a future: the output, or the
/// [`ExecError`] (whose `stdout`/`stderr` hold what was printed).
///
/// ```
/// evloop::run_async(async {
///     let out = evloop::child_process::promises::exec("echo hi", Default::default())
///         .await
///         .unwrap();
///     assert_eq!(out.stdout, "hi\n");
/// });
/// ```
///
/// # Panics
/// If no event loop is running on this thread.
pub fn exec(command: &str, options: ExecOptions) -> Exec {
    let (resolver, deferred) = deferred();
    let resolver = Rc::new(RefCell::new(Some(resolver)));
    let r = resolver.clone();
    let started = exec::exec(command, options, move |result| {
        if let Some(r) = r.borrow_mut().take() {
            r.resolve(result);
        }
    });
    Exec::new(started, resolver, deferred, command)
}

/// [`exec_file`](super::exec_file) as a future.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn exec_file<I, S>(file: &str, args: I, options: ExecOptions) -> Exec
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let (resolver, deferred) = deferred();
    let resolver = Rc::new(RefCell::new(Some(resolver)));
    let r = resolver.clone();
    let started = exec::exec_file(file, args, options, move |result| {
        if let Some(r) = r.borrow_mut().take() {
            r.resolve(result);
        }
    });
    Exec::new(started, resolver, deferred, file)
}

type Slot = Rc<RefCell<Option<Resolver<Result<Output, ExecError>>>>>;

/// The future of [`exec`] and [`exec_file`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Exec {
    deferred: Deferred<Result<Output, ExecError>>,
}

impl Exec {
    fn new(
        started: io::Result<ChildProcess>,
        resolver: Slot,
        deferred: Deferred<Result<Output, ExecError>>,
        cmd: &str,
    ) -> Exec {
        if let Err(e) = started
            && let Some(r) = resolver.borrow_mut().take()
        {
            r.resolve(Err(ExecError::without_output(
                e.to_string(),
                Some("ERR_INVALID_ARG_VALUE"),
                cmd,
            )));
        }
        Exec { deferred }
    }
}

impl Future for Exec {
    type Output = Result<Output, ExecError>;

    // An `ExecError` is large (it carries the output, as Node's error
    // does), and made once per command: not worth a box.
    #[allow(clippy::result_large_err)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.deferred).poll(cx).map(|r| {
            r.unwrap_or_else(|_| {
                Err(ExecError::without_output(
                    "the loop was dropped before the command ended".into(),
                    None,
                    "",
                ))
            })
        })
    }
}
