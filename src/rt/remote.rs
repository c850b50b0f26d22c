//! Cross-thread posting: [`LoopHandle`] sends closures into a loop from any
//! thread and wakes it.
//!
//! A post is a push onto a crossbeam channel followed, only if the loop has
//! not already been told, by a write to the loop's `mio::Waker` (an eventfd on
//! Linux). The `notified` flag makes a burst of posts cost one wake-up: the
//! loop clears the flag *before* it drains the channel, so a post that lands
//! after the drain always sees the flag clear and wakes the loop again.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender};
#[cfg(loom)]
use loom::sync::atomic::AtomicBool;
use mio::Waker;
#[cfg(not(loom))]
use std::sync::atomic::AtomicBool;

/// A posted closure and the place that posted it.
pub(crate) struct Job {
    pub(crate) f: Box<dyn FnOnce() + Send + 'static>,
    pub(crate) site: &'static std::panic::Location<'static>,
    /// The pool job this completes, if it is a pool completion (for the
    /// replay, which shows those apart from other threads' posts, and the
    /// seeded mode): its id and its number of steps (see `pool::Step`).
    /// Two `u32`s keep a job at 40 bytes, as before the steps: the poll
    /// phase moves jobs, and a bigger one cost `immediate_chain` 4%.
    pub(crate) pool: Option<(u32, u32)>,
    /// The posting thread's number (`sender`): the seeded mode keeps each
    /// sender's posts in order but may swap two senders'. Fits in the
    /// padding: a job is still 40 bytes.
    pub(crate) sender: u32,
}

/// This thread's number as a sender of posts: distinct among the threads
/// of the process (assigned at a thread's first post; a process that
/// starts 2^32 posting threads reuses numbers, which only merges two
/// senders' order in the seeded mode).
pub(crate) fn sender() -> u32 {
    use std::sync::atomic::AtomicU32;
    static NEXT: AtomicU32 = AtomicU32::new(1);
    thread_local! {
        static ME: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }
    ME.with(|me| {
        if me.get() == 0 {
            me.set(
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    .max(1),
            );
        }
        me.get()
    })
}

// The poll phase moves jobs: keep them at 40 bytes (see `pool`, `sender`).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Job>() == 40);

impl Job {
    /// The pool job this completes, if any.
    pub(crate) fn pool_job(&self) -> Option<usize> {
        self.pool.map(|(id, _)| id as usize)
    }

    /// A pool completion's number of steps (0 for other posts).
    pub(crate) fn steps(&self) -> u32 {
        self.pool.map_or(0, |(_, steps)| steps)
    }
}

/// The wake-flag protocol between posting threads and the loop, on its own
/// so that `tests/loom.rs` can model-check it: its atomic comes from `loom`
/// when built with `--cfg loom` (only that test is), from `std` otherwise.
///
/// A poster pushes its job, then calls [`notify`](WakeFlag::notify), and
/// writes to the loop's waker only if that returns `true` (the flag was
/// clear). The loop calls [`take`](WakeFlag::take) *before* it drains the
/// queue, so a job pushed after the drain's snapshot finds the flag clear and
/// wakes the loop again: a job is either in the drain or followed by a wake.
#[doc(hidden)]
pub struct WakeFlag(AtomicBool);

impl std::fmt::Debug for WakeFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WakeFlag")
            .field(&self.0.load(Ordering::Relaxed))
            .finish()
    }
}

impl WakeFlag {
    /// A clear flag.
    pub fn new() -> WakeFlag {
        WakeFlag(AtomicBool::new(false))
    }

    /// Sets the flag after a push; `true` if it was clear, so this caller
    /// must wake the loop (later posters until the next `take` need not).
    #[inline]
    pub fn notify(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }

    /// Whether a post (or a handle drop) happened since the last `take`.
    #[inline]
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Sets the flag without asking whether to wake: for the loop itself,
    /// when a panic left posts queued after it had cleared the flag.
    ///
    /// A read-modify-write, not a plain store: a store would end the release
    /// sequence of a poster's `notify` that found the flag set, so the loop's
    /// next `take` could miss what that poster did before (the loom model
    /// finds a handle drop missed that way: the loop reads a stale count of
    /// referenced handles and sleeps for ever).
    #[inline]
    pub fn set(&self) {
        self.0.swap(true, Ordering::AcqRel);
    }

