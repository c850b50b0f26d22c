//! `process.on('SIGINT', ..)` in Rust form: [`on_signal`] (a callback per
//! signal caught) and [`signals`] (a stream of them), re-exported in
//! [`process`](crate::process). The rules are on [`on_signal`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::futures::stream::Stream;
use crate::rt::executor::Waiter;
use crate::rt::signal::{ListenerKey, listen};
pub use crate::rt::signal::{Signal, SignalError};

/// `process.on(signal, f)`: listens for `signal` on the current loop; `f`
/// runs each time the process catches it, until the handle is removed or
/// dropped, or the loop is.
///
/// Node's rules:
/// - A listener runs on its own loop's thread, in the poll phase after the
///   signal is caught, followed by the next-tick/microtask drain. A
///   signal's listeners run in the order added, all before that drain.
/// - A listener does not keep the loop alive (Node's signal handles are
///   unref'd); [`SignalListener::ref_`] makes it, so a tool can wait for
///   Ctrl-C.
/// - While a signal has a listener (in any loop of the process), its
///   default action is replaced: SIGINT no longer kills the process. When
///   the last listener goes (removed, dropped, or its loop dropped), the
///   disposition found before comes back.
/// - Signals are process-wide, loops per thread: every loop listening for
///   a signal gets each one caught.
/// - SIGPIPE is ignored from the first loop's creation on, as Node does at
///   startup, so writing to a pipe whose reader is gone is an `EPIPE`
///   error, not a dead process.
///
/// ```
/// use std::{cell::{Cell, RefCell}, rc::Rc};
/// use evloop::process::{self, Signal};
/// let got = Rc::new(Cell::new(None));
/// let g = got.clone();
/// evloop::run(move || {
///     let slot = Rc::new(RefCell::new(None));
///     let s = slot.clone();
///     let listener = process::on_signal(Signal::Usr2, move |sig| {
///         g.set(Some(sig));
///         s.borrow_mut().take(); // removes the listener: the loop may end
///     })
///     .unwrap();
///     listener.ref_(); // keeps the loop alive until the signal comes
///     *slot.borrow_mut() = Some(listener);
///     // SAFETY: raising a signal this process now handles.
///     unsafe { libc::raise(libc::SIGUSR2) };
/// });
/// assert_eq!(got.get(), Some(Signal::Usr2));
/// ```
///
/// # Errors
/// [`SignalError::Os`] if the loop's signal pipe cannot be made (out of
/// descriptors). Signals that cannot be listened for have no [`Signal`]
/// variant: [`Signal::from_name`] reports them.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn on_signal(
    signal: Signal,
    f: impl Fn(Signal) + 'static,
) -> Result<SignalListener, SignalError> {
    Ok(SignalListener {
        key: Some(listen(signal, Rc::new(f))?),
    })
}

/// A signal listener ([`on_signal`]): dropping it or calling
/// [`remove`](SignalListener::remove) removes it.
#[must_use = "dropping a SignalListener removes the listener"]
pub struct SignalListener {
    key: Option<ListenerKey>,
}

impl SignalListener {
    /// The signal listened for.
    pub fn signal(&self) -> Signal {
        self.key().signal()
    }

    /// `process.off`: removes the listener now; a signal already caught
    /// and not yet dispatched does not reach it. If it was the process's
    /// last listener of the signal, the signal's disposition from before
    /// the first comes back.
    pub fn remove(mut self) {
        if let Some(key) = self.key.take() {
            key.remove();
        }
    }

    /// Keeps the loop alive while the listener exists (off by default, as
    /// Node's signal handles).
    pub fn ref_(&self) -> &SignalListener {
        self.key().set_ref(true);
        self
    }

    /// Lets the loop exit with the listener still there (the default).
    pub fn unref(&self) -> &SignalListener {
        self.key().set_ref(false);
        self
    }

    /// Whether the listener is there and keeps its loop alive.
    pub fn has_ref(&self) -> bool {
        self.key().has_ref()
    }

    fn key(&self) -> &ListenerKey {
        self.key
            .as_ref()
            .expect("a live SignalListener has its key")
    }
}

