//! The worker thread's side: the thread's body, its loop, and
//! [`ParentPort`], the worker's end of the channel.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::EventLoop;
use crate::node::emitter::ListenerId;

use super::error::{PostMessageError, WorkerError};
use super::lock::lock;
use super::mailbox::Mailbox;
use super::parent::{Event, parent_event};
use super::registry::{Side, lookup, register, unregister};
use super::shared::Shared;

struct PortState<In, Out> {
    shared: Arc<Shared<In, Out>>,
    /// Keeps the worker's loop alive while it has a listener.
    mailbox: Rc<Mailbox<In>>,
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
        mailbox: Mailbox::new(Some(handle.clone())),
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

    /// Adds a listener for messages from the parent
    /// (`parentPort.on('message', f)`) and returns its id, for
    /// [`off_message`](Self::off_message). Every listener gets each message,
    /// by reference (see [`Worker::on_message`] for why), in the order they
    /// were added; one added while a message is delivered gets only later
    /// ones. Each message is one callback in the worker loop's poll phase,
    /// followed by the next-tick/microtask drain.
    ///
    /// As in Node, a port with a message listener keeps the worker alive:
    /// the worker then runs until its last listener is removed (a
    /// [`once_message`](Self::once_message) listener that ran, or
    /// [`off_message`](Self::off_message)), [`ParentPort::close`],
    /// [`ParentPort::exit`] or [`Worker::terminate`]. Messages that arrived
    /// while it had no listener wait, and are delivered to the listeners in
    /// the check phase after the call, never from inside it.
    ///
    /// [`Worker::on_message`]: crate::Worker::on_message
    /// [`Worker::terminate`]: crate::Worker::terminate
    pub fn on_message(&self, f: impl FnMut(&In) + 'static) -> ListenerId {
        self.state.mailbox.add_listener(false, Box::new(f))
    }

    /// Adds a listener for the next message only
    /// (`parentPort.once('message', f)`): it is removed before it runs, so
    /// a worker whose port has only this listener lets its loop end after
    /// that message, as in Node.
    pub fn once_message(&self, f: impl FnOnce(&In) + 'static) -> ListenerId {
        let mut f = Some(f);
        let f = move |m: &In| {
            if let Some(f) = f.take() {
                f(m);
            }
        };
        self.state.mailbox.add_listener(true, Box::new(f))
    }

    /// Removes message listener `id` (`parentPort.off('message', f)`);
    /// whether it was registered. Removing the last one lets the worker's
    /// loop end.
    pub fn off_message(&self, id: ListenerId) -> bool {
        self.state.mailbox.remove_listener(id)
    }

    /// Stops listening (`parentPort.close()`): drops the message listener and
    /// the messages not yet delivered, and lets the worker's loop end once
    /// nothing else keeps it alive. The parent's
    /// [`post_message`](crate::Worker::post_message) fails from then on.
    /// Messages to the parent can still be posted.
    pub fn close(&self) {
        self.state.shared.inbound.close(true);
        self.state.mailbox.end(true);
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