    /// Clears the flag, returning whether it was set; call before draining.
    #[inline]
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

impl Default for WakeFlag {
    fn default() -> WakeFlag {
        WakeFlag::new()
    }
}

pub(crate) struct Shared {
    tx: Sender<Job>,
    waker: Waker,
    notified: WakeFlag,
    /// Referenced handles alive; the loop stays alive while this is > 0.
    refs: AtomicUsize,
    /// Queued closures at which `try_post` refuses (`Builder::post_limit`).
    limit: usize,
}

impl Shared {
    fn wake(&self) {
        if self.notified.notify() {
            // A failed wake means the eventfd is broken, which leaves nothing
            // sensible to do; log it rather than lose the post silently.
            if let Err(e) = self.waker.wake() {
                log::error!(target: "evloop", "cross-thread wake failed: {e}");
            }
        }
    }
}

/// An unreferenced, crate-internal sender into a loop (task wakers use it:
/// a waker must not keep the loop alive by merely existing).
#[derive(Clone)]
pub(crate) struct Remote(Arc<Shared>);

impl Remote {
    #[track_caller]
    pub(crate) fn post_unreferenced(
        &self,
        f: Box<dyn FnOnce() + Send + 'static>,
    ) -> Result<(), PostError> {
        self.post_unreferenced_at(f, std::panic::Location::caller(), None)
    }

    /// Like `post_unreferenced`, naming the site that panic reports and
    /// traces give for the closure (a pool job's `queue_work` call) and the
    /// pool job it completes, if any.
    pub(crate) fn post_unreferenced_at(
        &self,
        f: Box<dyn FnOnce() + Send + 'static>,
        site: &'static std::panic::Location<'static>,
        pool_job: Option<(usize, u32)>,
    ) -> Result<(), PostError> {
        let job = Job {
            f,
            site,
            // A job id is a slot of the loop's job table: far below 2^32.
            pool: pool_job.map(|(id, steps)| (id as u32, steps)),
            sender: sender(),
        };
        self.0.tx.send(job).map_err(|_| PostError)?;
        self.0.wake();
        Ok(())
    }
}

/// The loop's end of the cross-thread path.
pub(crate) struct Inbox {
    shared: Arc<Shared>,
    /// The same `shared`, as the unreferenced sender task wakers clone.
    remote: Remote,
    rx: Receiver<Job>,
}

impl Inbox {
    /// The channel is crossbeam's unbounded one: a linked list of 31-slot
    /// blocks, each freed as soon as its last job is read, so a drained
    /// burst leaves no capacity behind (unlike a `VecDeque`). What bounds
    /// its length is `limit`, for `try_post`.
    pub(crate) fn new(waker: Waker, limit: usize) -> Inbox {
        let (tx, rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            tx,
            waker,
            notified: WakeFlag::new(),
            refs: AtomicUsize::new(0),
            limit,
        });
        Inbox {
            remote: Remote(shared.clone()),
            shared,
            rx,
        }
    }

    pub(crate) fn remote_ref(&self) -> &Remote {
        &self.remote
    }

    pub(crate) fn handle(&self) -> LoopHandle {
        self.shared.refs.fetch_add(1, Ordering::Relaxed);
        LoopHandle {
            shared: self.shared.clone(),
            referenced: true,
        }
    }

    /// Whether a post (or a handle drop) happened since the last `take_woken`.
    pub(crate) fn woken(&self) -> bool {
        self.shared.notified.is_set()
    }

    /// Sets the wake flag again without writing to the eventfd: for the
    /// loop itself, when a panic left posts in the channel after it had
    /// cleared the flag (the next poll sees the flag and does not block).
    pub(crate) fn rearm(&self) {
        self.shared.notified.set();
    }

    /// Clears the wake flag; call before draining.
    pub(crate) fn take_woken(&self) -> bool {
        self.shared.notified.take()
    }

    /// Jobs waiting now; the poll phase runs only these, so a thread that
    /// posts without pause cannot starve the other phases.
    pub(crate) fn pending(&self) -> usize {
        self.rx.len()
    }

    pub(crate) fn try_recv(&self) -> Option<Job> {
        self.rx.try_recv().ok()
    }

