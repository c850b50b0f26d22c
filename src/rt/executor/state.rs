//! A task's name and its state in the table: the key that names it, the
//! flags in its slot, who awaits its handle, and the shared waker that
//! `HAS_ARC` says it has. (The cell's own stage, future then output, is
//! `task::Stage`; whether a slot holds a cell, and whether that cell is in
//! use, is the arena's `Slot::state`.) A leaf, importing only `remote`: the
//! arena and the task table hold these, and so import nothing that polls
//! or wakes a task.

use std::sync::atomic::AtomicU64;
use std::task::Waker;

use crate::rt::remote::Remote;

/// A task's name: slab index plus generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskKey {
    pub(super) index: u32,
    pub(super) generation: u32,
}

impl TaskKey {
    pub(super) fn pack(self) -> u64 {
        (self.index as u64) << 32 | self.generation as u64
    }

    pub(super) fn unpack(v: u64) -> TaskKey {
        TaskKey {
            index: (v >> 32) as u32,
            generation: v as u32,
        }
    }
}

/// Who awaits a task's [`Task`](super::task::Task) handle: a task of this loop,
/// by key (no waker clone; kept in the slot), or any other waker (kept in
/// `Executor::join_wakers`: few tasks are awaited through a foreign waker,
/// and a `Waker` in the slot would make every slot 8 bytes larger).
pub(super) enum Join {
    Task(TaskKey),
    Waker(Waker),
}

/// The value of `Slot::join` when it names no task.
pub(super) const NO_JOIN: TaskKey = TaskKey {
    index: 0,
    generation: 0,
};

// `Slot::flags`: one byte a task, read and written through the slot's
// `Cell` on the loop's thread only. `spawn` starts a task with none set, and
// a slot leaves the table (`Executor::vacate`) with none set.

/// A poll of the task is queued in the microtask queue.
///
/// Set (by `Executor::schedule`, or by `poll_cell` for a task that woke
/// itself) only if it was clear, and always together with pushing the task's
/// key onto the microtask queue: a task woken twice before it runs is polled
/// once. Cleared when that microtask runs (`take_for_poll`), whether or not
/// it then polls. Never newly set on a `DONE` task, but it may still be set
/// as the task becomes `DONE` (an `Arc` waker woken during the poll that
/// finished it): the queued poll then finds `DONE` and does nothing. A poll
/// still queued when its task leaves the table finds no slot (the key's
/// generation no longer matches).
pub(super) const SCHEDULED: u8 = 1;

/// The future returned `Ready`: the cell holds the output.
///
/// Set by `finish` when the future returns `Ready`, and by `PollGuard` when
/// its poll panics (the task then leaves the table at once). Never cleared
/// while the task is in the table. A `DONE` task no longer counts in
/// `Executor::pending`, and has neither `HAS_ARC` nor `HAS_JOIN`: `finish`
/// drops both.
pub(super) const DONE: u8 = 2;

/// The `Task` handle was dropped: free the slot when done.
///
/// Set by the handle's `Drop` on a task not yet `DONE` (a finished task's
/// slot is freed there and then instead), and by `Task::abort` from inside
/// the task's own poll, which cannot drop the future under itself. Nobody
/// can take the output any more, so as the future returns `finish` reports
/// an unobserved error (`spawn_fallible`) and frees the slot.
pub(super) const DETACHED: u8 = 4;

/// The handle has been polled once (the "one tick" for a finished task is
/// spent).
///
/// Set by every poll of the `Task` handle. A handle first polled once its
/// task is `DONE` wakes its awaiter and returns `Pending`, as `await` of a
/// settled promise resumes one microtask later. Polled again, or polled
/// while the task was pending and then woken by `finish` (that wake was the
/// tick), it takes the output.
pub(super) const WAITED: u8 = 8;

/// Someone awaits the handle: the task in `join`, or (with `JOIN_WAKER`)
/// the waker in `Executor::join_wakers`.
///
/// Set by a poll of the handle while the task is not `DONE`. Cleared, and
/// the awaiter taken, by `Executor::take_join`: the awaiter is woken when the
/// task finishes or its poll panics, and dropped unwoken when the handle is
/// dropped or the task leaves the table otherwise.
pub(super) const HAS_JOIN: u8 = 16;

/// The task's `Arc` waker exists, in `Executor::arcs`.
///
/// Set by `poll_cell` after the first poll that cloned the task's waker, as
/// it stores the `Arc` waker that clone made in `Executor::arcs` under the
/// slot's index; cleared, and the entry removed, when the task finishes or
/// leaves the table. So only a pending task has one, and each later poll
/// hands it (found through this flag) to the poll waker, so that clones
/// share it rather than make another.
pub(super) const HAS_ARC: u8 = 32;

/// The `Waker` behind every task's `Arc` waker: what `HAS_ARC` says a task
/// has, and `Executor::arcs` holds. Thread-safe (it may be sent anywhere):
/// on the loop's own thread it schedules the task directly; elsewhere it
/// posts the wake through the loop's cross-thread queue. Only its data is
/// here, beside the flag it belongs to, so that the table can hold it
/// without importing the wake protocol (`impl Wake` in `waker`, which
/// reaches the loop through `context`).
pub(super) struct TaskWaker {
    /// The loop the task runs on.
    pub(super) loop_id: u32,
    /// The task, packed (`TaskKey::pack`).
    pub(super) key: AtomicU64,
    /// How a wake from another thread reaches the loop.
    pub(super) remote: Remote,
}

/// See `HAS_JOIN`.
///
/// Only with `HAS_JOIN`: set exactly while `Executor::join_wakers` holds the
/// awaiting waker (one that is not a task of this loop) under the slot's
/// index. With `HAS_JOIN` but not this, `Slot::join` holds the awaiting
/// task's key (no waker clone). (Loop teardown, `Executor::clear`, empties
/// the map at once, whatever a slot it could not free still says.)
pub(super) const JOIN_WAKER: u8 = 64;

/// A `spawn_fallible` task: when it ends with nothing awaiting it, its
/// output is checked for an `Err`, Node's unhandled rejection (a flag, so
/// that the completion of any other task tests one bit, not a vtable).
pub(super) const FALLIBLE: u8 = 128;
