//! Worker threads: a closure on its own thread with its own event loop,
//! talking to its parent by messages (Node's `worker_threads`).
//!
//! Built on the loop's public pieces: each worker thread runs its own
//! [`EventLoop`], and everything that crosses threads is a [`LoopHandle`]
//! post.
//!
//! # Plumbing
//! Each direction is a [`Pipe`]: a mutex-guarded queue plus the receiving
//! loop's handle. Sending pushes the value and posts one job that pops one
//! value on the receiving thread, so values arrive in order, one per
//! poll-phase callback, each followed by the tick/microtask drain. A value
//! that cannot be sent is handed back to the sender. Lifecycle events
//! (online, error, exit) are posted through the same handle by the same
//! thread, so they keep their place among the messages. Posted jobs must be
//! `Send`, so they carry only the worker's id; on the receiving thread they
//! find the (`!Send`) listeners in a thread-local registry.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use crate::{Deferred, EventLoop, LoopHandle, Resolver, Task, deferred, set_immediate, spawn};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing user-supplied runs under these locks, so a poisoned one still
    // holds consistent data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------
// Pipes: one direction of a worker's channel.

struct PipeState<T> {
    queue: VecDeque<T>,
    /// The receiving loop (unreferenced); `None` until it exists.
    handle: Option<LoopHandle>,
    closed: bool,
}

struct Pipe<T> {
    state: Mutex<PipeState<T>>,
}

impl<T: Send + 'static> Pipe<T> {
    fn new(handle: Option<LoopHandle>) -> Pipe<T> {
        Pipe {
            state: Mutex::new(PipeState {
                queue: VecDeque::new(),
                handle,
                closed: false,
            }),
        }
    }

    /// Queues `value` and posts `job`, which pops one value on the receiving
    /// loop. Before the receiving loop exists the value just waits (see
    /// [`Pipe::attach`]). Gives the value back if the pipe is closed or the
    /// receiving loop is gone.
    fn send(&self, value: T, job: impl FnOnce() + Send + 'static) -> Result<(), T> {
        let mut st = lock(&self.state);
        if st.closed {
            return Err(value);
        }
        // Posting before pushing is safe: the job pops under this lock.
        if let Some(h) = &st.handle
            && h.post(job).is_err()
        {
            st.closed = true;
            st.handle = None;
            return Err(value);
        }
        st.queue.push_back(value);
        Ok(())
    }

    /// Posts a job that carries no value, in order with the values.
    fn post(&self, job: impl FnOnce() + Send + 'static) -> bool {
        let st = lock(&self.state);
        match &st.handle {
            Some(h) if !st.closed => h.post(job).is_ok(),
            _ => false,
        }
    }

    /// Connects the receiving loop: one job for each value already waiting,
    /// then direct posts from now on.
    fn attach<J: FnOnce() + Send + 'static>(&self, handle: LoopHandle, job: impl Fn() -> J) {
        let mut st = lock(&self.state);
        if st.closed {
            return;
        }
        for _ in 0..st.queue.len() {
            // Our own loop, alive on this very thread: cannot fail.
            let _ = handle.post(job());
        }
        st.handle = Some(handle);
    }

    /// The oldest value, for a job on the receiving loop.
    fn take(&self) -> Option<T> {
        lock(&self.state).queue.pop_front()
    }

    /// Refuses further sends; with `clear`, drops the values not yet taken.
    fn close(&self, clear: bool) {
        let (handle, dropped) = {
            let mut st = lock(&self.state);
            st.closed = true;
            let dropped = if clear {
                std::mem::take(&mut st.queue)
            } else {
                VecDeque::new()
            };
            (st.handle.take(), dropped)
        };
        drop(handle);
        drop(dropped);
    }

    /// Posts a last job, then closes the pipe and drops the values not yet
    /// taken.
    fn close_with(&self, job: impl FnOnce() + Send + 'static) {
        let (handle, dropped) = {
            let mut st = lock(&self.state);
            if let Some(h) = &st.handle
                && !st.closed
            {
                let _ = h.post(job);
            }
            st.closed = true;
            (st.handle.take(), std::mem::take(&mut st.queue))
        };
        drop(handle);
        drop(dropped);
    }
}

/// What both threads share about one worker.
struct Shared<In, Out> {
    id: u64,
    /// Parent → worker.
    inbound: Pipe<In>,
    /// Worker → parent, also carrying the lifecycle events.
    outbound: Pipe<Out>,
    terminating: AtomicBool,
    /// The referenced handle that keeps the parent loop alive while the
    /// worker runs; dropped by the worker thread after its exit event.
    keepalive: Mutex<Option<LoopHandle>>,
}

