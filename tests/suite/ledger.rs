//! Counting drops by name, for the tests of what a dropped loop lets go of
//! (reliability.rs, teardown_panics.rs).

use std::sync::{Arc, Mutex};

/// Counts drops by name: every value a test puts into a closure, a future
/// or a handler is a [`Probe`] made here, and at the end each name must have
/// been dropped exactly once.
#[derive(Clone, Default)]
pub struct Ledger(Arc<Mutex<(Vec<&'static str>, Vec<&'static str>)>>);

pub struct Probe {
    name: &'static str,
    ledger: Ledger,
    /// Panics when dropped (after it is counted), with
    /// [`Probe::panic_message`].
    panics: bool,
}

impl Ledger {
    pub fn probe(&self, name: &'static str) -> Probe {
        let mut l = self.0.lock().unwrap();
        assert!(!l.0.contains(&name), "probe name {name:?} used twice");
        l.0.push(name);
        Probe {
            name,
            ledger: self.clone(),
            panics: false,
        }
    }

    /// A probe whose destructor panics (once counted).
    pub fn panicking_probe(&self, name: &'static str) -> Probe {
        let mut probe = self.probe(name);
        probe.panics = true;
        probe
    }

    /// Every probe made was dropped exactly once.
    pub fn assert_all_dropped_once(&self) {
        let l = self.0.lock().unwrap();
        let mut problems = Vec::new();
        for name in &l.0 {
            let n = l.1.iter().filter(|d| *d == name).count();
            if n != 1 {
                problems.push(format!("{name}: dropped {n} times"));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

impl Probe {
    /// What a panicking probe named `name` panics with.
    pub fn panic_message(name: &str) -> String {
        format!("the destructor of {name} panics")
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.ledger.0.lock().unwrap().1.push(self.name);
        if self.panics {
            panic!("{}", Probe::panic_message(self.name));
        }
    }
}

/// Moves `value` into the closure that calls it, so the closure owns it.
pub fn hold<T>(_value: &T) {}
