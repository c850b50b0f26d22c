//! Promise combinators: [`join_all`] (`Promise.all`), [`try_join_all`]
//! (`Promise.all` with rejections), [`all_settled`] (`Promise.allSettled`),
//! [`race`](fn@race) (`Promise.race`), [`select`] (a race of two futures
//! of different types, with [`Either`]), [`any`] (`Promise.any`), and the
//! macros [`join!`](crate::join!) and [`try_join!`](crate::try_join!) for a
//! fixed set of futures of different types.
//!
//! How they run (first poll of every input, O(1) wake-ups through one waker
//! per input and a shared ready list, cancellation, keep-alive) is described
//! on [`join_all`], under "How the combinators run".
//!
//! Implementation: each input (a "child") gets a `ChildWaker`, an `Arc`
//! holding its index and the combinator's `Wakeup`. Waking it lists the index
//! in `Wakeup`'s ready list (once, thanks to a per-child flag) and, if the
//! list was empty, wakes the combinator's task through a `Waiter` (the
//! executor's fast path: no clone of the task's waker). The combinator swaps
//! the list out at each poll and polls only those children. A child woken
//! while the combinator itself is polling is only listed; the combinator
//! then wakes itself through its own `Context` if it stays pending, which the
//! executor handles as a self-wake.
//!
//! Files: `wakeup.rs` holds that machinery (`Wakeup`, the children's
//! wakers and the shared ready list); `group.rs` has `Group`, the children
//! of a combinator over an iterator and the order they are polled in;
//! `join.rs` has [`join_all`], [`try_join_all`] and [`all_settled`];
//! `race.rs` has [`race`](fn@race), [`any`] and [`AggregateError`];
//! `select.rs` has [`select`] and [`Either`] (two fields, no group);
//! `macros.rs` has [`join!`](crate::join!), [`try_join!`](crate::try_join!)
//! and their `__private` support. This file only declares and re-exports
//! them.

mod group;
mod join;
mod macros;
mod race;
mod select;
mod wakeup;

pub use join::{AllSettled, JoinAll, TryJoinAll, all_settled, join_all, try_join_all};
#[doc(hidden)]
pub use macros::__private;
pub use race::{AggregateError, Any, Race, any, race};
pub use select::{Either, Select, select};
