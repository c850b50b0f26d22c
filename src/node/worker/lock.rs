//! Locking the mutexes the two threads of a worker share (its pipes and
//! its keepalive handle).

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, poisoned or not.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing user-supplied runs under these locks, so a poisoned one still
    // holds consistent data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
