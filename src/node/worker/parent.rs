//! The parent's side of a worker's events: the state behind its [`Worker`]
//! handles (the listeners, the mailbox, the exit) and the job that delivers
//! each event on the parent loop.
//!
//! [`Worker`]: crate::Worker

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::error::WorkerError;
use super::exit::ExitState;
use super::mailbox::Mailbox;
use super::registry::{Orphan, Side, forget_spawned, lookup, unregister};
use super::shared::Shared;
use crate::rt::panic::DropEach;

/// An event from the worker thread to the parent, in the order posted.
pub(super) enum Event {
    /// The worker's loop has started.
    Online,
    /// A message waits in the outbound pipe.
    Message,
    /// A panic escaped the worker's code, or it could not start.
    Error(WorkerError),
    /// The worker has ended with this code: always the last event.
    Exit(i32),
}

/// The listeners of one kind of event, called once each.
type Listeners<A> = RefCell<Vec<Box<dyn FnOnce(A)>>>;

/// A worker's state on the parent loop's thread, shared by its [`Worker`]
/// handles and found by the posted event jobs in the registry.
///
/// [`Worker`]: crate::Worker
pub(super) struct ParentState<In, Out> {
    /// What the worker thread holds too.
    pub(super) shared: Arc<Shared<In, Out>>,
    /// The worker's messages, for `on_message` and `next_message`.
    pub(super) mailbox: Rc<Mailbox<Out>>,
    /// The `online` listeners.
    pub(super) online: Listeners<()>,
    /// The `error` listeners.
    pub(super) error: Listeners<WorkerError>,
    /// The `exit` listeners.
    pub(super) exit: Listeners<i32>,
    /// The exit code, shared with the [`WorkerExit`] futures.
    ///
    /// [`WorkerExit`]: crate::WorkerExit
    pub(super) exited: Rc<ExitState>,
}

/// A posted job on the parent loop: one event of worker `id`.
pub(super) fn parent_event<In: Send + 'static, Out: Send + 'static>(id: u64, event: Event) {
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
        // One by one: listeners whose destructors panic must not abort the
        // loop's teardown (see `DropEach`).
        let mut each = DropEach::new("a worker's listeners");
        each.run(|| self.mailbox.end(true));
        online.into_iter().for_each(|f| each.drop_one(f));
        error.into_iter().for_each(|f| each.drop_one(f));
        exit.into_iter().for_each(|f| each.drop_one(f));
        each.drop_one(waiters);
        each.drop_one(removed);
        each.finish();
    }
}
