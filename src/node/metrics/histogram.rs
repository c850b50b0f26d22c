//! The delay monitor's histogram: HdrHistogram's log-linear layout, as
//! Node's `monitorEventLoopDelay` keeps its samples (3 significant
//! figures), written out here rather than taken from a crate: about a
//! hundred lines against a dependency, for one reader.
//!
//! A value below 2048 has a counter of its own (bucket 0). Above, bucket
//! `b` covers `[2^(b+10), 2^(b+11))` in 1024 equal slots, so a slot is at
//! most 1/1024 of its values wide: a percentile read from the counts is
//! within 0.1% of the exact one (above it, never below). A bucket's
//! counters are allocated when its first value comes, so memory is fixed
//! by the spread of the values (54 buckets of 8 KiB at most; a loop's
//! delays touch a few), never by their number. Count, minimum, maximum,
//! mean and standard deviation are kept exactly beside the counts.

/// Slots in a bucket above the first; the relative error is `1 / HALF`.
const HALF: usize = 1024;
/// log2(HALF).
const HALF_BITS: u32 = 10;
/// Buckets for every `u64`: bucket 0 holds 0..2048, bucket `b` the values
/// whose highest bit is bit `b + 10`, up to bit 63.
const BUCKETS: usize = 64 - HALF_BITS as usize;

pub(super) struct Histogram {
    /// Bucket 0 has `2 * HALF` counters, the others `HALF`; `None` until
    /// a value falls in it.
    buckets: Vec<Option<Box<[u64]>>>,
    count: u64,
    min: u64,
    max: u64,
    /// Welford's running mean and sum of squared deviations, for the mean
    /// and standard deviation without storing the samples.
    mean: f64,
    m2: f64,
}

/// A value's bucket and slot in it.
fn slot_of(v: u64) -> (usize, usize) {
    if v < 2 * HALF as u64 {
        return (0, v as usize);
    }
    let top = 63 - v.leading_zeros(); // at least 11
    let shift = top - HALF_BITS;
    ((shift) as usize, (v >> shift) as usize - HALF)
}

/// The largest value that falls in `(bucket, slot)`.
fn highest_in(bucket: usize, slot: usize) -> u64 {
    if bucket == 0 {
        return slot as u64;
    }
    let shift = bucket as u32;
    let low = ((slot + HALF) as u64) << shift;
    low + ((1u64 << shift) - 1)
}

impl Histogram {
    pub(super) fn new() -> Histogram {
        Histogram {
            buckets: (0..BUCKETS).map(|_| None).collect(),
            count: 0,
            min: 0,
            max: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }

    pub(super) fn record(&mut self, v: u64) {
        let (b, s) = slot_of(v);
        let len = if b == 0 { 2 * HALF } else { HALF };
        let counts = self.buckets[b].get_or_insert_with(|| vec![0; len].into_boxed_slice());
        counts[s] += 1;
        if self.count == 0 {
            (self.min, self.max) = (v, v);
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        let x = v as f64;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    pub(super) fn clear(&mut self) {
        *self = Histogram {
            // Keep the counters already allocated: the same spread of
            // delays comes again.
            buckets: std::mem::take(&mut self.buckets)
                .into_iter()
                .map(|b| {
                    b.map(|mut c| {
                        c.fill(0);
                        c
                    })
                })
                .collect(),
            ..Histogram::new()
        };
    }

    pub(super) fn count(&self) -> u64 {
        self.count
    }

    pub(super) fn min(&self) -> u64 {
        self.min
    }

    pub(super) fn max(&self) -> u64 {
        self.max
    }

    pub(super) fn mean(&self) -> f64 {
        self.mean
    }

    /// The population standard deviation (Node's `stddev`).
    pub(super) fn stddev(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.m2 / self.count as f64).sqrt()
        }
    }

    /// The smallest recorded value at or below which `p` percent of the
    /// samples fall (HdrHistogram's `value_at_percentile`: the sample of
    /// rank `ceil(p% of count)`), read as its slot's largest value, so at
    /// most 1/1024 above the exact one and never above the maximum; the
    /// first and last ranks are the exact minimum and maximum. 0 with no
    /// samples; `p` is clamped to 0..=100 (NaN is 0).
    pub(super) fn percentile(&self, p: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
        let rank = ((p / 100.0 * self.count as f64).ceil() as u64).clamp(1, self.count);
        // The first and last ranks are known exactly.
        if rank == 1 {
            return self.min;
        }
        if rank == self.count {
            return self.max;
        }
        let mut seen = 0;
        for (b, counts) in self.buckets.iter().enumerate() {
            let Some(counts) = counts else { continue };
            for (s, &n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return highest_in(b, s).clamp(self.min, self.max);
                }
            }
        }
        self.max
    }

