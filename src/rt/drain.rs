//! Running a callback: call it (catching a panic for the panic policy in
//! `panic`), then drain next ticks and microtasks until both are empty, as
//! Node does after every callback (`processTicksAndRejections`).

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::rt::callback::{Callback, Payload, Site};
use crate::rt::core::Core;
use crate::rt::executor;
use crate::rt::queues::Micro;
use crate::rt::trace::replay::{From, Queue};

impl Core {
    /// Runs one callback, then drains next ticks and microtasks. An unhandled
    /// panic unwinds to the caller of the run function.
    pub(crate) fn invoke(&self, cb: Callback) {
        self.invoke_as::<false>(cb);
    }

    /// [`Core::invoke`], observed (`OBSERVED = true`: trace hooks around it) or not
    /// (`OBSERVED = false`: the hooks compile away).
    pub(crate) fn invoke_as<const OBSERVED: bool>(&self, cb: Callback) {
        self.invoke_fn::<OBSERVED>(cb.site, || cb.f.call_once());
    }

    /// [`Core::invoke`] for a closure that is not a `Callback` (the poll
    /// phase's I/O handlers and cross-thread posts), scheduled at `site`.
    pub(in crate::rt) fn invoke_fn<const OBSERVED: bool>(&self, site: Site, f: impl FnOnce()) {
        if let Err(payload) = self.try_invoke::<OBSERVED>(site, f) {
            resume_unwind(payload);
        }
    }

    /// Like [`Core::invoke`] but hands an unhandled panic back, for callers
    /// that must clean up before it continues unwinding.
    pub(crate) fn try_invoke<const OBSERVED: bool>(
        &self,
        site: Site,
        f: impl FnOnce(),
    ) -> Result<(), Payload> {
        self.call::<OBSERVED>(site, f)?;
        self.drain::<OBSERVED>()
    }

    /// Drains next ticks and microtasks now, as after a callback, for
    /// handlers that run several user callbacks from one event (a socket's
    /// data chunks). An unhandled panic unwinds out of the run.
    pub(crate) fn drain_now(&self) {
        if let Err(payload) = self.drain::<false>() {
            resume_unwind(payload);
        }
    }

    fn call<const OBSERVED: bool>(&self, site: Site, f: impl FnOnce()) -> Result<(), Payload> {
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
            Ok(()) => Ok(()),
            Err(payload) => crate::rt::panic::uncaught(&self.panic_handler, payload, site),
        }
    }

    /// Node's `processTicksAndRejections`: all ticks, then all microtasks,
    /// until both are empty.
    pub(in crate::rt) fn drain<const OBSERVED: bool>(&self) -> Result<(), Payload> {
        loop {
            // (`run::pop` spelled out, in blocks that end the borrow: this is the
            // hottest loop of an async program, and left out of line the
            // pop cost about a quarter of a microtask's trip.)
            while let Some(cb) = { self.ticks.borrow_mut().pop_front() } {
                if OBSERVED && let Some(o) = &self.observer {
                    o.from(From::Fifo(Queue::Tick));
                }
                self.call::<OBSERVED>(cb.site, || cb.f.call_once())?;
            }
            while let Some(m) = { self.microtasks.borrow_mut().pop_front() } {
                match m {
                    Micro::Call(cb) => {
                        if OBSERVED && let Some(o) = &self.observer {
                            o.from(From::Fifo(Queue::Micro));
                        }
                        self.call::<OBSERVED>(cb.site, || cb.f.call_once())?
                    }
                    Micro::Poll(key) => {
                        if OBSERVED && let Some(o) = &self.observer {
                            o.from(From::TaskPoll(key));
                        }
                        self.call_poll::<OBSERVED>(key)?
                    }
                }
            }
            if self.ticks.borrow().is_empty() {
                return Ok(());
            }
        }
    }

    /// [`Core::call`] for a task poll, whose site is the task's: looked up
    /// first when the loop is observed, else only if the poll panics.
    fn call_poll<const OBSERVED: bool>(&self, key: u64) -> Result<(), Payload> {
        if OBSERVED {
            let site = self.executor.site_of(key);
            return self.call::<OBSERVED>(site, || executor::poll_task(self, key));
        }
        match catch_unwind(AssertUnwindSafe(|| executor::poll_task(self, key))) {
            Ok(()) => Ok(()),
            Err(payload) => {
                crate::rt::panic::uncaught(&self.panic_handler, payload, self.executor.panic_site())
            }
        }
    }
}
