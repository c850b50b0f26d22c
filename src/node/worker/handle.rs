//! The parent's API: the [`Worker`] handle, and [`run_worker`], a worker
//! as a task of its first message.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::node::emitter::ListenerId;
use crate::{LoopHandle, Task, spawn};

use super::error::{PostMessageError, WorkerError};
use super::exit::{ExitState, WorkerExit};
use super::lock::lock;
use super::mailbox::{Mailbox, NextMessage};
use super::parent::{Event, ParentState, parent_event};
use super::pipe::Pipe;
use super::port::{ParentPort, port_message, worker_main};
use super::registry::{SPAWNED, Side, loop_dropped, register};
use super::shared::Shared;

/// The source of worker ids, unique in the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A worker thread (Node's `new Worker(...)` from `worker_threads`): a
/// closure run on its own thread as the main script of its own
/// [`EventLoop`], talking to its parent loop by messages.
///
/// `In` is what the parent sends the worker, `Out` what the worker sends
/// back; both must be `Send + 'static` and move between the threads (no
/// copying or serialising). The handle lives on the parent loop's thread
/// (`!Send`); clone it freely, e.g. into a listener that replies. Dropping
/// every handle neither stops the worker nor its events: as in Node, the
/// listeners stay registered until it exits. Data for the worker
/// (`workerData`) is simply moved into the closure.
///
/// # Events
/// Registered on the handle, delivered on the parent loop, each in its own
/// poll-phase callback (a [`LoopHandle`] post) followed by the
/// next-tick/microtask drain:
/// - [`on_online`](Worker::on_online): the worker's loop has started (just
///   before its main closure runs);
/// - [`on_message`](Worker::on_message) (and
///   [`once_message`](Worker::once_message)): a message the worker posted;
/// - [`on_error`](Worker::on_error): a panic escaped the worker's code
///   (uncaught exception); the worker is then gone;
/// - [`on_exit`](Worker::on_exit): the exit code: 0 after a normal end (the
///   worker's loop ran out of work), the `code` of [`ParentPort::exit`],
///   1 after a panic, 1 after [`terminate`](Worker::terminate).
///
/// As on Node's `EventEmitter`, each event takes several listeners, called
/// in the order added on a snapshot (one added while its event is delivered
/// waits for the next one). `online`, `error` and `exit` come at most once,
/// so their listeners are `FnOnce` and Node's `on` and `once` are the same
/// there; they cannot be removed (all are dropped at the exit event), where
/// Node has `off`: a listener that may become unwanted checks a flag.
/// Message listeners can be removed ([`off_message`](Worker::off_message)).
///
/// Listeners registered after their event was delivered are never called,
/// as in Node; [`exited`](Worker::exited) works at any time. With no
/// `on_error` listener, a worker's panic is re-raised on the parent loop
/// (Node throws an unhandled `'error'` event), where the loop's panic policy
/// applies.
///
/// # Ordering
/// Messages arrive in the order posted, in both directions. `online` comes
/// before any message, every message the worker posted comes before
/// `error`, and `error` before `exit`; `exit` is always the last event.
///
/// # Keeping the parent alive
/// A worker that has not exited keeps the parent loop alive (the worker
/// thread holds a referenced [`LoopHandle`] until it has queued its exit
/// event), unless [`unref`](Worker::unref) is called; [`ref_`](Worker::ref_)
/// undoes that. Events of an unref'd worker are still delivered while the
/// parent loop runs for other reasons.
///
/// # When the parent loop is dropped
/// Dropping the parent loop while a worker still runs (an unref'd one, or
/// any worker of a loop dropped before it finished) terminates the worker,
/// as Node's workers die with their process: it stops at its next turn
/// ([`ParentPort::is_terminating`] turns `true` and
/// [`ParentPort::post_message`] fails), and its listeners here are dropped
/// with the loop, since no exit event can be delivered any more.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use evloop::{ParentPort, Worker};
///
/// let events = Rc::new(RefCell::new(Vec::new()));
/// let log = events.clone();
/// evloop::run(move || {
///     // The worker doubles the number it gets, then stops listening.
///     let worker = Worker::spawn(|port: ParentPort<u64, u64>| {
///         let reply = port.clone();
///         port.on_message(move |n| {
///             reply.post_message(n * 2).unwrap();
///             reply.close(); // nothing else keeps the worker alive
///         });
///     });
///     let l = log.clone();
///     worker.on_message(move |doubled| l.borrow_mut().push(format!("got {doubled}")));
///     let l = log.clone();
///     worker.on_exit(move |code| l.borrow_mut().push(format!("exit {code}")));
///     worker.post_message(21).unwrap();
/// });
/// assert_eq!(*events.borrow(), ["got 42", "exit 0"]);
/// ```
///
/// Messages must be `Send`: a type that cannot cross threads is a compile
/// error, not a runtime one.
///
/// ```compile_fail,E0277
/// use std::rc::Rc;
/// use evloop::{ParentPort, Worker};
/// evloop::run(|| {
///     Worker::spawn(|port: ParentPort<(), Rc<u32>>| {
///         port.post_message(Rc::new(1)).unwrap();
///     });
/// });
/// ```
///
/// [`EventLoop`]: crate::EventLoop
pub struct Worker<In, Out> {
    state: Rc<ParentState<In, Out>>,
}

