//! `EVLOOP_UNHANDLED_REJECTIONS`: a value that is not one of Node's modes
//! is an `InvalidInput` error from `build()` naming the variable and its
//! value (a typo must not silently change what an unhandled rejection
//! does); an empty value is the same as unset; a good value sets the mode
//! unless the builder set one. Alone in its test binary, and one test,
//! because it changes the process environment.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use evloop::EventLoop;
use evloop::process::{self, UnhandledRejections, Warning};

fn set(value: Option<&str>) {
    common::env::set("EVLOOP_UNHANDLED_REJECTIONS", value);
}

/// Runs a loop in which one `spawn_fallible` task fails unobserved; the
/// process warnings it emitted, or the panic it unwound with.
fn run(lp: EventLoop) -> Result<Vec<String>, String> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run_main(move || {
            process::on(Warning, move |w| s.borrow_mut().push(w.name().to_string()));
            evloop::spawn_fallible(async { Err::<(), _>("failed") }).detach();
        })
    }))
    .map_err(|p| common::panic_message(&*p))?;
    Ok(seen.take())
}

#[test]
fn bad_unhandled_rejection_modes_in_the_environment_are_clear_errors() {
    let _w = common::watchdog();
    common::env::assert_rejected(
        "EVLOOP_UNHANDLED_REJECTIONS",
        &["abc", "Throw", "warn_with_error_code", "1"],
        "the mode must be throw, strict, warn, none or warn-with-error-code",
    );
    // An explicit mode wins over the variable.
    let lp = EventLoop::builder()
        .unhandled_rejections(UnhandledRejections::None)
        .build()
        .expect("the builder's mode is used");
    assert_eq!(run(lp), Ok(vec![]));
    for (value, warned) in [(Some("warn"), true), (Some(" none "), false)] {
        set(value);
        let lp = EventLoop::new().unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let expected: Vec<String> = if warned {
            vec!["UnhandledPromiseRejectionWarning".into(); 2]
        } else {
            vec![]
        };
        assert_eq!(run(lp), Ok(expected), "{value:?}");
    }
    // Unset, empty or blank: Node 20's default, throw.
    for unset in [None, Some(""), Some("  ")] {
        set(unset);
        let err = run(EventLoop::new().expect("a loop")).expect_err("thrown");
        assert!(err.contains("unhandled rejection"), "{err}");
    }
    set(None);
}
