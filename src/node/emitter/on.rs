//! [`on_event`], Node's `events.on`: every later payload of an event as a
//! [`Stream`], for `while let Some(x) = it.next().await` (`for await`).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use crate::futures::stream::Stream;
use crate::rt::executor::{Waiter, yield_now};

use super::event::Event;
use super::handle::{EventEmitter, WeakEventEmitter};
use super::listener::ListenerId;

/// How many events an [`EventStream`] buffers for its consumer unless told
/// otherwise ([`EventStream::capacity`]): 65 536, room for a 64 KiB chunk
/// of one-byte lines emitted in one burst.
pub const DEFAULT_EVENT_STREAM_CAPACITY: usize = 1 << 16;

/// `for await (const x of events.on(emitter, name))`: listens for `event`
/// from now on and returns the stream of its payloads (each cloned, as every
/// listener gets a reference), in the order emitted.
///
/// # Ordering (Node's `events.on`)
/// - An event emitted while the consumer waits in
///   [`next`](EventStream::next) resumes it one microtask hop after the
///   emit, as a promise resolved by a listener.
/// - Events emitted while nobody waits are buffered, in order (up to the
///   [capacity](EventStream::capacity)); `next` then yields the oldest one
///   hop later, as `await` of a settled promise.
/// - `break` is [`close`](EventStream::close)`.await` (Node's `return()`):
///   the listener goes at once, and the code after it runs one hop later.
///   Dropping the stream removes the listener at once too.
///
/// The stream ends (`None`) after the events buffered so far once it is
/// closed: by [`EventStreamCloser::close`], by an event registered with
/// [`close_on`](EventStream::close_on) (Node's `close` option), or when
/// its listener is removed by someone else (`remove_all_listeners`) or the
/// emitter is dropped, where Node's iterator would wait forever.
///
/// Unlike Node's, it does not listen for `'error'` (it cannot know the
/// error event's payload type), so an `'error'` emit with no other listener
/// still panics: [`on_event_or_error`] is the full `events.on`. No loop is
/// needed to create or poll it.
///
/// ```
/// use evloop::{EventEmitter, StreamNext};
/// evloop::events! { struct Tick("tick"): u32; }
/// let got = evloop::run_async(async {
///     let e = EventEmitter::new();
///     let mut ticks = evloop::on_event(&e, Tick);
///     e.emit(Tick, 1); // buffered: nobody waits yet
///     evloop::set_timeout(5, move || {
///         e.emit(Tick, 2);
///         e.emit(Tick, 3);
///     });
///     let mut got = Vec::new();
///     while let Some(n) = ticks.next().await {
///         got.push(n);
///         if n == 3 {
///             break;
///         }
///     }
///     ticks.close().await; // the listener is gone
///     got
/// });
/// assert_eq!(got, [1, 2, 3]);
/// ```
#[track_caller]
pub fn on_event<E: Event>(emitter: &EventEmitter, event: E) -> EventStream<E::Payload>
where
    E::Payload: Clone,
{
    let stream = EventStream::new(emitter, Location::caller());
    let state = Rc::downgrade(&stream.state);
    let guard = ClosesOnDrop(state.clone());
    let id = emitter.on(event, move |payload: &E::Payload| {
        let _ = &guard;
        push(&state, payload.clone(), E::NAME);
    });
    stream.state.borrow_mut().listeners.push((E::NAME, id));
    stream
}

