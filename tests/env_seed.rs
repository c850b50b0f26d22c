//! `EVLOOP_SEED`: a whole number from 0 to 2^64 - 1 puts every loop built
//! without `Builder::seed` in the seeded mode with that seed; anything else
//! is an `InvalidInput` error from `build()` naming the variable and its
//! value (a typo must not silently run unseeded); empty is unset. Alone in
//! its test binary, and one test, because it changes the process
//! environment.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use evloop::{Builder, EventLoop};

fn set(value: Option<&str>) {
    common::env::set("EVLOOP_SEED", value);
}

/// The order of a `setTimeout(0)` and a `setImmediate` of the main script
/// on a loop from `builder`, and its choices.
fn order(builder: Builder) -> (Vec<&'static str>, usize) {
    let lp = builder.build().expect("a loop");
    let out = Rc::new(RefCell::new(Vec::new()));
    let (a, b) = (out.clone(), out.clone());
    lp.run_main(move || {
        evloop::set_timeout(0, move || a.borrow_mut().push("timeout"));
        evloop::set_immediate(move || b.borrow_mut().push("immediate"));
    });
    let choices = lp.choices().len();
    (out.take(), choices)
}

#[test]
fn seeds_in_the_environment_are_whole_numbers_or_clear_errors() {
    let _w = common::watchdog();
    common::env::assert_rejected(
        "EVLOOP_SEED",
        &["abc", "-1", "1.5", "0x10", "18446744073709551616", "1e3"],
        "a seed is a whole number from 0 to 18446744073709551615",
    );
    // A seed from the builder wins over the variable.
    assert_eq!(
        order(EventLoop::builder().seed(1)).0,
        ["timeout", "immediate"]
    );
    // Seed 1 takes the first choice's other option: the timeout first.
    set(Some(" 1 "));
    assert_eq!(
        order(EventLoop::builder()),
        (vec!["timeout", "immediate"], 1)
    );
    set(Some("18446744073709551615"));
    assert_eq!(
        order(EventLoop::builder()),
        (vec!["timeout", "immediate"], 1)
    );
    set(Some("0"));
    assert_eq!(
        order(EventLoop::builder()),
        (vec!["immediate", "timeout"], 1)
    );
    // Unset or blank: no seed, no choices recorded.
    for unset in [None, Some(""), Some("  ")] {
        set(unset);
        assert_eq!(order(EventLoop::builder().virtual_time(true)).1, 0);
    }
}
