//! Running a callback: call it (catching a panic for the panic policy in
//! `panic`), then drain next ticks and microtasks until both are empty, as
//! Node does after every callback (`processTicksAndRejections`).

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::rt::callback::{Callback, Payload, Site, describe_site};
use crate::rt::core::Core;
use crate::rt::executor;
use crate::rt::process::{ProcessHooks, ProcessWarning, emit_warning_at, hooks};
use crate::rt::queues::Micro;
use crate::rt::rejection::{Rejection, UnhandledRejections};
use crate::rt::trace::replay::{From, Queue};

impl Core {
    /// Runs one I/O callback (a server's connection), then drains next ticks
    /// and microtasks, as [`Core::invoke_fn`]. An unhandled panic unwinds to
    /// the caller of the run function.
    pub(crate) fn invoke(&self, cb: Callback) {
        self.invoke_fn::<false>(cb.site, || cb.f.call_once());
    }

    /// [`Core::invoke`], observed (`OBSERVED = true`: trace hooks around it) or not
    /// (`OBSERVED = false`: the hooks compile away), for a callback a phase
    /// runs from its queue: a timer, an immediate, a close callback. If it
    /// panics and the handler takes the panic, the ticks and microtasks it
    /// queued are not drained now (see [`Core::try_invoke`]).
    pub(crate) fn invoke_as<const OBSERVED: bool>(&self, cb: Callback) {
        if let Err(payload) = self.try_invoke::<OBSERVED>(cb.site, || cb.f.call_once()) {
            resume_unwind(payload);
        }
    }

    /// [`Core::invoke`] for an I/O callback: the poll phase's handlers and
    /// cross-thread posts (a closure scheduled at `site`), the pending
    /// phase's deferred I/O callbacks, a server's connections. Unlike
    /// [`Core::invoke_as`] its ticks and microtasks are drained right after
    /// it even when it panicked and the handler took the panic, as Node does
    /// after an `fs` callback that threw
    /// (`tests/node/order/uncaught_io_ticks_drain.js`).
    pub(in crate::rt) fn invoke_fn<const OBSERVED: bool>(&self, site: Site, f: impl FnOnce()) {
        let result = match self.call::<OBSERVED>(site, f) {
            Ok(_) => self.drain::<OBSERVED>(),
            Err(payload) => Err(payload),
        };
        if let Err(payload) = result {
            resume_unwind(payload);
        }
    }

    /// Like [`Core::invoke_as`] but hands an unhandled panic back, for
    /// callers that must clean up before it continues unwinding.
    ///
    /// When the callback panics and the handler takes the panic, the drain
    /// is skipped, as Node's `InternalCallbackScope::Close` returns early
    /// for a callback that threw: the ticks and microtasks it queued run in
    /// the drain after the next callback (the next immediate of the same
    /// check phase, the next due timer, the next close callback), or after
    /// the no-op immediate that [`Core::call`] queues, as Node's
    /// `process._fatalException` does (`setImmediate(noop)`).
    #[inline(always)]
    pub(crate) fn try_invoke<const OBSERVED: bool>(
        &self,
        site: Site,
        f: impl FnOnce(),
    ) -> Result<(), Payload> {
        if self.call::<OBSERVED>(site, f)? {
            self.drain::<OBSERVED>()
        } else {
            Ok(())
        }
    }

    /// Drains next ticks and microtasks now, as after a callback, for
    /// handlers that run several user callbacks from one event (a socket's
    /// data chunks). An unhandled panic unwinds out of the run.
    pub(crate) fn drain_now(&self) {
        if let Err(payload) = self.drain::<false>() {
            resume_unwind(payload);
        }
    }

    /// Runs `f` under `catch_unwind`. `Ok(true)`: it returned; `Ok(false)`:
    /// it panicked and the uncaught-panic handler took the panic (then, as
    /// Node after an `uncaughtException` handler, a no-op immediate is
    /// queued, so that what the callback left in the tick and microtask
    /// queues runs even if no other callback comes); `Err`: no handler.
    fn call<const OBSERVED: bool>(&self, site: Site, f: impl FnOnce()) -> Result<bool, Payload> {
        let start = if OBSERVED {
            self.observer.as_ref().map(|o| {
                self.observe_begin(o, site);
                o.callback_begin(site)
            })
        } else {
            None
        };
        let result = catch_unwind(AssertUnwindSafe(f));
        if OBSERVED && let (Some(o), Some(start)) = (&self.observer, start) {
            o.callback_end(site, self.phase.get(), start);
            self.observe_end(o, result.is_err());
        }
        match result {
            Ok(()) => Ok(true),
            Err(payload) => self.uncaught(payload, site, false),
        }
    }