// ---------------------------------------------------------------------------
// The thread-local registry that posted jobs look their listeners up in.

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    Parent,
    Worker,
}

thread_local! {
    static REGISTRY: RefCell<HashMap<(u64, Side), Rc<dyn Any>>> = RefCell::new(HashMap::new());
}

fn register(id: u64, side: Side, state: Rc<dyn Any>) {
    REGISTRY.with(|r| r.borrow_mut().insert((id, side), state));
}

fn lookup<T: 'static>(id: u64, side: Side) -> Option<Rc<T>> {
    let any = REGISTRY
        .try_with(|r| r.borrow().get(&(id, side)).cloned())
        .ok()
        .flatten()?;
    any.downcast::<T>().ok()
}

/// A worker's parent-side state, seen from the loop that receives its
/// events, so that dropping that loop can end the worker.
trait Orphan {
    /// The parent loop is being dropped: terminate the worker (as Node's
    /// workers die with their process) and let go of its listeners, since
    /// the exit event that would have freed them can no longer arrive.
    fn orphan(&self);
}

/// A worker spawned on this thread: (its loop's id, the worker's id, its
/// parent-side state).
type Spawned = (u32, u64, Rc<dyn Orphan>);

thread_local! {
    /// Workers whose events go to a loop of this thread; an entry leaves at
    /// the worker's exit event.
    static SPAWNED: RefCell<Vec<Spawned>> = const { RefCell::new(Vec::new()) };
}

/// The loop's drop hook (registered when a worker is spawned): terminates
/// the workers that report to loop `loop_id` and drops their listeners.
/// Returns how many.
fn loop_dropped(loop_id: u32) -> usize {
    let orphans: Vec<_> = SPAWNED
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let (gone, kept) = std::mem::take(&mut *s)
                .into_iter()
                .partition(|(l, _, _)| *l == loop_id);
            *s = kept;
            gone
        })
        .unwrap_or_default();
    for (_, _, state) in &orphans {
        state.orphan();
    }
    orphans.len()
}

fn forget_spawned(id: u64) {
    let entry = SPAWNED
        .try_with(|s| {
            let mut s = s.borrow_mut();
            let i = s.iter().position(|(_, w, _)| *w == id)?;
            Some(s.swap_remove(i))
        })
        .ok()
        .flatten();
    drop(entry);
}

fn unregister(id: u64, side: Side) -> Option<Rc<dyn Any>> {
    REGISTRY
        .try_with(|r| r.borrow_mut().remove(&(id, side)))
        .ok()
        .flatten()
}

// ---------------------------------------------------------------------------
// Mailbox: the receiving end's listener, buffer and waiters.

type Listener<T> = Box<dyn FnMut(T)>;

struct MailboxInner<T> {
    buffer: VecDeque<T>,
    listener: Option<Listener<T>>,
    /// Bumped whenever the listener is replaced or removed, so a listener
    /// taken out to be called is not put back over its replacement.
    generation: u64,
    ended: bool,
    flush_scheduled: bool,
    /// `next_message` futures waiting for a value (or the end).
    waiters: Vec<Resolver<()>>,
}

struct Mailbox<T> {
    inner: RefCell<MailboxInner<T>>,
}

