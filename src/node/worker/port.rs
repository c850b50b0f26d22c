//! The worker thread's side: the thread's body, its loop, and
//! [`ParentPort`], the worker's end of the channel.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::{EventLoop, LoopHandle};

use super::error::{PostMessageError, WorkerError};
use super::lock::lock;
use super::mailbox::Mailbox;
use super::parent::{Event, parent_event};
use super::registry::{Side, lookup, register, unregister};
use super::shared::Shared;

struct PortState<In, Out> {
    shared: Arc<Shared<In, Out>>,
    mailbox: Rc<Mailbox<In>>,
    /// The worker's own loop, unreferenced (cloned and referenced while a
    /// listener is registered).
    loop_handle: LoopHandle,
    keepalive: RefCell<Option<LoopHandle>>,
    exit_code: Cell<Option<i32>>,
}

/// A posted job on the worker loop: one message from the parent.
pub(super) fn port_message<In: Send + 'static, Out: Send + 'static>(id: u64) {
    let Some(state) = lookup::<PortState<In, Out>>(id, Side::Worker) else {
        return;
    };
    if let Some(value) = state.shared.inbound.take()
        && !state.shared.terminating.load(Ordering::Acquire)
    {
        state.mailbox.push(value);
    }
}

/// The payload [`ParentPort::exit`] unwinds with.
struct ExitSignal(i32);

fn panic_message(payload: &(dyn Any + Send)) -> String {
    crate::rt::panic::panic_message(payload)
        .unwrap_or("a panic with a non-string payload")
        .to_string()
}

/// The body of a worker thread.
pub(super) fn worker_main<In, Out, F>(shared: Arc<Shared<In, Out>>, body: F)
where
    In: Send + 'static,
    Out: Send + 'static,
    F: FnOnce(ParentPort<In, Out>) + Send + 'static,
{
    let id = shared.id;
    let code = match EventLoop::new() {
        Ok(lp) => run_worker_loop(&shared, lp, body),
        Err(e) => {
            drop(catch_unwind(AssertUnwindSafe(move || drop(body))));
            shared.inbound.close(true);
            let error = WorkerError::StartFailed(format!("cannot create its event loop: {e}"));
            shared
                .outbound
                .post(move || parent_event::<In, Out>(id, Event::Error(error)));
            1
        }
    };
    shared
        .outbound
        .post(move || parent_event::<In, Out>(id, Event::Exit(code)));
    shared.outbound.close(false);
    // Only now may the parent loop exit: the exit event is queued in it.
    let keepalive = lock(&shared.keepalive).take();
    drop(keepalive);
}

fn run_worker_loop<In, Out, F>(shared: &Arc<Shared<In, Out>>, lp: EventLoop, body: F) -> i32
where
    In: Send + 'static,
    Out: Send + 'static,
    F: FnOnce(ParentPort<In, Out>) + Send + 'static,
{
    let id = shared.id;
    let mut handle = lp.handle();
    handle.unref();
    let state = Rc::new(PortState {
        shared: shared.clone(),
        mailbox: Mailbox::new(),
        loop_handle: handle.clone(),
        keepalive: RefCell::new(None),
        exit_code: Cell::new(None),
    });
    register(id, Side::Worker, state.clone());
    shared
        .inbound
        .attach(handle, || move || port_message::<In, Out>(id));

    let outcome = if shared.terminating.load(Ordering::Acquire) {
        // Terminated before it started: the body never runs.
        catch_unwind(AssertUnwindSafe(move || drop(body)))
    } else {
        shared
            .outbound
            .post(move || parent_event::<In, Out>(id, Event::Online));
        let port = ParentPort {
            state: state.clone(),
        };
        catch_unwind(AssertUnwindSafe(|| lp.run_main(move || body(port))))
    };

    // From here on the parent's posts fail.
    shared.inbound.close(true);
    let mut error = None;
    let code = match outcome {
        Ok(()) => state.exit_code.get().unwrap_or_else(|| {
            if shared.terminating.load(Ordering::Acquire) {
                1
            } else {
                0
            }
        }),
        Err(payload) => match payload.downcast::<ExitSignal>() {
            Ok(exit) => exit.0,
            Err(payload) => {
                error = Some(WorkerError::Panicked(panic_message(&*payload)));
                // Dropping a payload can panic too; contain it.
                drop(catch_unwind(AssertUnwindSafe(move || drop(payload))));
                1
            }
        },
    };
    // The loop first (its destructor enters it, so queued callbacks' captures
    // can still reach it), then the listeners.
    let torn_down = catch_unwind(AssertUnwindSafe(move || {
        drop(lp);
        state.mailbox.end(true);
        state.keepalive.take();
        drop(unregister(id, Side::Worker));
        drop(state);
    }));
    if torn_down.is_err() {
        log::error!(
            target: "evloop",
            "worker {id}: a destructor panicked while its loop was torn down"
        );
    }
    if let Some(error) = error {
        shared
            .outbound
            .post(move || parent_event::<In, Out>(id, Event::Error(error)));
    }
    code
}

