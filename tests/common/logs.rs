//! The one `log` logger of a test binary, for the suites that check what
//! evloop logs. `log` takes a single logger per process, and the suites
//! sharing a binary (tests/suite/main.rs) run their tests in parallel, so
//! they share this one, and each test sees only its own lines.
//!
//! A test calls [`capture`] first: from then on its thread's records (every
//! level, every target) are kept for that thread; each test's loop runs on
//! the test's own thread. The records of threads that never called it (the
//! loop's watchdog thread, the pool's threads, other tests' loops) are kept
//! from `warn` up only, for all to see: [`others`].

use std::cell::RefCell;
use std::sync::{Mutex, Once};

/// One log record: its level, its target and its text.
#[derive(Clone, Debug)]
pub struct Line {
    pub level: log::Level,
    pub target: String,
    pub text: String,
}

thread_local! {
    /// This thread's records since [`capture`]; `None` until it is called.
    static MINE: RefCell<Option<Vec<Line>>> = const { RefCell::new(None) };
}

/// Warnings and errors from threads that do not capture.
static OTHERS: Mutex<Vec<Line>> = Mutex::new(Vec::new());

struct Capture;

static LOGGER: Capture = Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let line = || Line {
            level: record.level(),
            target: record.target().to_owned(),
            text: record.args().to_string(),
        };
        // `try_with`: a record logged while this thread's locals are being
        // destroyed (a loop dropped by a thread-local) is dropped too.
        let kept = MINE
            .try_with(|mine| match &mut *mine.borrow_mut() {
                Some(lines) => {
                    lines.push(line());
                    true
                }
                None => false,
            })
            .unwrap_or(false);
        if !kept && record.level() <= log::Level::Warn {
            OTHERS.lock().unwrap().push(line());
        }
    }

    fn flush(&self) {}
}

/// Installs the logger (once per binary, at level `trace`) and starts
/// keeping this thread's records, forgetting any kept so far.
pub fn capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&LOGGER).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
    });
    MINE.with(|mine| *mine.borrow_mut() = Some(Vec::new()));
}

/// This thread's records since [`capture`] (or the last `take`), removed.
pub fn take() -> Vec<Line> {
    MINE.with(|mine| mine.borrow_mut().as_mut().map(std::mem::take))
        .unwrap_or_default()
}

/// This thread's records since [`capture`], kept.
pub fn mine() -> Vec<Line> {
    MINE.with(|mine| mine.borrow().clone()).unwrap_or_default()
}

/// The warnings and errors logged so far by threads that do not capture.
pub fn others() -> Vec<Line> {
    OTHERS.lock().unwrap().clone()
}