    /// Counters allocated (for the memory test).
    #[cfg(test)]
    fn counters(&self) -> usize {
        self.buckets.iter().flatten().map(|b| b.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// Log-uniform over 1..2^bits: every magnitude, as delays spread.
        fn value(&mut self, bits: u32) -> u64 {
            let top = self.next() % u64::from(bits);
            (self.next() >> (63 - top)).max(1)
        }
    }

    /// The sample of rank `ceil(p% of n)` in sorted order.
    fn exact(sorted: &[u64], p: f64) -> u64 {
        let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn slots_cover_every_value_within_the_relative_error() {
        for v in [
            0,
            1,
            2047,
            2048,
            2049,
            4095,
            4096,
            1 << 40,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let (b, s) = slot_of(v);
            assert!(b < BUCKETS, "{v}");
            let high = highest_in(b, s);
            assert!(high >= v, "{v}: slot ends at {high}");
            assert!(high - v <= v / HALF as u64, "{v}: slot ends at {high}");
        }
    }

    #[test]
    fn percentiles_are_within_the_stated_error_of_the_exact_ones() {
        for (seed, bits) in [(1, 40), (7, 25), (42, 12), (3, 64)] {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
            let mut h = Histogram::new();
            let mut all = Vec::new();
            for _ in 0..20_000 {
                let v = rng.value(bits);
                h.record(v);
                all.push(v);
            }
            all.sort_unstable();
            for p in [
                0.0, 0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0,
            ] {
                let (got, want) = (h.percentile(p), exact(&all, p));
                assert!(
                    got >= want && got - want <= want / HALF as u64,
                    "bits {bits}, p{p}: {got} for {want}"
                );
            }
            assert_eq!((h.min(), h.max()), (all[0], all[all.len() - 1]));
            assert_eq!(h.percentile(100.0), h.max());
            assert_eq!(h.percentile(0.0), h.min());
            let n = all.len() as f64;
            let mean = all.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = all.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            assert!(
                (h.mean() - mean).abs() <= mean * 1e-9,
                "{} vs {mean}",
                h.mean()
            );
            assert!((h.stddev() - var.sqrt()).abs() <= var.sqrt() * 1e-6);
        }
    }

    #[test]
    fn memory_depends_on_the_spread_of_values_not_their_number() {
        let mut rng = Rng(5);
        let mut h = Histogram::new();
        // Delays from 1 µs to about 1 s.
        let delay = |rng: &mut Rng| 1_000 + rng.next() % 1_000_000_000;
        // The spread first: one value of each magnitude in the range.
        for top in 10..30 {
            h.record(1 << top);
        }
        for _ in 0..10_000 {
            h.record(delay(&mut rng));
        }
        let counters = h.counters();
        assert!(counters <= 2 * HALF + 20 * HALF, "{counters}");
        for _ in 0..300_000 {
            h.record(delay(&mut rng));
        }
        assert_eq!(h.count(), 310_020);
        assert_eq!(h.counters(), counters, "no storage per sample");
        // Every magnitude at once: the fixed upper bound.
        for top in 0..64 {
            h.record(1 << top);
        }
        assert_eq!(h.counters(), 2 * HALF + (BUCKETS - 1) * HALF);
        // A reset keeps the counters' storage and forgets the counts.
        h.clear();
        assert_eq!(
            (h.count(), h.min(), h.max(), h.percentile(50.0)),
            (0, 0, 0, 0)
        );
        assert_eq!(h.counters(), 2 * HALF + (BUCKETS - 1) * HALF);
    }
}