    /// The panic policy (`rt::panic::uncaught`), then Node's
    /// `setImmediate(noop)` when the handler took the panic.
    #[cold]
    #[inline(never)]
    fn uncaught(&self, payload: Payload, site: Site, rejection: bool) -> Result<bool, Payload> {
        crate::rt::panic::uncaught(&self.panic_handler, payload, site, rejection)?;
        let _noop = crate::rt::queue::set_immediate(|| {});
        Ok(false)
    }

    /// Node's `processTicksAndRejections`: all ticks, then all microtasks,
    /// until both are empty; then the rejection check
    /// ([`Core::check_rejections`]), and again if it queued anything.
    pub(in crate::rt) fn drain<const OBSERVED: bool>(&self) -> Result<(), Payload> {
        loop {
            // (`run::pop` spelled out, in blocks that end the borrow: this is the
            // hottest loop of an async program, and left out of line the
            // pop cost about a quarter of a microtask's trip.)
            while let Some(cb) = { self.ticks.borrow_mut().pop_front() } {
                if OBSERVED && let Some(o) = &self.observer {
                    o.from(From::Fifo(Queue::Tick));
                }
                // (A tick or microtask that panicked into the handler does
                // not stop the drain.)
                self.call::<OBSERVED>(cb.site, || cb.f.call_once())?;
            }
            while let Some(m) = { self.microtasks.borrow_mut().pop_front() } {
                match m {
                    Micro::Call(cb) => {
                        if OBSERVED && let Some(o) = &self.observer {
                            o.from(From::Fifo(Queue::Micro));
                        }
                        self.call::<OBSERVED>(cb.site, || cb.f.call_once())?;
                    }
                    Micro::Poll(key) => {
                        if OBSERVED && let Some(o) = &self.observer {
                            o.from(From::TaskPoll(key));
                        }
                        self.call_poll::<OBSERVED>(key)?;
                    }
                }
            }
            if self.ticks.borrow().is_empty() {
                if !self.rejections_due.get() {
                    return Ok(());
                }
                self.check_rejections::<OBSERVED>()?;
            }
        }
    }

    /// [`Core::call`] for a task poll, whose site is the task's: looked up
    /// first when the loop is observed, else only if the poll panics.
    fn call_poll<const OBSERVED: bool>(&self, key: u64) -> Result<bool, Payload> {
        if OBSERVED {
            let site = self.executor.site_of(key);
            return self.call::<OBSERVED>(site, || executor::poll_task(self, key));
        }
        match catch_unwind(AssertUnwindSafe(|| executor::poll_task(self, key))) {
            Ok(()) => Ok(true),
            Err(payload) => self.uncaught(payload, self.executor.panic_site(), false),
        }
    }
}

impl Core {
    /// Runs `emit` (the `'exit'` listeners) as a callback, then the
    /// microtasks it queued, but no next tick: Node's `nextTick` does
    /// nothing once `process._exiting` is set, while the microtask
    /// checkpoint after the emit still runs
    /// (`tests/node/process/exit_no_tick.js`). Ticks queued meanwhile are
    /// dropped. An unhandled panic unwinds out of the run.
    pub(in crate::rt) fn invoke_exit(&self, site: Site, emit: fn()) {
        let result = self.call::<false>(site, emit).and_then(|_| {
            loop {
                drop(std::mem::take(&mut *self.ticks.borrow_mut()));
                let Some(m) = ({ self.microtasks.borrow_mut().pop_front() }) else {
                    return Ok(true);
                };
                match m {
                    Micro::Call(cb) => self.call::<false>(cb.site, || cb.f.call_once())?,
                    Micro::Poll(key) => self.call_poll::<false>(key)?,
                };
            }
        });
        if let Err(payload) = result {
            resume_unwind(payload);
        }
    }
}

