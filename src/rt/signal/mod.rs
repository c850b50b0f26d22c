//! Signals as loop callbacks (libuv's `uv_signal_t`): the per-loop half.
//! The process-wide half (the `sigaction` handler and its pipes) is in
//! [`handler`].
//!
//! A loop with at least one listener leases a pipe and registers its read
//! end in its reactor; the handler writes each caught signal's number
//! there, and the loop's poll phase reads it and runs that signal's
//! listeners, as libuv reads its signal pipe. The registration is
//! referenced only while some listener is (Node's signal handles are
//! unref'd). The last listener's removal, or the loop's drop, gives the
//! pipe back, and the last listener of a signal in the process puts its
//! disposition back.

pub(crate) mod handler;
mod name;

pub use name::{Signal, SignalError};

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::panic::Location;
use std::rc::{Rc, Weak};

use crate::rt::callback::Callback;
use crate::rt::context::{try_with_core, with_core};
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;
use handler::Lease;

type ListenerFn = Rc<dyn Fn(Signal)>;

struct Entry {
    id: u64,
    signal: Signal,
    f: ListenerFn,
    referenced: bool,
}

/// One loop's signal state, from its first listener to its last (or the
/// loop's drop).
struct LoopSignals {
    loop_id: u32,
    lease: RefCell<Option<Lease>>,
    reg: RefCell<Option<Registration>>,
    /// In the order added: a signal's listeners run in this order.
    listeners: RefCell<Vec<Entry>>,
    /// Signals read from the pipe and not yet dispatched.
    queue: RefCell<VecDeque<Signal>>,
    next_id: Cell<u64>,
}

thread_local! {
    /// The signal state of this thread's loops that have listeners.
    static LOOPS: RefCell<Vec<Rc<LoopSignals>>> = const { RefCell::new(Vec::new()) };
}

/// A listener's place: its loop's state, held weakly (a listener outliving
/// its loop removes nothing), and its id there.
pub(crate) struct ListenerKey {
    state: Weak<LoopSignals>,
    id: u64,
    signal: Signal,
}

/// Adds `f` as a listener of `signal` on the current loop; it runs in the
/// poll phase after the signal is caught, unreferenced until
/// [`set_ref`]`(.., true)`.
///
/// # Panics
/// If no event loop is running on this thread.
pub(crate) fn listen(signal: Signal, f: ListenerFn) -> Result<ListenerKey, SignalError> {
    let state = with_core("process::on_signal", |core| -> io::Result<_> {
        let id = core.id();
        if let Some(s) = find(id) {
            return Ok(s);
        }
        let mut lease = Lease::new()?;
        let state = Rc::new(LoopSignals {
            loop_id: id,
            lease: RefCell::new(None),
            reg: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            queue: RefCell::new(VecDeque::new()),
            next_id: Cell::new(0),
        });
        let reg = match Registration::new(core, &mut lease.rx, state.clone(), HandleKind::Signal) {
            Ok(reg) => reg,
            Err(e) => {
                lease.release();
                return Err(e);
            }
        };
        reg.set_ref(false);
        *state.reg.borrow_mut() = Some(reg);
        *state.lease.borrow_mut() = Some(lease);
        LOOPS.with(|l| l.borrow_mut().push(state.clone()));
        Ok(state)
    })?;
    let id = state.next_id.get();
    state.next_id.set(id + 1);
    state.listeners.borrow_mut().push(Entry {
        id,
        signal,
        f,
        referenced: false,
    });
    if let Some(lease) = &*state.lease.borrow() {
        lease.listen(signal);
    }
    Ok(ListenerKey {
        state: Rc::downgrade(&state),
        id,
        signal,
    })
}

fn find(loop_id: u32) -> Option<Rc<LoopSignals>> {
    LOOPS
        .try_with(|l| l.borrow().iter().find(|s| s.loop_id == loop_id).cloned())
        .ok()
        .flatten()
}

impl ListenerKey {
    /// The signal listened for.
    pub(crate) fn signal(&self) -> Signal {
        self.signal
    }

    /// Removes the listener (a no-op if it is gone). The loop's last
    /// listener of the signal stops its delivery here; the loop's last
    /// listener gives its pipe back.
    pub(crate) fn remove(&self) {
        let Some(state) = self.state.upgrade() else {
            return;
        };
        let entry = {
            let mut ls = state.listeners.borrow_mut();
            let Some(i) = ls.iter().position(|e| e.id == self.id) else {
                return;
            };
            ls.remove(i)
        };
        let (others, any) = {
            let ls = state.listeners.borrow();
            (ls.iter().any(|e| e.signal == self.signal), !ls.is_empty())
        };
        if !others && let Some(lease) = &*state.lease.borrow() {
            lease.unlisten(self.signal);
        }
        if any {
            state.update_ref();
        } else {
            state.close();
        }
        drop(entry);
    }