/// `events.on(emitter, name)` with its `'error'` listener: like
/// [`on_event`], but also listens for `error` (the emitter's error event,
/// usually named `"error"`). Items are `Ok(payload)`; an error ends the
/// stream: it removes both listeners at once, and the consumer gets
/// `Err(error payload)` after the events buffered before it (where Node's
/// `for await` throws), then `None`. While the stream listens, an emitted
/// error is handled (no panic).
///
/// As in Node, when `E::NAME == R::NAME` no separate error listener is
/// added and every item is `Ok`.
///
/// ```
/// use evloop::{EventEmitter, StreamNext};
/// evloop::events! {
///     struct Line("line"): String;
///     struct Failed("error"): String;
/// }
/// let got = evloop::run_async(async {
///     let e = EventEmitter::new();
///     let mut lines = evloop::on_event_or_error(&e, Line, Failed);
///     evloop::set_timeout(5, move || {
///         e.emit(Line, "one".into());
///         e.emit(Failed, "disk gone".into()); // handled: no panic
///         assert_eq!(e.listener_count("line"), 0);
///     });
///     let mut got = Vec::new();
///     while let Some(item) = lines.next().await {
///         got.push(item);
///     }
///     got
/// });
/// assert_eq!(got, [Ok("one".to_string()), Err("disk gone".to_string())]);
/// ```
#[track_caller]
pub fn on_event_or_error<E: Event, R: Event>(
    emitter: &EventEmitter,
    event: E,
    error: R,
) -> EventStream<Result<E::Payload, R::Payload>>
where
    E::Payload: Clone,
    R::Payload: Clone,
{
    let stream = EventStream::new(emitter, Location::caller());
    let state = Rc::downgrade(&stream.state);
    let guard = ClosesOnDrop(state.clone());
    let id = emitter.on(event, move |payload: &E::Payload| {
        let _ = &guard;
        push(&state, Ok(payload.clone()), E::NAME);
    });
    stream.state.borrow_mut().listeners.push((E::NAME, id));
    if E::NAME != R::NAME {
        let state = Rc::downgrade(&stream.state);
        let id = emitter.on(error, move |payload: &R::Payload| {
            if let Some(state) = state.upgrade() {
                state.borrow_mut().queue.push_back(Err(payload.clone()));
                finish(&state);
            }
        });
        stream.state.borrow_mut().listeners.push((R::NAME, id));
    }
    stream
}

/// What a stream and its listeners share.
struct State<T> {
    /// Events not yet taken, oldest first (Node's `unconsumedEvents`; a
    /// pending `next()` is the waiting `consumer`).
    queue: VecDeque<T>,
    /// No more events will be queued: closed, failed, or lost its listener.
    finished: bool,
    /// The consumer waiting in `next()`.
    consumer: Option<Waiter>,
    capacity: usize,
    emitter: WeakEventEmitter,
    /// The listeners to remove when finished, in the order added.
    listeners: Vec<(&'static str, ListenerId)>,
    /// Where the stream was made, for the overflow panic.
    site: &'static Location<'static>,
}

/// An event listener's payload arrived: queue it and wake the consumer.
/// (Also when the stream was just closed by an earlier listener of the same
/// emit, whose snapshot still holds ours: Node's handler buffers it too.)
///
/// # Panics
/// If the queue is full (see [`EventStream::capacity`]).
fn push<T>(state: &Weak<RefCell<State<T>>>, item: T, name: &str) {
    let Some(state) = state.upgrade() else {
        return;
    };
    let waiter = {
        let mut s = state.borrow_mut();
        if s.queue.len() >= s.capacity {
            let (capacity, site) = (s.capacity, s.site);
            drop(s);
            panic!(
                "evloop: the on_event stream made at {site} already buffers {capacity} \
                 {name:?} events that nobody took (its capacity); this event was refused. \
                 Consume the stream faster, or raise its capacity with EventStream::capacity"
            );
        }
        s.queue.push_back(item);
        s.consumer.take()
    };
    if let Some(w) = waiter {
        w.wake();
    }
}

/// Node's `closeHandler`: no more events (those buffered stay), the
/// listeners go (last added first), and a waiting consumer is woken to see
/// the end.
fn finish<T>(state: &RefCell<State<T>>) {
    let (emitter, listeners, waiter) = {
        let mut s = state.borrow_mut();
        if s.finished {
            return;
        }
        s.finished = true;
        (
            s.emitter.upgrade(),
            std::mem::take(&mut s.listeners),
            s.consumer.take(),
        )
    };
    if let Some(emitter) = emitter {
        for (name, id) in listeners.into_iter().rev() {
            emitter.off_name(name, id);
        }
    }
    if let Some(w) = waiter {
        w.wake();
    }
}

/// Held by the event listener: when the emitter drops it (the listener was
/// removed by someone else, or the emitter is gone), the stream ends rather
/// than waiting forever.
struct ClosesOnDrop<T>(Weak<RefCell<State<T>>>);

impl<T> Drop for ClosesOnDrop<T> {
    fn drop(&mut self) {
        // The other listeners go too (removing this one again is a no-op;
        // an emitter being dropped no longer upgrades).
        if let Some(state) = self.0.upgrade() {
            finish(&state);
        }
    }
}

/// The stream of an event's payloads made by [`on_event`] or
/// [`on_event_or_error`]: Node's `events.on` async iterator.
///
/// Poll it with [`next`](EventStream::next) (or any [`Stream`] adapter);
/// stop with [`close`](EventStream::close)`.await` (`break`), by dropping
/// it, or from elsewhere through a [`closer`](EventStream::closer).
#[must_use = "an EventStream listens until it is dropped: poll it with next().await"]
pub struct EventStream<T> {
    state: Rc<RefCell<State<T>>>,
    /// A `next()` is in progress (its one-hop delay is spent).
    in_call: Cell<bool>,
}

impl<T: 'static> EventStream<T> {
    fn new(emitter: &EventEmitter, site: &'static Location<'static>) -> EventStream<T> {
        EventStream {
            state: Rc::new(RefCell::new(State {
                queue: VecDeque::new(),
                finished: false,
                consumer: None,
                capacity: DEFAULT_EVENT_STREAM_CAPACITY,
                emitter: emitter.downgrade(),
                listeners: Vec::new(),
                site,
            })),
            in_call: Cell::new(false),
        }
    }