impl<T: 'static> Mailbox<T> {
    fn new() -> Rc<Mailbox<T>> {
        Rc::new(Mailbox {
            inner: RefCell::new(MailboxInner {
                buffer: VecDeque::new(),
                listener: None,
                generation: 0,
                ended: false,
                flush_scheduled: false,
                waiters: Vec::new(),
            }),
        })
    }

    /// A value arrived: to the listener if there is one, else buffered for
    /// `next_message`.
    fn push(self: &Rc<Self>, value: T) {
        let waiters = {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                drop(inner);
                drop(value);
                return;
            }
            inner.buffer.push_back(value);
            if inner.listener.is_some() {
                Vec::new()
            } else {
                std::mem::take(&mut inner.waiters)
            }
        };
        for w in waiters {
            w.resolve(());
        }
        self.drain();
    }

    /// Hands buffered values to the listener, oldest first.
    fn drain(&self) {
        loop {
            let (listener, value, generation) = {
                let mut inner = self.inner.borrow_mut();
                if inner.listener.is_none() {
                    return;
                }
                let Some(value) = inner.buffer.pop_front() else {
                    return;
                };
                let Some(listener) = inner.listener.take() else {
                    return;
                };
                (listener, value, inner.generation)
            };
            let mut guard = Restore {
                mailbox: self,
                listener: Some(listener),
                generation,
            };
            if let Some(f) = guard.listener.as_mut() {
                f(value);
            }
        }
    }

    fn set_listener(self: &Rc<Self>, f: Listener<T>) {
        let (old, flush) = {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                drop(inner);
                drop(f);
                return;
            }
            inner.generation += 1;
            let old = inner.listener.replace(f);
            let flush = !inner.buffer.is_empty() && !inner.flush_scheduled;
            inner.flush_scheduled |= flush;
            (old, flush)
        };
        drop(old);
        if flush {
            // Values that waited for a listener: delivered in the check
            // phase, never from inside the call that registers it.
            let mailbox = self.clone();
            set_immediate(move || {
                mailbox.inner.borrow_mut().flush_scheduled = false;
                mailbox.drain();
            });
        }
    }

    /// No more values: drops the listener (and with `clear` the buffer) and
    /// wakes the waiters, who then see the end once the buffer is empty.
    fn end(&self, clear: bool) {
        let (listener, buffer, waiters) = {
            let mut inner = self.inner.borrow_mut();
            inner.ended = true;
            inner.generation += 1;
            let buffer = if clear {
                std::mem::take(&mut inner.buffer)
            } else {
                VecDeque::new()
            };
            (
                inner.listener.take(),
                buffer,
                std::mem::take(&mut inner.waiters),
            )
        };
        drop(listener);
        drop(buffer);
        for w in waiters {
            w.resolve(());
        }
    }

    fn has_listener(&self) -> bool {
        self.inner.borrow().listener.is_some()
    }
}

/// Puts a listener back after it was called (also when it panics, so a loop
/// with an uncaught-panic handler keeps it), unless it was replaced or
/// removed meanwhile.
struct Restore<'a, T: 'static> {
    mailbox: &'a Mailbox<T>,
    listener: Option<Listener<T>>,
    generation: u64,
}

impl<T: 'static> Drop for Restore<'_, T> {
    fn drop(&mut self) {
        let Ok(mut inner) = self.mailbox.inner.try_borrow_mut() else {
            return;
        };
        if inner.generation == self.generation && inner.listener.is_none() && !inner.ended {
            inner.listener = self.listener.take();
        }
        drop(inner);
        // A replaced listener is dropped here, outside the borrow.
        drop(self.listener.take());
    }
}

/// The future of [`Worker::next_message`]: the next message the worker
/// posts, or `None` once it has exited and every message was taken.
///
/// Cancel-safe: dropping it never loses a message (messages stay queued in
/// the worker's handle until a `NextMessage` takes one).
pub struct NextMessage<T> {
    mailbox: Rc<Mailbox<T>>,
    wait: Option<Deferred<()>>,
}

impl<T> fmt::Debug for NextMessage<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NextMessage")
    }
}

impl<T> Unpin for NextMessage<T> {}

impl<T: 'static> Future for NextMessage<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = &mut *self;
        loop {
            {
                let mut inner = this.mailbox.inner.borrow_mut();
                if let Some(v) = inner.buffer.pop_front() {
                    return Poll::Ready(Some(v));
                }
                if inner.ended {
                    return Poll::Ready(None);
                }
            }
            match &mut this.wait {
                None => {
                    let (resolver, wait) = deferred();
                    this.mailbox.inner.borrow_mut().waiters.push(resolver);
                    this.wait = Some(wait);
                }
                Some(wait) => match Pin::new(wait).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(_) => this.wait = None,
                },
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Exit state and its future.

#[derive(Default)]
struct ExitState {
    code: Cell<Option<i32>>,
    waiters: RefCell<Vec<Resolver<()>>>,
}

/// The future of [`Worker::exited`] and [`Worker::terminate`]: the worker's
/// exit code, once the parent has received its exit event (right away if it
/// already has).
///
/// Not `#[must_use]`: `worker.terminate();` acts at once, and the future is
/// only there for those who want to wait for the exit.
pub struct WorkerExit {
    state: Rc<ExitState>,
    wait: Option<Deferred<()>>,
}

impl fmt::Debug for WorkerExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerExit")
            .field("code", &self.state.code.get())
            .finish()
    }
}

