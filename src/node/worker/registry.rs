//! The thread-local registries: the listeners that posted jobs look up by
//! worker id, and the workers spawned on this thread, which the loop's drop
//! hook terminates.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Side {
    Parent,
    Worker,
}

thread_local! {
    static REGISTRY: RefCell<HashMap<(u64, Side), Rc<dyn Any>>> = RefCell::new(HashMap::new());
}

pub(super) fn register(id: u64, side: Side, state: Rc<dyn Any>) {
    REGISTRY.with(|r| r.borrow_mut().insert((id, side), state));
}

pub(super) fn lookup<T: 'static>(id: u64, side: Side) -> Option<Rc<T>> {
    let any = REGISTRY
        .try_with(|r| r.borrow().get(&(id, side)).cloned())
        .ok()
        .flatten()?;
    any.downcast::<T>().ok()
}

/// A worker's parent-side state, seen from the loop that receives its
/// events, so that dropping that loop can end the worker.
pub(super) trait Orphan {
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
    pub(super) static SPAWNED: RefCell<Vec<Spawned>> = const { RefCell::new(Vec::new()) };
}

/// The loop's drop hook (registered when a worker is spawned): terminates
/// the workers that report to loop `loop_id` and drops their listeners.
/// Returns how many.
pub(super) fn loop_dropped(loop_id: u32) -> usize {
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

pub(super) fn forget_spawned(id: u64) {
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

pub(super) fn unregister(id: u64, side: Side) -> Option<Rc<dyn Any>> {
    REGISTRY
        .try_with(|r| r.borrow_mut().remove(&(id, side)))
        .ok()
        .flatten()
}