    /// Sets whether the listener keeps its loop alive.
    pub(crate) fn set_ref(&self, on: bool) {
        if let Some(state) = self.state.upgrade() {
            if let Some(e) = state
                .listeners
                .borrow_mut()
                .iter_mut()
                .find(|e| e.id == self.id)
            {
                e.referenced = on;
            }
            state.update_ref();
        }
    }

    /// Whether the listener is listening and keeps its loop alive.
    pub(crate) fn has_ref(&self) -> bool {
        self.state.upgrade().is_some_and(|s| {
            s.listeners
                .borrow()
                .iter()
                .any(|e| e.id == self.id && e.referenced)
        })
    }
}

impl LoopSignals {
    fn update_ref(&self) {
        let on = self.listeners.borrow().iter().any(|e| e.referenced);
        if let Some(reg) = &*self.reg.borrow() {
            reg.set_ref(on);
        }
    }

    /// The last listener is gone: deregister, give the pipe back, forget
    /// this loop.
    fn close(&self) {
        let reg = self.reg.borrow_mut().take();
        let lease = self.lease.borrow_mut().take();
        if let Some(mut lease) = lease {
            let handler = reg.and_then(|r| r.deregister(&mut lease.rx));
            lease.release();
            drop(handler);
        }
        self.forget();
    }

    fn forget(&self) {
        let id = self.loop_id;
        let gone = LOOPS
            .try_with(|l| {
                let mut l = l.borrow_mut();
                l.iter()
                    .position(|s| s.loop_id == id)
                    .map(|i| l.swap_remove(i))
            })
            .ok()
            .flatten();
        drop(gone);
    }

    /// Reads every signal waiting in the pipe onto the queue.
    fn read_pipe(&self) {
        let lease = self.lease.borrow();
        let Some(lease) = &*lease else { return };
        let mut buf = [0u8; 64];
        let mut rx = &lease.rx;
        let mut queue = self.queue.borrow_mut();
        loop {
            match rx.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => queue.extend(
                    buf[..n]
                        .iter()
                        .filter_map(|&b| Signal::from_raw(i32::from(b)).ok()),
                ),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break, // WouldBlock: all read
            }
        }
    }

    /// Runs the queued signals' listeners: each signal's listeners in the
    /// order added, on a snapshot (one removed by an earlier one still
    /// runs, as an emit in Node), with the tick/microtask drain between
    /// two signals (the caller drains after the last).
    fn dispatch(self: &Rc<Self>) {
        let guard = Rearm(self);
        let mut first = true;
        loop {
            let Some(signal) = self.queue.borrow_mut().pop_front() else {
                break;
            };
            let fs: Vec<ListenerFn> = self
                .listeners
                .borrow()
                .iter()
                .filter(|e| e.signal == signal)
                .map(|e| e.f.clone())
                .collect();
            if fs.is_empty() {
                continue; // removed since it was caught (libuv drops it too)
            }
            if !first {
                with_core("signal", |core| core.drain_now());
            }
            first = false;
            for f in fs {
                f(signal);
            }
        }
        std::mem::forget(guard);
    }
}

/// Dropped only by an unwind out of `dispatch` (a listener panicked with no
/// handler to take it): the signals still queued run in the next pending
/// phase, since the pipe will not report them again.
struct Rearm<'a>(&'a Rc<LoopSignals>);

impl Drop for Rearm<'_> {
    fn drop(&mut self) {
        if self.0.queue.borrow().is_empty() {
            return;
        }
        let state = self.0.clone();
        let _ = try_with_core(|core| {
            core.defer_pending(Callback::new(move || state.dispatch(), Location::caller()))
        });
    }
}

impl Ready for LoopSignals {
    fn ready(self: Rc<Self>, readable: bool, _writable: bool) {
        if readable {
            self.read_pipe();
        }
        self.dispatch();
    }

    fn teardown(&self) {
        // The loop is being dropped (the reactor has already forgotten the
        // registration): stop delivery, give the pipe back, drop the
        // listeners.
        let reg = self.reg.borrow_mut().take();
        if let Some(mut lease) = self.lease.borrow_mut().take() {
            if let Some(reg) = reg {
                reg.detach(&mut lease.rx);
            }
            lease.release();
        }
        let listeners = std::mem::take(&mut *self.listeners.borrow_mut());
        self.queue.borrow_mut().clear();
        self.forget();
        drop(listeners);
    }
}