impl Future for WorkerExit {
    type Output = i32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<i32> {
        let this = &mut *self;
        loop {
            if let Some(code) = this.state.code.get() {
                return Poll::Ready(code);
            }
            match &mut this.wait {
                None => {
                    let (resolver, wait) = deferred();
                    this.state.waiters.borrow_mut().push(resolver);
                    this.wait = Some(wait);
                }
                Some(wait) => match Pin::new(wait).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(_) => this.wait = None,
                },
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Errors.

/// Why a worker failed: what [`Worker::on_error`] listeners receive, and the
/// error of [`run_worker`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WorkerError {
    /// A panic escaped the worker's code (its main closure or a callback of
    /// its loop): Node's uncaught exception inside a worker. Holds the panic
    /// message (or a placeholder for a payload that is not a string).
    Panicked(String),
    /// The worker could not start: no thread, or no event loop for it.
    StartFailed(String),
    /// From [`run_worker`] only: the worker exited with this code without
    /// posting a result (Node's "Worker stopped with exit code N").
    Exited(i32),
}

impl fmt::Display for WorkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::Panicked(m) => write!(f, "the worker panicked: {m}"),
            WorkerError::StartFailed(m) => write!(f, "the worker could not start: {m}"),
            WorkerError::Exited(code) => write!(
                f,
                "the worker stopped with exit code {code} before posting a result"
            ),
        }
    }
}

impl std::error::Error for WorkerError {}

/// A message could not be posted: the other side is gone. Holds the message
/// back.
///
/// From [`Worker::post_message`]: the worker has exited, is being
/// terminated, or closed its port ([`ParentPort::close`]). From
/// [`ParentPort::post_message`]: the parent's event loop has been dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostMessageError<T>(pub T);

impl<T> PostMessageError<T> {
    /// The message that was not posted.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Display for PostMessageError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the other side of the worker's channel is gone: the message was not posted")
    }
}

impl<T: fmt::Debug> std::error::Error for PostMessageError<T> {}

// ---------------------------------------------------------------------------
// Events from the worker to the parent.

enum Event {
    Online,
    Message,
    Error(WorkerError),
    Exit(i32),
}

/// The listeners of one kind of event, called once each.
type Listeners<A> = RefCell<Vec<Box<dyn FnOnce(A)>>>;

struct ParentState<In, Out> {
    shared: Arc<Shared<In, Out>>,
    mailbox: Rc<Mailbox<Out>>,
    online: Listeners<()>,
    error: Listeners<WorkerError>,
    exit: Listeners<i32>,
    exited: Rc<ExitState>,
}

/// A posted job on the parent loop: one event of worker `id`.
fn parent_event<In: Send + 'static, Out: Send + 'static>(id: u64, event: Event) {
    let Some(state) = lookup::<ParentState<In, Out>>(id, Side::Parent) else {
        return;
    };
    match event {
        Event::Online => {
            let listeners = std::mem::take(&mut *state.online.borrow_mut());
            for f in listeners {
                f(());
            }
        }
        Event::Message => {
            if let Some(value) = state.shared.outbound.take() {
                state.mailbox.push(value);
            }
        }
        Event::Error(error) => {
            let listeners = std::mem::take(&mut *state.error.borrow_mut());
            if listeners.is_empty() {
                // Node: an 'error' event nobody listens to is thrown.
                panic!(
                    "evloop: worker {id} failed and its Worker has no on_error listener: {error}"
                );
            }
            for f in listeners {
                f(error.clone());
            }
        }
        Event::Exit(code) => {
            state.exited.code.set(Some(code));
            let removed = unregister(id, Side::Parent);
            forget_spawned(id);
            // Listeners may capture the Worker: drop them to break the cycle.
            let online = std::mem::take(&mut *state.online.borrow_mut());
            let error = std::mem::take(&mut *state.error.borrow_mut());
            drop((online, error));
            state.mailbox.end(false);
            let listeners = std::mem::take(&mut *state.exit.borrow_mut());
            let waiters = std::mem::take(&mut *state.exited.waiters.borrow_mut());
            for w in waiters {
                w.resolve(());
            }
            drop(removed);
            for f in listeners {
                f(code);
            }
        }
    }
}

