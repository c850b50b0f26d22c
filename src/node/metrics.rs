//! Loop health numbers, as Node's `perf_hooks` gives them:
//! [`event_loop_utilization`] and [`monitor_event_loop_delay`].

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::rt::context::{try_with_core, with_core};
use crate::rt::timer::{Timer, set_interval};

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
        values: Vec::new(),
        last: Some(hrtime_ns("monitor_event_loop_delay")),
    }));
    let s = samples.clone();
    let ms = resolution.as_millis().max(1) as u64;
    let timer = set_interval(ms, move || {
        let mut s = s.borrow_mut();
        let now = hrtime_ns("monitor_event_loop_delay");
        if let Some(last) = s.last.replace(now) {
            s.values.push(now.saturating_sub(last));
        }
    });
    timer.unref();
    DelayMonitor { samples, timer }
}

struct Samples {
    values: Vec<u64>,
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
    fn with<R>(&self, f: impl FnOnce(&[u64]) -> R) -> R {
        f(&self.samples.borrow().values)
    }

    /// Samples taken.
    pub fn count(&self) -> usize {
        self.with(|v| v.len())
    }

    /// The smallest sample.
    pub fn min(&self) -> u64 {
        self.with(|v| v.iter().copied().min().unwrap_or(0))
    }

    /// The largest sample.
    pub fn max(&self) -> u64 {
        self.with(|v| v.iter().copied().max().unwrap_or(0))
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.with(|v| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
            }
        })
    }

    /// The standard deviation.
    pub fn stddev(&self) -> f64 {
        let mean = self.mean();
        self.with(|v| {
            if v.is_empty() {
                0.0
            } else {
                (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
            }
        })
    }

    /// The value below which `p` percent of the samples fall (0 to 100).
    pub fn percentile(&self, p: f64) -> u64 {
        self.with(|v| {
            if v.is_empty() {
                return 0;
            }
            let mut sorted = v.to_vec();
            sorted.sort_unstable();
            let rank = (p.clamp(0.0, 100.0) / 100.0 * (sorted.len() - 1) as f64).round();
            sorted[rank as usize]
        })
    }

    /// Forgets the samples taken so far. The next sample measures from now,
    /// or, when called with no loop running on this thread, from the next
    /// firing.
    pub fn reset(&self) {
        let mut s = self.samples.borrow_mut();
        s.values.clear();
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