impl Drop for SignalListener {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            key.remove();
        }
    }
}

impl std::fmt::Debug for SignalListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalListener")
            .field("signal", &self.key.as_ref().map(ListenerKey::signal))
            .finish()
    }
}

struct Shared {
    queue: VecDeque<Signal>,
    waiter: Option<Waiter>,
}

/// The signals `signal` caught from now on, as a [`Stream`] (the future
/// form of [`on_signal`]): `stream.next().await` is the next one, as
/// `await once(process, 'SIGINT')`. Like a listener it is unreferenced
/// unless [`ref_`](SignalStream::ref_) is called, so awaiting an
/// unreferenced stream with nothing else pending lets the loop exit (a
/// promise that never settles: [`run_async`](crate::run_async) panics).
///
/// ```
/// use evloop::process::{self, Signal};
/// let got = evloop::run_async(async {
///     let mut ints = process::signals(Signal::Usr1).unwrap();
///     ints.ref_();
///     // SAFETY: raising a signal this process now handles.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     ints.next().await
/// });
/// assert_eq!(got, Signal::Usr1);
/// ```
///
/// # Errors
/// As [`on_signal`].
///
/// # Panics
/// If no event loop is running on this thread.
pub fn signals(signal: Signal) -> Result<SignalStream, SignalError> {
    let shared = Rc::new(RefCell::new(Shared {
        queue: VecDeque::new(),
        waiter: None,
    }));
    let s = shared.clone();
    let listener = on_signal(signal, move |sig| {
        let waiter = {
            let mut s = s.borrow_mut();
            s.queue.push_back(sig);
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    })?;
    Ok(SignalStream { listener, shared })
}

/// A stream of caught signals ([`signals`]). Dropping it removes its
/// listener; signals caught and not yet taken are dropped with it.
#[must_use = "dropping a SignalStream stops listening"]
pub struct SignalStream {
    listener: SignalListener,
    shared: Rc<RefCell<Shared>>,
}

impl SignalStream {
    /// The next signal caught (one already caught at once, one microtask
    /// hop later, as awaiting a settled promise).
    pub async fn next(&mut self) -> Signal {
        NextSignal {
            stream: self,
            hopped: false,
        }
        .await
    }

    /// Keeps the loop alive while the stream exists.
    pub fn ref_(&self) -> &SignalStream {
        self.listener.ref_();
        self
    }

    /// Lets the loop exit while the stream waits (the default).
    pub fn unref(&self) -> &SignalStream {
        self.listener.unref();
        self
    }

    /// Whether the stream keeps its loop alive.
    pub fn has_ref(&self) -> bool {
        self.listener.has_ref()
    }

    fn poll_signal(&self, cx: &mut Context<'_>) -> Poll<Signal> {
        let mut s = self.shared.borrow_mut();
        match s.queue.pop_front() {
            Some(sig) => Poll::Ready(sig),
            None => {
                Waiter::register(&mut s.waiter, cx);
                Poll::Pending
            }
        }
    }
}

impl std::fmt::Debug for SignalStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalStream")
            .field("signal", &self.listener.signal())
            .finish()
    }
}

/// [`SignalStream::next`]'s future.
struct NextSignal<'a> {
    stream: &'a SignalStream,
    hopped: bool,
}

impl Future for NextSignal<'_> {
    type Output = Signal;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Signal> {
        let this = self.get_mut();
        if !this.hopped {
            this.hopped = true;
            if !this.stream.shared.borrow().queue.is_empty() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        this.stream.poll_signal(cx)
    }
}

impl Drop for NextSignal<'_> {
    fn drop(&mut self) {
        // A `next()` dropped while it waited (a lost race, a timeout): the
        // signal stays queued for the next call, which registers anew.
        if let Ok(mut s) = self.stream.shared.try_borrow_mut() {
            s.waiter = None;
        }
    }
}

impl Stream for SignalStream {
    type Item = Signal;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Signal>> {
        self.get_mut().poll_signal(cx).map(Some)
    }
}
