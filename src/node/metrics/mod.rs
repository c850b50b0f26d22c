//! Loop health numbers, as Node's `perf_hooks` gives them:
//! [`event_loop_utilization`] and [`monitor_event_loop_delay`] (its
//! samples in [`histogram`]).

mod histogram;

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::rt::context::{try_with_core, with_core};
use crate::rt::timer::{Timer, set_interval};
use histogram::Histogram;

/// Event loop utilization (Node's `performance.eventLoopUtilization()`):
/// how much of its life the loop spent running code rather than waiting in
/// the poll phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    /// Time spent waiting for I/O or timers in the poll phase.
    pub idle: Duration,
    /// Time spent doing anything else (running callbacks, the loop itself).
    pub active: Duration,
    /// `active / (idle + active)`, from 0 (always waiting) to 1 (never).
    pub utilization: f64,
}

impl Elu {
    fn new(idle: Duration, active: Duration) -> Elu {
        let total = (idle + active).as_secs_f64();
        Elu {
            idle,
            active,
            utilization: if total > 0.0 {
                active.as_secs_f64() / total
            } else {
                0.0
            },
        }
    }

    /// The utilization between an earlier reading and this one (Node's
    /// `eventLoopUtilization(current, previous)` delta form).
    pub fn since(&self, earlier: &Elu) -> Elu {
        Elu::new(
            self.idle.saturating_sub(earlier.idle),
            self.active.saturating_sub(earlier.active),
        )
    }
}

/// The current loop's utilization since it was created; compare two
/// readings with [`Elu::since`].
///
/// It is measured on the loop's clock. Under virtual time the idle part is
/// the time the loop jumped over instead of waiting for a timer, and the
/// active part is what [`block_for`](crate::block_for) added: the numbers
/// are exact and the same on every run.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// let elu = lp.run_async(async {
///     evloop::sleep(300).await; // idle: waiting for the timer
///     evloop::block_for(std::time::Duration::from_millis(100)); // busy
///     evloop::event_loop_utilization()
/// });
/// assert_eq!(elu.idle.as_millis(), 300);
/// assert_eq!(elu.active.as_millis(), 100);
/// assert_eq!(elu.utilization, 0.25);
/// ```
pub fn event_loop_utilization() -> Elu {
    with_core("event_loop_utilization", |core| {
        let total = Duration::from_nanos(core.hrtime_ns());
        let idle = Duration::from_nanos(core.idle_ns()).min(total);
        Elu::new(idle, total - idle)
    })
}

/// Samples the loop's responsiveness (Node's `monitorEventLoopDelay`): an
/// unref'd interval timer fires every `resolution`, and each sample is the
/// time between two firings on the loop's clock ([`hrtime`](crate::hrtime)).
/// When the loop is free the samples are about `resolution`; a callback
/// that blocks for 150 ms shows up as a sample of at least 150 ms. Under
/// virtual time the samples are exact: `resolution`, or what
/// [`block_for`](crate::block_for) held the loop for. Values are in
/// nanoseconds, as in Node.
///
/// The samples go into a histogram of fixed size, as Node's HdrHistogram
/// (3 significant figures): a monitor that runs for days uses no more
/// memory than one that ran for a second, and its percentiles are within
/// 0.1% of the exact ones.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// evloop::run(|| {
///     let monitor = evloop::monitor_event_loop_delay(std::time::Duration::from_millis(5));
///     evloop::set_timeout(30, move || {
///         assert!(monitor.count() >= 1);
///         assert!(monitor.min() >= 5_000_000);
///         monitor.disable();
///     });
/// });
/// ```
#[track_caller]
pub fn monitor_event_loop_delay(resolution: Duration) -> DelayMonitor {
    let samples = Rc::new(RefCell::new(Samples {
        histogram: Histogram::new(),
        last: Some(hrtime_ns("monitor_event_loop_delay")),
    }));
    let s = samples.clone();
    let ms = resolution.as_millis().max(1) as u64;
    let timer = set_interval(ms, move || {
        let mut s = s.borrow_mut();
        let now = hrtime_ns("monitor_event_loop_delay");
        if let Some(last) = s.last.replace(now) {
            s.histogram.record(now.saturating_sub(last));
        }
    });
    timer.unref();
    DelayMonitor { samples, timer }
}

struct Samples {
    histogram: Histogram,
    /// The loop's clock at the last firing (or at creation or reset), in
    /// nanoseconds; `None` after a reset outside the loop: the next firing
    /// then only starts the next sample.
    last: Option<u64>,
}

fn hrtime_ns(what: &str) -> u64 {
    with_core(what, |core| core.hrtime_ns())
}

/// The histogram of [`monitor_event_loop_delay`]. Statistics are in
/// nanoseconds and are 0 before the first sample.
pub struct DelayMonitor {
    samples: Rc<RefCell<Samples>>,
    timer: Timer,
}

impl fmt::Debug for DelayMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelayMonitor")
            .field("count", &self.count())
            .field("min", &self.min())
            .field("max", &self.max())
            .field("mean", &self.mean())
            .finish()
    }
}

impl DelayMonitor {
    fn with<R>(&self, f: impl FnOnce(&Histogram) -> R) -> R {
        f(&self.samples.borrow().histogram)
    }

    /// Samples taken.
    pub fn count(&self) -> usize {
        self.with(|h| h.count() as usize)
    }

    /// The smallest sample (exact).
    pub fn min(&self) -> u64 {
        self.with(Histogram::min)
    }

    /// The largest sample (exact).
    pub fn max(&self) -> u64 {
        self.with(Histogram::max)
    }

    /// The mean (exact, up to `f64` rounding).
    pub fn mean(&self) -> f64 {
        self.with(Histogram::mean)
    }

    /// The standard deviation of the samples (exact, up to `f64`
    /// rounding).
    pub fn stddev(&self) -> f64 {
        self.with(Histogram::stddev)
    }

    /// The value at or below which `p` percent of the samples fall, `p`
    /// from 0 to 100 (clamped; NaN is 0), as HdrHistogram's
    /// `value_at_percentile` (Node's `histogram.percentile(p)`): the sample
    /// of rank `ceil(p% of count)`, at most 0.1% above it (its slot's
    /// largest value), never above [`max`](DelayMonitor::max).
    /// `percentile(0.0)` is the minimum, `percentile(100.0)` the maximum.
    pub fn percentile(&self, p: f64) -> u64 {
        self.with(|h| h.percentile(p))
    }

    /// Forgets the samples taken so far. The next sample measures from now,
    /// or, when called with no loop running on this thread, from the next
    /// firing.
    pub fn reset(&self) {
        let mut s = self.samples.borrow_mut();
        s.histogram.clear();
        s.last = try_with_core(|core| core.hrtime_ns());
    }

    /// Stops sampling (the statistics stay readable).
    pub fn disable(&self) {
        self.timer.clear_if_running();
    }
}

impl Drop for DelayMonitor {
    fn drop(&mut self) {
        self.timer.clear_if_running();
    }
}