impl<In, Out> Clone for Worker<In, Out> {
    fn clone(&self) -> Self {
        Worker {
            state: self.state.clone(),
        }
    }
}

impl<In, Out> fmt::Debug for Worker<In, Out> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.state.shared.id)
            .field("exit_code", &self.state.exited.code.get())
            .finish()
    }
}

impl<In: Send + 'static, Out: Send + 'static> Worker<In, Out> {
    /// Starts a worker: a new thread that creates its own [`EventLoop`],
    /// runs `body(port)` as that loop's main script (so it can set timers,
    /// spawn tasks, register [`ParentPort::on_message`]...), then runs the
    /// loop until nothing keeps it alive, and exits.
    ///
    /// # Panics
    /// If no event loop is running on this thread: the worker's events are
    /// delivered to the loop that spawned it. (A failure to start the thread
    /// does not panic: it is reported as an `error` event with
    /// [`WorkerError::StartFailed`], then `exit` with code 1.)
    ///
    /// [`EventLoop`]: crate::EventLoop
    #[track_caller]
    pub fn spawn<F>(body: F) -> Worker<In, Out>
    where
        F: FnOnce(ParentPort<In, Out>) + Send + 'static,
    {
        if crate::rt::context::try_with_core(|_| ()).is_none() {
            panic!(
                "evloop: Worker::spawn() called with no event loop running on this thread \
                 (a worker reports to the loop that spawned it: call it from inside \
                 evloop::run, EventLoop::run_main or EventLoop::enter)"
            );
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut events = crate::handle();
        events.unref();
        let shared = Arc::new(Shared {
            id,
            inbound: Pipe::new(None),
            outbound: Pipe::new(Some(events)),
            terminating: AtomicBool::new(false),
            keepalive: Mutex::new(Some(crate::handle())),
        });
        let state = Rc::new(ParentState {
            shared: shared.clone(),
            mailbox: Mailbox::new(None),
            online: RefCell::new(Vec::new()),
            error: RefCell::new(Vec::new()),
            exit: RefCell::new(Vec::new()),
            exited: Rc::new(ExitState::default()),
        });
        register(id, Side::Parent, state.clone());
        if let Some(loop_id) = crate::rt::context::try_with_core(|core| core.id()) {
            SPAWNED.with(|s| s.borrow_mut().push((loop_id, id, state.clone())));
            crate::rt::context::on_loop_drop("worker", loop_dropped);
        }
        let thread_shared = shared.clone();
        let started = std::thread::Builder::new()
            .name(format!("evloop-worker-{id}"))
            .spawn(move || worker_main(thread_shared, body));
        if let Err(e) = started {
            shared.inbound.close(true);
            let error = WorkerError::StartFailed(format!("cannot spawn its thread: {e}"));
            shared
                .outbound
                .post(move || parent_event::<In, Out>(id, Event::Error(error)));
            shared
                .outbound
                .post(move || parent_event::<In, Out>(id, Event::Exit(1)));
            shared.outbound.close(false);
            let keepalive = lock(&shared.keepalive).take();
            drop(keepalive);
        }
        Worker { state }
    }

    /// Posts `message` to the worker (`worker.postMessage`). It reaches the
    /// worker's [`ParentPort::on_message`] listener in a poll phase of the
    /// worker's loop, after every message posted before it. Messages posted
    /// before the worker's loop has started wait for it.
    ///
    /// # Errors
    /// [`PostMessageError`] with the message once the worker has exited
    /// (always, after the exit event), is being terminated, or closed its
    /// port. A message posted while the worker is ending on its own may be
    /// dropped unread, as in Node.
    pub fn post_message(&self, message: In) -> Result<(), PostMessageError<In>> {
        let id = self.state.shared.id;
        self.state
            .shared
            .inbound
            .send(message, move || port_message::<In, Out>(id))
            .map_err(PostMessageError)
    }

    /// Adds a listener for messages from the worker
    /// (`worker.on('message', f)`) and returns its id, for
    /// [`off_message`](Worker::off_message).
    ///
    /// Every listener gets each message, in the order they were added; one
    /// added while a message is being delivered gets only later messages
    /// (Node's snapshot). Node calls every listener with the same value, so
    /// each listener here gets `&Out`, a reference to the one message, as
    /// [`EventEmitter`](crate::EventEmitter) listeners get `&Payload`: no
    /// `Clone` bound on the message type (it need only be `Send`), and no
    /// copy per listener. A listener that wants the value itself clones it;
    /// [`next_message`](Worker::next_message) moves messages out instead.
    ///
    /// Messages that arrived while no listener was registered (and that no
    /// `next_message` took) are delivered to the listeners in the check
    /// phase after this call, never from inside it.
    pub fn on_message(&self, f: impl FnMut(&Out) + 'static) -> ListenerId {
        self.state.mailbox.add_listener(false, Box::new(f))
    }

    /// Adds a listener for the next message only (`worker.once('message',
    /// f)`): removed before it runs, like [`EventEmitter::once`].
    ///
    /// [`EventEmitter::once`]: crate::EventEmitter::once
    pub fn once_message(&self, f: impl FnOnce(&Out) + 'static) -> ListenerId {
        let mut f = Some(f);
        let f = move |m: &Out| {
            if let Some(f) = f.take() {
                f(m);
            }
        };
        self.state.mailbox.add_listener(true, Box::new(f))
    }

    /// Removes message listener `id` (`worker.off('message', f)`); whether
    /// it was registered. With no listener left, messages wait for
    /// [`next_message`](Worker::next_message) or the next listener.
    pub fn off_message(&self, id: ListenerId) -> bool {
        self.state.mailbox.remove_listener(id)
    }

    /// How many message listeners are registered
    /// (`worker.listenerCount('message')`): 0 again after the exit event,
    /// which drops them.
    pub fn message_listener_count(&self) -> usize {
        self.state.mailbox.listener_count()
    }

    /// Adds a listener for the `online` event (`worker.on('online', f)`, the
    /// same as `once`: the event comes once): the worker's loop has started
    /// and its main closure is about to run.
    pub fn on_online(&self, f: impl FnOnce() + 'static) -> &Self {
        self.state.online.borrow_mut().push(Box::new(move |()| f()));
        self
    }

    /// Adds a listener for the `error` event (`worker.on('error', f)`, the
    /// same as `once`): a panic escaped the worker's code
    /// ([`WorkerError::Panicked`] with its message), or it could not start.
    /// The `exit` event (code 1) follows. Every listener gets a copy.
    pub fn on_error(&self, f: impl FnOnce(WorkerError) + 'static) -> &Self {
        self.state.error.borrow_mut().push(Box::new(f));
        self
    }

    /// Adds a listener for the `exit` event (`worker.on('exit', f)`, the
    /// same as `once`), with the exit code (see [`Worker`]). It is the worker's last event: every message it posted
    /// has been delivered before it.
    pub fn on_exit(&self, f: impl FnOnce(i32) + 'static) -> &Self {
        self.state.exit.borrow_mut().push(Box::new(f));
        self
    }

    /// The next message from the worker, as a future: `Some(message)`, or
    /// `None` once the worker has exited and every message it posted was
    /// taken. Messages wait in the handle until taken, so none is missed
    /// between two calls. Only messages that no
    /// [`on_message`](Worker::on_message) listener consumed reach it: with a
    /// listener registered it yields `None` at the exit.
    ///
    /// ```
    /// use evloop::{ParentPort, Worker};
    /// let total = evloop::run_async(async {
    ///     let worker = Worker::spawn(|port: ParentPort<(), u32>| {
    ///         for i in 1..=3 {
    ///             port.post_message(i).unwrap();
    ///         }
    ///     });
    ///     let mut total = 0;
    ///     while let Some(i) = worker.next_message().await {
    ///         total += i;
    ///     }
    ///     assert_eq!(worker.exited().await, 0);
    ///     total
    /// });
    /// assert_eq!(total, 6);
    /// ```
    pub fn next_message(&self) -> NextMessage<Out> {
        NextMessage {
            mailbox: self.state.mailbox.clone(),
            wait: None,
        }
    }

    /// A future of the worker's exit code, ready once the exit event has been
    /// delivered (at once if it already has been).
    pub fn exited(&self) -> WorkerExit {
        WorkerExit::new(self.state.exited.clone())
    }

    /// The exit code, once the exit event has been delivered.
    pub fn exit_code(&self) -> Option<i32> {
        self.state.exited.code.get()
    }

    /// Stops the worker (`worker.terminate()`): messages not yet delivered
    /// to it are dropped, [`post_message`](Worker::post_message) fails from
    /// now on, and the worker's loop stops at its next turn: the poll phase
    /// of its current or next iteration (the rest of that iteration still
    /// runs). The exit code is 1. Returns a future of the exit code (the
    /// same as [`exited`](Worker::exited)); it need not be awaited.
    ///
    /// A callback that computes without returning to its loop cannot be
    /// pre-empted (unlike V8, Rust has no way to interrupt a running
    /// function): such code should check [`ParentPort::is_terminating`] and
    /// return early. A worker that ends on its own before the request takes
    /// effect keeps the exit code it ended with; one terminated before its
    /// loop started never runs its closure and has no `online` event.
    pub fn terminate(&self) -> WorkerExit {
        let shared = &self.state.shared;
        if !shared.terminating.swap(true, Ordering::AcqRel) {
            shared.inbound.close_with(crate::stop);
        }
        self.exited()
    }

    /// Lets the parent loop exit while the worker still runs
    /// (`worker.unref()`). Idempotent.
    pub fn unref(&self) {
        if let Some(h) = lock(&self.state.shared.keepalive).as_mut() {
            h.unref();
        }
    }

    /// Makes a running worker keep the parent loop alive again
    /// (`worker.ref()`). Idempotent; a no-op once the worker has exited.
    pub fn ref_(&self) {
        if let Some(h) = lock(&self.state.shared.keepalive).as_mut() {
            h.ref_();
        }
    }

    /// Whether the worker keeps the parent loop alive: running and not
    /// unref'd.
    pub fn has_ref(&self) -> bool {
        lock(&self.state.shared.keepalive)
            .as_ref()
            .is_some_and(LoopHandle::has_ref)
    }
}

/// Runs `body(data, port)` in a new [`Worker`] and resolves with the first
/// message it posts: the article's `runWorker(data)` promise, so that
/// `await runWorker(data)` ports as `run_worker(data, body).await`.
///
/// The result is `Err` with [`WorkerError::Panicked`] if the worker panics
/// first, or [`WorkerError::Exited`] if it exits without posting anything
/// (any exit code, where Node's version would hang on a clean exit).
/// The worker keeps the parent loop alive until it exits, even after the
/// first message. Dropping the task detaches it; the worker runs on.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// let results = evloop::run_async(async {
///     let tasks: Vec<_> = [10u64, 20, 30, 40]
///         .into_iter()
///         .map(|value| {
///             evloop::run_worker(value, |value, port| {
///                 let sum: u64 = (0..value * 1000).sum();
///                 port.post_message(sum).unwrap();
///             })
///         })
///         .collect();
///     let mut results = Vec::new();
///     for task in tasks {
///         results.push(task.await.unwrap());
///     }
///     results
/// });
/// assert_eq!(results, [49_995_000, 199_990_000, 449_985_000, 799_980_000]);
/// ```
#[track_caller]
pub fn run_worker<D, Out, F>(data: D, body: F) -> Task<Result<Out, WorkerError>>
where
    D: Send + 'static,
    Out: Send + 'static,
    F: FnOnce(D, ParentPort<(), Out>) + Send + 'static,
{
    let worker: Worker<(), Out> = Worker::spawn(move |port| body(data, port));
    let failure = Rc::new(RefCell::new(None));
    let f = failure.clone();
    worker.on_error(move |e| *f.borrow_mut() = Some(e));
    spawn(async move {
        if let Some(message) = worker.next_message().await {
            return Ok(message);
        }
        let code = worker.exited().await;
        let failure = failure.borrow_mut().take();
        Err(failure.unwrap_or(WorkerError::Exited(code)))
    })
}
