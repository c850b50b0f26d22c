//! [`Delay`]: what a timer's delay becomes, as Node's `setTimeout` turns
//! what JavaScript passes into whole milliseconds.

use std::time::Duration;

use crate::rt::callback::Site;
use crate::rt::process::ProcessWarning;

/// Node's `TIMEOUT_MAX`: the largest delay, `2^31 - 1` ms (about 24.8 days).
pub const TIMEOUT_MAX: u32 = i32::MAX as u32;

/// A timer delay in milliseconds, converted from what JavaScript would pass.
///
/// Integers are milliseconds; `f64` is milliseconds too, and a [`Duration`]
/// is its length in milliseconds with the fraction kept. As in Node, any
/// delay that is not in `1..=2^31-1` ms (zero, negative, NaN, infinite, or
/// too large) becomes 1 ms (a too-large one also emits Node's
/// `TimeoutOverflowWarning`, a process warning on the next tick); what remains is then truncated to whole
/// milliseconds, as Node's `insert` does (`MathTrunc(msecs)`): `1.8` and
/// `Duration::from_micros(1800)` are 1 ms, and run before a 2 ms timer
/// scheduled earlier; `0.5` is below 1 and becomes 1 ms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delay(f64);

macro_rules! delay_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Delay {
            fn from(ms: $t) -> Delay {
                Delay(ms as f64)
            }
        }
    )*};
}
delay_from!(i32, u32, i64, u64, usize, f64);

impl From<Duration> for Delay {
    fn from(d: Duration) -> Delay {
        Delay(d.as_nanos() as f64 / 1e6)
    }
}

impl Delay {
    /// The delay Node would use, in whole milliseconds: clamped to
    /// `1..=2^31-1` (`after` in Node's `Timeout` constructor), then truncated
    /// (`insert` in `lib/internal/timers.js`).
    pub(crate) fn clamp(self, site: Site) -> u32 {
        let ms = self.0;
        if ms >= 1.0 && ms <= TIMEOUT_MAX as f64 {
            // (`as` truncates toward zero.)
            return ms as u32;
        }
        if ms > TIMEOUT_MAX as f64 {
            overflow_warning(ms, site);
        }
        1
    }
}

/// Node's `TimeoutOverflowWarning` for a delay of `ms` scheduled at `site`:
/// logged now, and a process warning on the next tick. Out of line: it
/// must not weigh on `schedule`, which every timer goes through.
#[cold]
#[inline(never)]
fn overflow_warning(ms: f64, site: Site) {
    log::warn!(
        target: "evloop",
        "TimeoutOverflowWarning: {ms} does not fit into a 32-bit signed integer. \
         Timeout duration was set to 1. (scheduled at {}:{})",
        site.file(),
        site.line()
    );
    let message =
        format!("{ms} does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.");
    crate::rt::process::emit_warning_at(
        ProcessWarning::new(message).with_name("TimeoutOverflowWarning"),
        site,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::Location;

    #[test]
    fn delays_clamp_like_node() {
        let site = Location::caller();
        assert_eq!(Delay::from(0).clamp(site), 1);
        assert_eq!(Delay::from(-5).clamp(site), 1);
        assert_eq!(Delay::from(f64::NAN).clamp(site), 1);
        assert_eq!(Delay::from(f64::INFINITY).clamp(site), 1);
        assert_eq!(Delay::from(1u64 << 31).clamp(site), 1);
        assert_eq!(Delay::from(TIMEOUT_MAX).clamp(site), TIMEOUT_MAX);
        // Clamped, then truncated, as Node (issue 18).
        assert_eq!(Delay::from(1.2).clamp(site), 1);
        assert_eq!(Delay::from(1.8).clamp(site), 1);
        assert_eq!(Delay::from(2.999).clamp(site), 2);
        assert_eq!(Delay::from(0.5).clamp(site), 1);
        assert_eq!(Delay::from(TIMEOUT_MAX as f64 + 0.5).clamp(site), 1);
        assert_eq!(Delay::from(Duration::from_micros(1500)).clamp(site), 1);
        assert_eq!(Delay::from(Duration::from_micros(2500)).clamp(site), 2);
        assert_eq!(Delay::from(Duration::from_nanos(1)).clamp(site), 1);
        assert_eq!(Delay::from(Duration::ZERO).clamp(site), 1);
    }
}