    /// Bounds the buffer: at most `capacity` events wait for the consumer
    /// (default [`DEFAULT_EVENT_STREAM_CAPACITY`]). Node buffers without
    /// bound, or pauses a stream at its `highWaterMark`; evloop's emitters
    /// cannot be paused, so an emit that finds the buffer full **panics**
    /// (in the emitting code, like Node's `emit` throwing when the
    /// iterator calls a missing `pause()`), and that event is not buffered.
    /// The stream goes on listening, and delivers what it buffered.
    ///
    /// # Panics
    /// If `capacity` is 0.
    #[track_caller]
    pub fn capacity(self, capacity: usize) -> EventStream<T> {
        assert!(
            capacity >= 1,
            "evloop: EventStream::capacity(0): the capacity must be at least 1"
        );
        self.state.borrow_mut().capacity = capacity;
        self
    }

    /// Node's `close` option: an emit of `event` ends the stream, as
    /// [`EventStreamCloser::close`] does (events buffered before it are
    /// still delivered, then `None`). Adds a listener for `event`, removed
    /// with the others. May be called several times.
    pub fn close_on<C: Event>(self, event: C) -> EventStream<T> {
        let emitter = {
            let s = self.state.borrow();
            if s.finished {
                None
            } else {
                s.emitter.upgrade()
            }
        };
        if let Some(emitter) = emitter {
            let state = Rc::downgrade(&self.state);
            let id = emitter.on(event, move |_: &C::Payload| {
                if let Some(state) = state.upgrade() {
                    finish(&state);
                }
            });
            self.state.borrow_mut().listeners.push((C::NAME, id));
        }
        self
    }

    /// A handle that can end the stream from elsewhere (a timer, another
    /// task): evloop's counterpart of Node's `signal` option, see
    /// [`EventStreamCloser`].
    pub fn closer(&self) -> EventStreamCloser {
        let state: Rc<dyn Finish> = self.state.clone();
        EventStreamCloser {
            state: Rc::downgrade(&state),
        }
    }

