//! `EVLOOP_WATCHDOG_MS`: a value that is not a whole number of milliseconds
//! from 1 up is an `InvalidInput` error from `build()` naming the variable
//! and its value (a typo must not silently turn the watchdog off); an empty
//! value is the same as unset; a good value starts the watchdog. Alone in its
//! test binary, and one test, because it changes the process environment.

mod common;

use std::time::Duration;

use evloop::EventLoop;

fn set(value: Option<&str>) {
    // SAFETY: this binary has one test, and nothing else in it reads or
    // writes the environment while this runs (evloop reads the variable
    // only in `build()`, on this thread).
    unsafe {
        match value {
            Some(v) => std::env::set_var("EVLOOP_WATCHDOG_MS", v),
            None => std::env::remove_var("EVLOOP_WATCHDOG_MS"),
        }
    }
}

#[test]
fn bad_watchdog_thresholds_in_the_environment_are_clear_errors() {
    let _w = common::watchdog();
    for bad in ["abc", "0", "-5", "1.5", "100ms", "99999999999999999999999"] {
        set(Some(bad));
        let err = EventLoop::new().expect_err(bad);
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
        assert_eq!(
            err.to_string(),
            format!(
                "EVLOOP_WATCHDOG_MS={bad:?}: the watchdog threshold must be a whole number \
                 of milliseconds, at least 1"
            )
        );
        // An explicit threshold wins over the variable.
        EventLoop::builder()
            .watchdog(Duration::from_millis(50))
            .build()
            .expect("the builder's threshold is used");
    }
    for fine in [None, Some(""), Some("100"), Some(" 250 ")] {
        set(fine);
        let lp = EventLoop::new().unwrap_or_else(|e| panic!("{fine:?}: {e}"));
        // The loop runs normally either way.
        let ran = std::rc::Rc::new(std::cell::Cell::new(false));
        let r = ran.clone();
        lp.run_main(move || evloop::set_timeout(1, move || r.set(true)));
        assert!(ran.get(), "{fine:?}");
    }
    set(None);
}