/// Node's `processPromiseRejections`, the check after a drain.
impl Core {
    /// First `RejectionHandled` for the rejections awaited since they were
    /// reported (a warning if nobody listens), then each new rejection, by
    /// the loop's [`UnhandledRejections`] mode. A rejection that is raised
    /// and not handled unwinds out of the run (`Err`).
    #[cold]
    #[inline(never)]
    fn check_rejections<const OBSERVED: bool>(&self) -> Result<(), Payload> {
        self.rejections_due.set(false);
        loop {
            let late = { self.rejections.borrow_mut().handled_late.pop() };
            let Some(r) = late else { break };
            if !self.emit_rejection::<OBSERVED>(&r, |h| h.rejection_handled)? {
                let message = format!(
                    "Promise rejection was handled asynchronously (rejection id: {})",
                    r.id()
                );
                emit_warning_at(
                    ProcessWarning::new(message).with_name("PromiseRejectionHandledWarning"),
                    r.site(),
                );
            }
        }
        loop {
            let next = {
                let mut list = self.rejections.borrow_mut();
                (!list.pending.is_empty()).then(|| list.pending.remove(0))
            };
            let Some((key, r)) = next else { break };
            if self.executor.holds(key) {
                self.rejections.borrow_mut().warned.push((key, r.clone()));
            }
            let emit = |core: &Core| core.emit_rejection::<OBSERVED>(&r, |h| h.unhandled_rejection);
            match self.unhandled_rejections {
                UnhandledRejections::Throw => {
                    if !emit(self)? {
                        self.raise_rejection(&r)?;
                    }
                }
                UnhandledRejections::Strict => {
                    self.raise_rejection(&r)?;
                    if !emit(self)? {
                        warn_rejection(&r);
                    }
                }
                UnhandledRejections::Warn => {
                    emit(self)?;
                    warn_rejection(&r);
                }
                UnhandledRejections::None => {
                    emit(self)?;
                }
                UnhandledRejections::WarnWithErrorCode => {
                    if !emit(self)? {
                        warn_rejection(&r);
                        self.exit_code.set(1);
                    }
                }
            }
        }
        Ok(())
    }

    /// Emits a rejection event through the node layer's hook, as a callback
    /// (a listener's panic follows the panic policy); whether anyone
    /// listened.
    fn emit_rejection<const OBSERVED: bool>(
        &self,
        r: &Rejection,
        which: fn(&ProcessHooks) -> fn(&Rejection) -> bool,
    ) -> Result<bool, Payload> {
        let Some(hooks) = hooks() else {
            return Ok(false);
        };
        let emit = which(hooks);
        let mut heard = false;
        let returned = self.call::<OBSERVED>(r.site(), || heard = emit(r))?;
        // A listener that panicked (into the handler) was there.
        Ok(heard || !returned)
    }

    /// Raises a rejection as an uncaught panic (Node's
    /// `triggerUncaughtException(err, true)`): the handler gets it, or it
    /// unwinds out of the run, said on stderr first (as Node prints the
    /// error it dies of).
    fn raise_rejection(&self, r: &Rejection) -> Result<(), Payload> {
        let message = format!(
            "evloop: unhandled rejection: the task spawned at {} failed and nothing \
             awaited it: {}",
            describe_site(r.site()),
            r.reason()
        );
        if self.panic_handler.borrow().is_none() {
            use std::io::Write;
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        }
        self.uncaught(Box::new(message), r.site(), true).map(|_| ())
    }
}

/// Node's two `UnhandledPromiseRejectionWarning`s, as process warnings:
/// the reason, then what happened and the way to make it fatal.
fn warn_rejection(r: &Rejection) {
    let name = "UnhandledPromiseRejectionWarning";
    emit_warning_at(ProcessWarning::new(r.reason()).with_name(name), r.site());
    let message = format!(
        "Unhandled promise rejection: the task spawned at {} failed and nothing awaited \
         it. To raise it as an uncaught panic, use the mode strict \
         (EVLOOP_UNHANDLED_REJECTIONS=strict, Builder::unhandled_rejections). \
         (rejection id: {})",
        describe_site(r.site()),
        r.id()
    );
    emit_warning_at(ProcessWarning::new(message).with_name(name), r.site());
}