impl<In: Send + 'static, Out: Send + 'static> Orphan for ParentState<In, Out> {
    fn orphan(&self) {
        let shared = &self.shared;
        // Nothing can be delivered here any more (closed first, so that the
        // worker's last events do not land in the loop being dropped).
        shared.outbound.close(true);
        if !shared.terminating.swap(true, Ordering::AcqRel) {
            shared.inbound.close_with(crate::stop);
        }
        let removed = unregister(shared.id, Side::Parent);
        let online = std::mem::take(&mut *self.online.borrow_mut());
        let error = std::mem::take(&mut *self.error.borrow_mut());
        let exit = std::mem::take(&mut *self.exit.borrow_mut());
        let waiters = std::mem::take(&mut *self.exited.waiters.borrow_mut());
        self.mailbox.end(true);
        drop((online, error, exit, waiters, removed));
    }
}

// ---------------------------------------------------------------------------
// The worker side.

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
fn port_message<In: Send + 'static, Out: Send + 'static>(id: u64) {
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
fn worker_main<In, Out, F>(shared: Arc<Shared<In, Out>>, body: F)
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
    /// [`post_message`](Worker::post_message) fails from then on. Messages
    /// to the parent can still be posted.
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
    pub fn is_terminating(&self) -> bool {
        self.state.shared.terminating.load(Ordering::Acquire)
    }
}

// ---------------------------------------------------------------------------
// The parent side.

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
/// - [`on_message`](Worker::on_message): a message the worker posted;
/// - [`on_error`](Worker::on_error): a panic escaped the worker's code
///   (uncaught exception); the worker is then gone;
/// - [`on_exit`](Worker::on_exit): the exit code: 0 after a normal end (the
///   worker's loop ran out of work), the `code` of [`ParentPort::exit`],
///   1 after a panic, 1 after [`terminate`](Worker::terminate).
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
    #[track_caller]
    pub fn spawn<F>(body: F) -> Worker<In, Out>
    where
        F: FnOnce(ParentPort<In, Out>) + Send + 'static,
    {
        if crate::rt::event_loop::try_with_core(|_| ()).is_none() {
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
            mailbox: Mailbox::new(),
            online: RefCell::new(Vec::new()),
            error: RefCell::new(Vec::new()),
            exit: RefCell::new(Vec::new()),
            exited: Rc::new(ExitState::default()),
        });
        register(id, Side::Parent, state.clone());
        if let Some(loop_id) = crate::rt::event_loop::try_with_core(|core| core.id()) {
            SPAWNED.with(|s| s.borrow_mut().push((loop_id, id, state.clone())));
            crate::rt::event_loop::on_loop_drop("worker", loop_dropped);
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

    /// Registers the listener for messages from the worker
    /// (`worker.on('message', f)`), replacing any earlier one. Messages that
    /// arrived while no listener was registered (and that no
    /// [`next_message`](Worker::next_message) took) are delivered to it in
    /// the check phase after this call.
    pub fn on_message(&self, f: impl FnMut(Out) + 'static) -> &Self {
        self.state.mailbox.set_listener(Box::new(f));
        self
    }

    /// Adds a listener for the `online` event: the worker's loop has started
    /// and its main closure is about to run.
    pub fn on_online(&self, f: impl FnOnce() + 'static) -> &Self {
        self.state.online.borrow_mut().push(Box::new(move |()| f()));
        self
    }

    /// Adds a listener for the `error` event: a panic escaped the worker's
    /// code ([`WorkerError::Panicked`] with its message), or it could not
    /// start. The `exit` event (code 1) follows. Every listener gets a copy.
    pub fn on_error(&self, f: impl FnOnce(WorkerError) + 'static) -> &Self {
        self.state.error.borrow_mut().push(Box::new(f));
        self
    }

    /// Adds a listener for the `exit` event, with the exit code (see
    /// [`Worker`]). It is the worker's last event: every message it posted
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
        WorkerExit {
            state: self.state.exited.clone(),
            wait: None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_hands_back_values_it_cannot_send() {
        let pipe: Pipe<u32> = Pipe::new(None);
        assert_eq!(pipe.send(1, || {}), Ok(()));
        pipe.close(false);
        assert_eq!(pipe.send(2, || {}), Err(2));
        assert_eq!(pipe.take(), Some(1));
    }

    #[test]
    fn mailbox_buffers_until_a_listener_and_keeps_order() {
        let _w = crate::test_watchdog::watchdog();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        crate::run(move || {
            let mb = Mailbox::new();
            mb.push(1);
            mb.push(2);
            mb.set_listener(Box::new(move |v| g.borrow_mut().push(v)));
            // Arrives after the listener, before the flush: still in order.
            mb.push(3);
        });
        assert_eq!(*got.borrow(), [1, 2, 3]);
    }
}