    /// How many events wait to be taken (Node's watermark data `size`).
    pub fn buffered(&self) -> usize {
        self.state.borrow().queue.len()
    }

    /// The next payload (`for await`'s next iteration), or `None` once the
    /// stream is closed and its buffer is empty. See [`on_event`] for when
    /// it resumes.
    pub async fn next(&mut self) -> Option<T> {
        // A `next()` given up half-way (under a timeout) neither spends
        // the hop of the next call nor leaves a waker that the next event
        // would wake before its time.
        let _given_up = EndCall(self);
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let first = !self.in_call.replace(true);
        let mut s = self.state.borrow_mut();
        if !s.queue.is_empty() || s.finished {
            if first {
                // Node's `next()` returns a settled promise: awaiting it
                // takes one microtask hop.
                drop(s);
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.in_call.set(false);
            return Poll::Ready(s.queue.pop_front());
        }
        Waiter::register(&mut s.consumer, cx);
        Poll::Pending
    }

    /// Node's `await iterator.return()`, which `break` out of `for await`
    /// calls: removes the listeners at once, and resolves one microtask hop
    /// later, when Node's code after the loop runs.
    pub async fn close(self) {
        finish(&self.state);
        drop(self);
        yield_now().await;
    }
}

/// Ends a `next()` call when its future is dropped.
struct EndCall<'a, T>(&'a EventStream<T>);

impl<T> Drop for EndCall<'_, T> {
    fn drop(&mut self) {
        self.0.in_call.set(false);
        if let Ok(mut s) = self.0.state.try_borrow_mut() {
            s.consumer = None;
        }
    }
}

impl<T: 'static> Stream for EventStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_event(cx)
    }
}

impl<T> Unpin for EventStream<T> {}

impl<T> Drop for EventStream<T> {
    /// Removes the listeners at once.
    fn drop(&mut self) {
        finish(&self.state);
    }
}

impl<T> fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("EventStream")
            .field("buffered", &s.queue.len())
            .field("finished", &s.finished)
            .finish()
    }
}

/// Ends a stream, for the closer (its payload type erased).
trait Finish {
    fn finish(&self);
}

impl<T> Finish for RefCell<State<T>> {
    fn finish(&self) {
        finish(self);
    }
}

/// Ends an [`EventStream`] from elsewhere: Node's `iterator.return()` called
/// outside the loop, or its `signal` option. Cheap to clone; does nothing
/// once the stream is gone.
///
/// Where an aborted `AbortSignal` makes Node's pending `next()` reject with
/// an `AbortError` (after the buffered events), the stream simply ends:
/// the events buffered first, then `None`; whoever closed it knows why.
///
/// ```
/// use evloop::{EventEmitter, StreamNext};
/// evloop::events! { struct Tick("tick"): u32; }
/// let got = evloop::run_async(async {
///     let e = EventEmitter::new();
///     let mut ticks = evloop::on_event(&e, Tick);
///     let closer = ticks.closer();
///     evloop::set_timeout(5, move || {
///         e.emit(Tick, 1);
///         closer.close(); // 1 is still delivered, then the end
///         assert_eq!(e.listener_count("tick"), 0);
///     });
///     let mut got = Vec::new();
///     while let Some(n) = ticks.next().await {
///         got.push(n);
///     }
///     got
/// });
/// assert_eq!(got, [1]);
/// ```
#[derive(Clone)]
pub struct EventStreamCloser {
    state: Weak<dyn Finish>,
}

impl EventStreamCloser {
    /// Ends the stream: its listeners go at once (an emit already under
    /// way still reaches them, as in Node), and a consumer waiting in `next()` gets the events buffered
    /// before (none, if it was waiting), then `None`, one microtask hop
    /// later. Idempotent.
    pub fn close(&self) {
        if let Some(state) = self.state.upgrade() {
            state.finish();
        }
    }
}

impl fmt::Debug for EventStreamCloser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventStreamCloser")
    }
}
