//! A small property-test runner for the unit tests of the loop's data
//! structures (the timer wheel, the microtask queue, the task arena): random
//! lists of operations checked against a model, with the failing list shrunk
//! before it is reported.
//!
//! Why not proptest here: a dev-dependency of this crate is built for every
//! example too, and proptest (with rand and its friends) would more than
//! double the first `cargo run --example tour`. The integration tests, in
//! the tests crate, use proptest itself (`tests/suite/model.rs`).
//!
//! Each run draws a base seed (from the clock, or `EVLOOP_PROPTEST_SEED`)
//! and case `i` uses `base + i`, so a failure names the seed that replays it.

use std::fmt::Debug;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// xorshift64*: enough randomness for choosing operations, no state beyond
/// one word, and a seed reproduces the same sequence on every platform.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        // A zero state would stay zero; mix the seed so nearby seeds differ.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `range` (the slight modulo bias does not matter here).
    pub(crate) fn range(&mut self, range: Range<u64>) -> u64 {
        range.start + self.next_u64() % (range.end - range.start)
    }

    /// An index into `weights`, each chosen in proportion to its weight.
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut pick = self.range(0..total);
        for (i, &w) in weights.iter().enumerate() {
            if pick < u64::from(w) {
                return i;
            }
            pick -= u64::from(w);
        }
        unreachable!("pick < total")
    }
}

/// Checks `property` (which panics when it does not hold) on `cases` lists
/// of operations, each of a length in `len` and made by `op`. On a failure,
/// removes operations while the property still fails, then panics with the
/// seed and the smallest failing list found.
pub(crate) fn check<Op: Clone + Debug>(
    cases: u32,
    len: Range<u64>,
    mut op: impl FnMut(&mut Rng) -> Op,
    property: impl Fn(&[Op]),
) {
    let base = match std::env::var("EVLOOP_PROPTEST_SEED") {
        Ok(s) => s
            .parse()
            .expect("EVLOOP_PROPTEST_SEED must be a whole number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    };
    let fails = |ops: &[Op]| catch_unwind(AssertUnwindSafe(|| property(ops))).is_err();
    for case in 0..u64::from(cases) {
        let seed = base.wrapping_add(case);
        let mut rng = Rng::new(seed);
        let n = rng.range(len.clone());
        let ops: Vec<Op> = (0..n).map(|_| op(&mut rng)).collect();
        if fails(&ops) {
            let small = shrink(ops, &fails);
            panic!(
                "property failed (EVLOOP_PROPTEST_SEED={seed} with 1 case replays it); \
                 smallest failing input, {} operation(s): {small:#?}",
                small.len()
            );
        }
    }
}

/// Delta debugging by removal: tries dropping runs of operations, halving
/// the run length down to one, and keeps every removal after which the
/// input still fails. Bounded, so a slow property cannot make it endless.
fn shrink<Op: Clone>(mut ops: Vec<Op>, fails: &impl Fn(&[Op]) -> bool) -> Vec<Op> {
    let mut tries = 0;
    let mut chunk = ops.len().div_ceil(2);
    while chunk >= 1 && tries < 2_000 {
        let mut at = 0;
        while at < ops.len() && tries < 2_000 {
            tries += 1;
            let mut fewer = ops.clone();
            fewer.drain(at..(at + chunk).min(ops.len()));
            if fails(&fewer) {
                ops = fewer;
            } else {
                at += chunk;
            }
        }
        chunk /= 2;
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_property_is_shrunk_to_the_operations_that_matter() {
        let _w = crate::test_watchdog::watchdog();
        // Fails whenever a 7 and a 9 are both present: the smallest failing
        // input is those two alone.
        let property = |ops: &[u64]| assert!(!(ops.contains(&7) && ops.contains(&9)));
        let err = catch_unwind(AssertUnwindSafe(|| {
            check(200, 20..60, |rng| rng.range(0..12), property)
        }))
        .expect_err("some list holds both");
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("2 operation(s)"), "{msg}");
        assert!(msg.contains("EVLOOP_PROPTEST_SEED="), "{msg}");
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_weights_are_followed() {
        let _w = crate::test_watchdog::watchdog();
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(42);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(42);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        let mut r = Rng::new(3);
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            counts[r.weighted(&[1, 0, 3])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > 2 * counts[0], "{counts:?}");
    }
}