    /// The jobs waiting now, taken one by one (teardown).
    pub(crate) fn try_iter(&self) -> impl Iterator<Item = Job> + '_ {
        self.rx.try_iter()
    }

    /// Referenced `LoopHandle`s alive.
    pub(crate) fn refs(&self) -> usize {
        self.shared.refs.load(Ordering::Acquire)
    }

    /// Referenced handles keep the loop alive, and so do posts not yet run.
    pub(crate) fn keeps_alive(&self) -> bool {
        self.shared.refs.load(Ordering::Acquire) > 0 || !self.rx.is_empty()
    }
}

/// A `Send + Sync + Clone` handle that posts closures into an event loop from
/// any thread, like libuv's `uv_async_t` or a `MessagePort`.
///
/// Get one from [`handle`](crate::handle) inside a loop or from
/// [`EventLoop::handle`](crate::EventLoop::handle).
///
/// # Ordering
/// Posted closures run on the loop's thread in the **poll phase**, in the order
/// they were posted from any one thread, each followed by the next-tick and
/// microtask drain like every other callback. Posts made while the loop is
/// running posted closures wait for the next poll phase. A seeded loop
/// ([`Builder::seed`](crate::Builder::seed)) may hold posts that have
/// arrived for up to two more poll phases, still in arrival order.
///
/// # Keeping the loop alive
/// A handle is **referenced** when created: while it exists, the loop does not
/// exit (as libuv's async handle). Call [`LoopHandle::unref`] for a handle that
/// should not keep the loop running (as `MessagePort.unref()`); closures posted
/// through it still run as long as the loop runs. Dropping the last referenced
/// handle wakes the loop so it can notice it may exit.
///
/// # Delivery
/// A closure is never silently lost: `post` either queues it, and the loop runs
/// it in a later poll phase, or returns [`PostError`] because the loop has been
/// dropped. Posts that were queued but not yet run when the loop is dropped
/// (possible only with unreferenced handles or a loop abandoned mid-run) are
/// dropped with the loop and logged as a warning; their destructors run, so a
/// reply channel captured by the closure reports a disconnect to its waiter.
pub struct LoopHandle {
    shared: Arc<Shared>,
    referenced: bool,
}

/// The default of [`Builder::post_limit`](crate::Builder::post_limit):
/// the number of closures waiting in a loop's inbox at which
/// [`LoopHandle::try_post`] refuses more (about 5 MB of queued closures of
/// a few words each).
pub const DEFAULT_POST_LIMIT: usize = 65_536;

/// Returned by [`LoopHandle::post`] when the loop has been dropped; the closure
/// was dropped without running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostError;

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the event loop is gone: the posted closure will not run")
    }
}

impl std::error::Error for PostError {}

/// Why [`LoopHandle::try_post`] refused a closure.
pub enum TryPostError<F> {
    /// The loop's inbox holds its limit of closures not yet run
    /// ([`Builder::post_limit`](crate::Builder::post_limit)); the closure
    /// is handed back, unrun, to post again once the loop has caught up.
    Full(F),
    /// The loop has been dropped; the closure was dropped unrun, as
    /// [`PostError`] says for [`LoopHandle::post`].
    Gone,
}

impl<F> TryPostError<F> {
    /// Whether the inbox was full (a later attempt may succeed).
    pub fn is_full(&self) -> bool {
        matches!(self, TryPostError::Full(_))
    }

    /// Whether the loop is gone (no later attempt can succeed).
    pub fn is_gone(&self) -> bool {
        matches!(self, TryPostError::Gone)
    }

    /// The refused closure, if it was handed back (`Full`).
    pub fn into_inner(self) -> Option<F> {
        match self {
            TryPostError::Full(f) => Some(f),
            TryPostError::Gone => None,
        }
    }
}

impl<F> From<TryPostError<F>> for PostError {
    /// Either way the closure did not run; `Full` loses the difference.
    fn from(_: TryPostError<F>) -> PostError {
        PostError
    }
}

impl<F> fmt::Debug for TryPostError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPostError::Full(_) => f.write_str("Full(..)"),
            TryPostError::Gone => f.write_str("Gone"),
        }
    }
}

impl<F> fmt::Display for TryPostError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPostError::Full(_) => f.write_str(
                "the event loop's inbox is full (its post_limit of closures wait to run): \
                 the closure was not queued; post it again later",
            ),
            TryPostError::Gone => {
                f.write_str("the event loop is gone: the posted closure will not run")
            }
        }
    }
}

impl<F> std::error::Error for TryPostError<F> {}

