//! Tearing a loop down when it is dropped: everything it still holds for the
//! program (queued callbacks, timers, task futures, pool jobs' callbacks,
//! watchers, sockets' and servers' handlers, what the layers above keep per
//! loop, cross-thread posts) is dropped while the loop is still current, so
//! destructors that call back into it see it. Each is dropped on its own
//! through `panic::drop_in_teardown`: a destructor that panics is logged and
//! the rest still drops; nothing escapes `drop(EventLoop)`, and a loop
//! dropped while a panic unwinds (out of `evloop::run`) cannot abort the
//! process with a second one.

use crate::rt::callback::Callback;
use crate::rt::context::run_drop_hooks;
use crate::rt::core::Core;
use crate::rt::panic::drop_in_teardown;
use crate::rt::queues::Micro;
use crate::rt::timer::timers::Timers;

/// Drops queued callbacks one by one (see the module docs); how many.
fn drop_callbacks(callbacks: impl IntoIterator<Item = Callback>, what: &str) -> usize {
    let mut n = 0;
    for cb in callbacks {
        drop_in_teardown(cb.f, what, Some(cb.site));
        n += 1;
    }
    n
}

impl Core {
    /// Drops every queued callback and timer, closes every socket and server
    /// still registered, and terminates the workers that report here,
    /// letting destructors that call back into the loop see it (they may
    /// queue more; repeat until quiet).
    pub(in crate::rt) fn clear(&self) {
        let mut dropped = 0;
        for _ in 0..16 {
            dropped = self.clear_once();
            if dropped == 0 {
                break;
            }
        }
        let left = self.queued_items();
        if dropped > 0 && left > 0 {
            // Destructors that queue new work every time they are dropped:
            // what is left drops with the loop's fields, with no loop current.
            log::error!(
                target: "evloop",
                "event loop dropped while destructors kept queueing work: {left} item(s) \
                 left after 16 rounds of clearing, dropped with no loop current"
            );
        }
        let posted = self.inbox.pending();
        if posted > 0 {
            log::warn!(
                target: "evloop",
                "event loop dropped with {posted} cross-thread post(s) not run"
            );
        }
        // Dropped here, one by one, rather than with the channel (where one
        // panicking destructor would stop the rest, and two would abort).
        let held = self.schedule.as_ref().map(|s| s.take_held());
        for job in self.inbox.try_iter().chain(held.into_iter().flatten()) {
            drop_in_teardown(job.f, "a cross-thread post", Some(job.site));
        }
        let handler = self.panic_handler.borrow_mut().take();
        drop_in_teardown(handler, "the uncaught-panic handler", None);
    }

    /// One round of `clear`: how many items it dropped.
    fn clear_once(&self) -> usize {
        let mut dropped = 0;
        let mut micro = std::mem::take(&mut *self.microtasks.borrow_mut());
        while let Some(item) = micro.pop_front() {
            dropped += 1;
            if let Micro::Call(cb) = item {
                drop_callbacks([cb], "a microtask");
            }
        }
        for (q, what) in [
            (&self.ticks, "a next tick"),
            (&self.pending, "a pending callback"),
            (&self.closing, "a close callback"),
        ] {
            let items = std::mem::take(&mut *q.borrow_mut());
            dropped += drop_callbacks(items, what);
        }
        dropped += self.executor.clear();
        dropped += self.pool.clear();
        let watchers = self.watchers.with(|t| t.take_all());
        dropped += watchers.len();
        for (cb, site) in watchers {
            drop_in_teardown(cb, "an idle, prepare or check callback", Some(site));
        }
        let immediates = self.immediates.borrow_mut().take_all();
        dropped += drop_callbacks(immediates, "an immediate");
        if self.timers.borrow().len() > 0 {
            let timers = std::mem::replace(&mut *self.timers.borrow_mut(), Timers::new());
            for (cb, site) in timers.into_callbacks() {
                drop_in_teardown(cb, "a timer callback", Some(site));
                dropped += 1;
            }
        }
        dropped += self.close_sources();
        dropped + run_drop_hooks(self.id)
    }

    /// Everything queued or registered in the loop's own tables (not the
    /// cross-thread channel), for the teardown check in `clear`.
    fn queued_items(&self) -> usize {
        let queues: usize = [&self.ticks, &self.pending, &self.closing]
            .iter()
            .map(|q| q.borrow().len())
            .sum();
        queues
            + self.microtasks.borrow().len()
            + self.executor.live()
            + self.pool.pending()
            + self.immediates.borrow().live()
            + self.watchers.read(|t| t.callbacks())
            + self.timers.borrow().len()
            + self.reactor.borrow().counts().1
    }
}
