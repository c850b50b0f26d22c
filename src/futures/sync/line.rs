//! `Line`, the FIFO line of waiters that every limiter here keeps: who
//! arrived first, and whom to wake when it is someone's turn.

use std::collections::BTreeMap;
use std::task::Context;

use crate::rt::executor::Waiter;

/// A FIFO line of waiters: arrival number → who to wake (taken when woken).
#[derive(Default)]
pub(super) struct Line {
    /// In arrival order (the first entry is the first in line). The
    /// limiters read and remove entries directly: a waiter taken out of the
    /// map is how a semaphore tells it that it was served.
    pub(super) waiters: BTreeMap<u64, Option<Waiter>>,
    /// The number the next waiter gets.
    next_id: u64,
}

impl Line {
    /// Puts the task polling with `cx` at the end of the line; returns its
    /// number.
    #[inline]
    pub(super) fn join(&mut self, cx: &Context<'_>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.waiters.insert(id, Some(Waiter::new(cx)));
        id
    }

    /// Whether waiter `id` is first in line.
    #[inline]
    pub(super) fn is_first(&self, id: u64) -> bool {
        self.waiters
            .first_key_value()
            .is_some_and(|(k, _)| *k == id)
    }

    /// Re-registers waiter `id`; `false` if it is no longer in line.
    #[inline]
    pub(super) fn register(&mut self, id: u64, cx: &Context<'_>) -> bool {
        match self.waiters.get_mut(&id) {
            Some(w) => {
                Waiter::register(w, cx);
                true
            }
            None => false,
        }
    }

    /// Who to wake so that the first in line looks again.
    #[inline]
    pub(super) fn wake_first(&mut self) -> Option<Waiter> {
        self.waiters
            .first_entry()
            .and_then(|mut e| e.get_mut().take())
    }
}
