//! Keep-alive accounting: which handles hold the loop open (Node's `ref()`
//! and `unref()`).
//!
//! Three kinds of handle keep a loop alive while they are referenced:
//! timers, immediates and I/O sources. The alive rule (`Core::alive`) reads
//! one count per kind rather than walking the handles, so each count must
//! equal the number of that kind's handles whose flag is on. The types here
//! make that hold by construction instead of by care at every call site: a
//! handle's flag ([`KeepAlive`]) is made only by [`RefCount::add`], changed
//! only by [`RefCount::set`] and given back only to [`RefCount::remove`],
//! each of which moves the count with it. (A flag dropped any other way
//! would leave the count high and the loop alive: every queue that drops
//! its entries, teardown included, hands each flag back.)

/// One handle's "keeps the loop alive" flag (the state Node's `hasRef()`
/// reports). Neither `Clone` nor `Copy`: there is exactly one per handle,
/// held in the handle's entry, and only its kind's [`RefCount`] reads it
/// into or out of the count.
#[derive(Debug)]
pub(crate) struct KeepAlive(bool);

impl KeepAlive {
    /// Whether the handle keeps the loop alive.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.0
    }
}

/// How many handles of one kind keep the loop alive.
#[derive(Debug, Default)]
pub(crate) struct RefCount(usize);

impl RefCount {
    /// Counts a new handle, which starts referenced as every Node handle
    /// does; its flag goes into the handle's entry.
    #[inline]
    pub(crate) fn add(&mut self) -> KeepAlive {
        self.0 += 1;
        KeepAlive(true)
    }

    /// Forgets a handle that leaves its queue (ran, cleared, closed or
    /// dropped at teardown).
    #[inline]
    pub(crate) fn remove(&mut self, flag: KeepAlive) {
        self.0 -= usize::from(flag.0);
    }

    /// `ref()` (`on`) or `unref()` a handle still in its queue; a repeated
    /// call changes nothing, as in Node.
    pub(crate) fn set(&mut self, flag: &mut KeepAlive, on: bool) {
        if flag.0 != on {
            flag.0 = on;
            if on {
                self.0 += 1;
            } else {
                self.0 -= 1;
            }
        }
    }

    /// Handles of this kind that keep the loop alive.
    #[inline]
    pub(crate) fn get(&self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::RefCount;

    #[test]
    fn the_count_follows_each_flag_once() {
        let mut refs = RefCount::default();
        let mut a = refs.add();
        let b = refs.add();
        assert_eq!(refs.get(), 2);
        refs.set(&mut a, false);
        refs.set(&mut a, false);
        assert_eq!(refs.get(), 1, "a second unref changes nothing");
        refs.remove(a);
        assert_eq!(
            refs.get(),
            1,
            "an unreferenced handle leaves without a trace"
        );
        assert!(b.is_on());
        refs.remove(b);
        assert_eq!(refs.get(), 0);
    }
}
