//! The on/off switches `EVLOOP_VIRTUAL_TIME`, `EVLOOP_TRACE` and
//! `EVLOOP_STEP`, which share one reading: `1`/`true`/`on`/`yes` are on,
//! `0`/`false`/`off`/`no` are off, in any case and with spaces trimmed;
//! unset, empty or blank is off; anything else (not UTF-8 included) is an
//! `InvalidInput` error from `build()` naming the variable and its value.
//! `EVLOOP_VIRTUAL_TIME=false` once turned virtual time on (only presence was
//! tested). Alone in its test binary, and one test, because it changes the
//! process environment.

mod common;

use std::cell::Cell;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::rc::Rc;
use std::time::Duration;

use evloop::{Builder, EventLoop};

const SWITCHES: [&str; 3] = ["EVLOOP_VIRTUAL_TIME", "EVLOOP_TRACE", "EVLOOP_STEP"];

fn set(name: &str, value: Option<&OsStr>) {
    common::env::set(name, value);
}

/// Whether a loop built now runs on virtual time: its clock stands still
/// across a callback that holds the loop for 30 ms (on a real clock it moves
/// at least that far by the next iteration).
fn on_virtual_time(builder: Builder) -> bool {
    let seen = Rc::new(Cell::new(None));
    let s = seen.clone();
    builder.build().expect("a loop").run_main(move || {
        let start = evloop::now();
        // sleep: holds the loop; a real clock moves at least 30 ms by the
        // next iteration however slow the machine, a virtual one not at all.
        std::thread::sleep(Duration::from_millis(30));
        evloop::set_immediate(move || s.set(Some((start, evloop::now()))));
    });
    let (start, later) = seen.get().expect("the immediate ran");
    assert!(
        later == start || later >= start + 30,
        "the clock moved {} ms",
        later - start
    );
    later == start
}

/// Whether a loop built now logs its trace (a line per callback, "... ran N
/// µs"; a loop without the trace logs only phase counts).
fn traces() -> bool {
    common::logs::take();
    EventLoop::new()
        .expect("a loop")
        .run_main(|| evloop::set_timeout(1, || {}));
    common::logs::take()
        .iter()
        .any(|l| l.target == "evloop::trace" && l.text.contains(" ran "))
}

#[test]
fn switches_in_the_environment_read_on_and_off_words_and_refuse_the_rest() {
    let _w = common::watchdog();
    common::logs::capture();
    let on = ["1", "true", "TRUE", "On", "yes", " yes\t"];
    let off = ["0", "false", "False", "OFF", "no", " 0 ", "", "  "];

    for value in on {
        set("EVLOOP_VIRTUAL_TIME", Some(OsStr::new(value)));
        assert!(
            on_virtual_time(EventLoop::builder()),
            "EVLOOP_VIRTUAL_TIME={value:?}"
        );
    }
    for value in off.map(Some).into_iter().chain([None]) {
        set("EVLOOP_VIRTUAL_TIME", value.map(OsStr::new));
        assert!(
            !on_virtual_time(EventLoop::builder()),
            "EVLOOP_VIRTUAL_TIME={value:?}"
        );
    }
    // A switch only turns on what the builder left off.
    set("EVLOOP_VIRTUAL_TIME", Some(OsStr::new("off")));
    assert!(on_virtual_time(EventLoop::builder().virtual_time(true)));
    set("EVLOOP_VIRTUAL_TIME", None);

    for (value, expected) in [("on", true), ("no", false), ("", false)] {
        set("EVLOOP_TRACE", Some(OsStr::new(value)));
        assert_eq!(traces(), expected, "EVLOOP_TRACE={value:?}");
        assert_eq!(evloop::trace_from_env().unwrap(), expected, "{value:?}");
    }
    set("EVLOOP_TRACE", None);
    assert!(!traces());
    assert!(!evloop::trace_from_env().unwrap());

    // The stepper is only built, never run: on a terminal it would wait
    // for Enter.
    for value in ["yes", "0"] {
        set("EVLOOP_STEP", Some(OsStr::new(value)));
        EventLoop::new().unwrap_or_else(|e| panic!("EVLOOP_STEP={value:?}: {e}"));
    }
    set("EVLOOP_STEP", None);

    for name in SWITCHES {
        common::env::assert_rejected(
            name,
            &["2", "maybe", "flase", "-1", "y", "enabled", "1 1"],
            "a switch is 1, true, on or yes to turn it on, 0, false, off or no to turn it off",
        );
        // Not UTF-8: "1" then a lone continuation byte.
        set(name, Some(OsStr::from_bytes(b"1\x80")));
        let err = EventLoop::new().expect_err("not UTF-8");
        assert!(
            err.to_string().starts_with(&format!(r#"{name}="1\x80": "#)),
            "{err}"
        );
        // `evloop::run` panics with the same words.
        let payload = std::panic::catch_unwind(|| evloop::run(|| {})).unwrap_err();
        assert_eq!(
            common::panic_message(&*payload),
            format!("evloop: cannot create an event loop: {err}")
        );
        set(name, None);
    }
    let err = {
        set("EVLOOP_TRACE", Some(OsStr::new("maybe")));
        evloop::trace_from_env().unwrap_err()
    };
    assert!(
        err.to_string().starts_with("EVLOOP_TRACE=\"maybe\": "),
        "{err}"
    );
    set("EVLOOP_TRACE", None);
    assert!(EventLoop::new().is_ok());
}