/// The worker's end of its channel to the parent: Node's `parentPort`, plus
/// `process.exit` for the worker. Passed to the worker's main closure by
/// [`Worker::spawn`]; clone it freely (e.g. into a listener that replies).
/// It stays on the worker's thread (`!Send`).
///
/// - `In`: what the parent sends ([`ParentPort::on_message`] receives it);
/// - `Out`: what the worker sends ([`ParentPort::post_message`]).
///
/// [`Worker::spawn`]: crate::Worker::spawn
pub struct ParentPort<In, Out> {
    state: Rc<PortState<In, Out>>,
}

impl<In, Out> Clone for ParentPort<In, Out> {
    fn clone(&self) -> Self {
        ParentPort {
            state: self.state.clone(),
        }
    }
}

impl<In, Out> fmt::Debug for ParentPort<In, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParentPort")
            .field("worker", &self.state.shared.id)
            .finish()
    }
}

impl<In: Send + 'static, Out: Send + 'static> ParentPort<In, Out> {
    /// Posts `message` to the parent (`parentPort.postMessage`). It reaches
    /// the parent's [`Worker::on_message`] listener (or
    /// [`Worker::next_message`]) in a poll phase of the parent loop, after
    /// every message posted before it and before the worker's exit event.
    ///
    /// # Errors
    /// [`PostMessageError`] with the message if the parent's loop has been
    /// dropped. From then on [`ParentPort::is_terminating`] is `true`: the
    /// worker's loop stops at its next turn, and code that runs long
    /// without returning to it should wind down, as it would die with the
    /// process in Node.
    ///
    /// [`Worker::on_message`]: crate::Worker::on_message
    /// [`Worker::next_message`]: crate::Worker::next_message
    pub fn post_message(&self, message: Out) -> Result<(), PostMessageError<Out>> {
        let shared = &self.state.shared;
        let id = shared.id;
        shared
            .outbound
            .send(message, move || parent_event::<In, Out>(id, Event::Message))
            .map_err(|message| {
                shared.terminating.store(true, Ordering::Release);
                PostMessageError(message)
            })
    }

    /// Registers the listener for messages from the parent
    /// (`parentPort.on('message', f)`), replacing any earlier one. Each
    /// message is one callback in the worker loop's poll phase, followed by
    /// the next-tick/microtask drain.
    ///
    /// As in Node, a port with a message listener keeps the worker alive:
    /// the worker then runs until [`ParentPort::close`], [`ParentPort::exit`]
    /// or [`Worker::terminate`]. Messages that arrived before any listener
    /// was registered wait, and are delivered to the first one (in the check
    /// phase after the call, never from inside it).
    ///
    /// [`Worker::terminate`]: crate::Worker::terminate
    pub fn on_message(&self, f: impl FnMut(In) + 'static) -> &Self {
        self.state.mailbox.set_listener(Box::new(f));
        if self.state.mailbox.has_listener() {
            let mut keepalive = self.state.keepalive.borrow_mut();
            if keepalive.is_none() {
                let mut handle = self.state.loop_handle.clone();
                handle.ref_();
                *keepalive = Some(handle);
            }
        }
        self
    }

    /// Stops listening (`parentPort.close()`): drops the message listener and
    /// the messages not yet delivered, and lets the worker's loop end once
    /// nothing else keeps it alive. The parent's
    /// [`post_message`](crate::Worker::post_message) fails from then on.
    /// Messages to the parent can still be posted.
    pub fn close(&self) {
        self.state.shared.inbound.close(true);
        self.state.mailbox.end(true);
        let keepalive = self.state.keepalive.borrow_mut().take();
        drop(keepalive);
    }

    /// Ends the worker with exit `code` (`process.exit(code)` inside a
    /// worker): nothing more of the worker's code runs, and the parent gets
    /// the exit event with `code` after every message posted so far.
    ///
    /// It works by unwinding (destructors run) out of the current callback
    /// and out of the worker's loop, with a private payload that does not run
    /// the panic hook. Do not call it inside `catch_unwind`; if the unwind is
    /// caught anyway (there, or by an uncaught-panic handler the worker
    /// installed on its loop), the loop still stops at the end of its current
    /// iteration and the exit code is still `code`.
    pub fn exit(&self, code: i32) -> ! {
        self.state.exit_code.set(Some(code));
        crate::stop();
        resume_unwind(Box::new(ExitSignal(code)))
    }

    /// Whether the parent called [`Worker::terminate`] (or the parent's loop
    /// is gone). The worker's loop stops by itself at its next turn; code
    /// that runs for long without returning to the loop should check this
    /// and return early, since a running Rust callback cannot be pre-empted.
    ///
    /// [`Worker::terminate`]: crate::Worker::terminate
    pub fn is_terminating(&self) -> bool {
        self.state.shared.terminating.load(Ordering::Acquire)
    }
}