impl LoopHandle {
    /// Queues `f` to run on the loop's thread in a coming poll phase and wakes
    /// the loop if it is blocked. Wakes coalesce: many posts before the loop
    /// looks cost one wake-up.
    ///
    /// `post` never refuses a closure because the loop is behind and never
    /// blocks: its queue has no bound, as Node's `postMessage` has none (Node
    /// has no other cross-thread post). A bound that blocked would deadlock a
    /// loop posting to itself, two loops posting to each other, or a pool
    /// thread completing a job, and one that failed would break callers
    /// written for a post that fails only when the loop is gone. A poster
    /// that can outrun the loop should use [`try_post`](LoopHandle::try_post),
    /// which refuses at the loop's limit.
    ///
    /// # Errors
    /// [`PostError`] if the loop has been dropped; `f` is dropped unrun.
    #[track_caller]
    pub fn post(&self, f: impl FnOnce() + Send + 'static) -> Result<(), PostError> {
        let job = Job {
            f: Box::new(f),
            site: std::panic::Location::caller(),
            pool: None,
            sender: sender(),
        };
        self.shared.tx.send(job).map_err(|_| PostError)?;
        self.shared.wake();
        Ok(())
    }

    /// Like [`post`](LoopHandle::post), but refuses when the loop's inbox
    /// already holds its limit of closures not yet run
    /// ([`Builder::post_limit`](crate::Builder::post_limit), default
    /// [`DEFAULT_POST_LIMIT`]), whichever way they were queued: the memory a
    /// loop that falls behind holds for its posters stays bounded. Order and
    /// wake-ups are `post`'s: a closure it accepts runs after every closure
    /// this thread posted before.
    ///
    /// The check and the push are not one atomic step: threads posting at
    /// the same moment can each pass it, so the inbox may exceed the limit
    /// by at most one closure per concurrent poster.
    ///
    /// # Errors
    /// [`TryPostError::Full`] with `f` handed back if the inbox is at its
    /// limit (a post after the loop has run its queued closures succeeds);
    /// [`TryPostError::Gone`] if the loop has been dropped (`f` is dropped
    /// unrun).
    ///
    /// ```
    /// let lp = evloop::EventLoop::builder().post_limit(1).build()?;
    /// let handle = lp.handle();
    /// handle.try_post(|| {}).unwrap();
    /// let refused = handle.try_post(|| {}).unwrap_err();
    /// assert!(refused.is_full());
    /// lp.run(evloop::RunMode::NoWait); // runs the queued closure
    /// handle.try_post(|| {}).unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn try_post<F>(&self, f: F) -> Result<(), TryPostError<F>>
    where
        F: FnOnce() + Send + 'static,
    {
        // After a loop is dropped its channel is empty, so a gone loop is
        // never reported as full.
        if self.shared.tx.len() >= self.shared.limit {
            return Err(TryPostError::Full(f));
        }
        let job = Job {
            f: Box::new(f),
            site: std::panic::Location::caller(),
            pool: None,
            sender: sender(),
        };
        self.shared.tx.send(job).map_err(|_| TryPostError::Gone)?;
        self.shared.wake();
        Ok(())
    }

    /// Stops this handle from keeping the loop alive. Idempotent.
    pub fn unref(&mut self) {
        if std::mem::replace(&mut self.referenced, false) {
            self.release();
        }
    }

    /// Makes this handle keep the loop alive again. Idempotent.
    pub fn ref_(&mut self) {
        if !std::mem::replace(&mut self.referenced, true) {
            self.shared.refs.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Whether this handle keeps the loop alive.
    pub fn has_ref(&self) -> bool {
        self.referenced
    }

    fn release(&self) {
        if self.shared.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The loop may be blocked only because of us: let it re-check.
            self.shared.wake();
        }
    }
}

impl Clone for LoopHandle {
    /// The clone is referenced if `self` is.
    fn clone(&self) -> LoopHandle {
        if self.referenced {
            self.shared.refs.fetch_add(1, Ordering::AcqRel);
        }
        LoopHandle {
            shared: self.shared.clone(),
            referenced: self.referenced,
        }
    }
}

impl Drop for LoopHandle {
    fn drop(&mut self) {
        if self.referenced {
            self.release();
        }
    }
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopHandle")
            .field("referenced", &self.referenced)
            .finish()
    }
}
