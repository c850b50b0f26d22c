//! `EventEmitter` behaviour, rule by rule, and Node.js scenarios ported to
//! it.
//!
//! The first half checks each rule of `node:events` that evloop's emitter
//! follows. The second half ports every `tests/node/emitter/NAME.js` script
//! to Rust and asserts that the lines it prints equal `NAME.out`, which is
//! what Node.js v20 printed (see `tests/node/README.md`), with the
//! conventions of `tests/node/node_order.rs` and `tests/node/node_async.rs`:
//! `console.log(x)` is `say(x)`; `Promise.resolve().then(f)` is
//! `queue_microtask(f)`; calling an async function is `spawn(async { .. })`;
//! `new Promise(executor)` is `evloop::promise(executor)`;
//! `process.on('uncaughtException')` is `set_uncaught_panic_handler`; and
//! `try { .. } catch (err) { .. }` is `catch_unwind`.
//!
//! Node prints the `MaxListenersExceededWarning` on stderr, which the `.out`
//! files leave out; evloop logs it through `log`, and the test binary's
//! logger ([`common::logs`]) records it for the tests to check.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use crate::common;

use crate::common::{check, node_expected, panic_message, say, take_lines};

use evloop::{
    BrokenPromise, DEFAULT_MAX_LISTENERS, Event, EventEmitter, Listener, ListenerId, NewListener,
    RemoveListener, UncaughtPanic, next_tick, once_event, promise, queue_microtask, set_immediate,
    set_timeout, set_uncaught_panic_handler, spawn,
};
use evloop::{
    DEFAULT_EVENT_STREAM_CAPACITY, ErrorMonitor, on_event, on_event_or_error, once_event_or_error,
};

evloop::events! {
    /// A test event with a number.
    struct Num("num"): i32;
    /// A test event with text.
    struct Text("text"): String;
    /// A test event with no payload.
    struct Ping("ping"): ();
    /// The error event, with a code.
    struct Error("error"): i32;
}

/// Starts capturing, on this thread, what evloop logs
/// ([`common::logs`], the test binary's one logger), forgetting what it
/// logged so far.
fn capture_logs() {
    common::logs::capture();
}

/// The emitter's log lines on this thread since [`capture_logs`], checking
/// that each is a warning with target `evloop::emitter`.
fn take_warnings() -> Vec<String> {
    common::logs::take()
        .into_iter()
        .filter(|l| l.target.starts_with("evloop::emitter"))
        .map(|l| {
            assert_eq!(l.level, log::Level::Warn);
            assert_eq!(l.target, "evloop::emitter");
            l.text
        })
        .collect()
}

fn leak_warning(count: usize, name: &str, max: usize) -> String {
    format!(
        "MaxListenersExceededWarning: Possible EventEmitter memory leak detected. \
         {count} {name} listeners added to [EventEmitter]. MaxListeners is {max}. \
         Use emitter.setMaxListeners() to increase limit"
    )
}

/// The text of a caught panic.
/// A listener that records `label` and the payload.
fn recorder(label: &'static str) -> impl Fn(&i32) + 'static {
    move |n| say(format!("{label} {n}"))
}

// ---------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------

#[test]
fn listeners_run_synchronously_in_registration_order_with_duplicates() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    e.on(Num, recorder("a"));
    e.add_listener(Num, recorder("b"));
    let twice = Listener::new(recorder("dup"));
    let first = e.on_listener(Num, &twice);
    let second = e.on_listener(Num, &twice);
    assert_eq!(first, second, "both registrations share the listener's id");
    assert_eq!(first, twice.id());
    e.on(Num, recorder("c"));
    say("before");
    assert!(e.emit(Num, 1));
    say("after");
    assert_eq!(
        take_lines(),
        ["before", "a 1", "b 1", "dup 1", "dup 1", "c 1", "after"]
    );
    assert_eq!(e.listener_count(Num::NAME), 5);
}

#[test]
fn emit_returns_whether_any_listener_existed() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    assert!(!e.emit(Num, 1));
    let id = e.on(Num, |_| {});
    assert!(e.emit(Num, 2));
    assert!(e.off(Num, id));
    assert!(!e.emit(Num, 3));
    let once = e.once(Ping, |()| {});
    assert!(e.emit(Ping, ()));
    assert!(!e.emit(Ping, ()), "the once-listener was removed");
    assert!(!e.off(Ping, once));
}

#[test]
fn prepend_listener_puts_it_first() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    e.on(Num, recorder("on"));
    e.prepend_listener(Num, recorder("prepended 1"));
    e.prepend_listener(Num, recorder("prepended 2"));
    e.emit(Num, 0);
    assert_eq!(take_lines(), ["prepended 2 0", "prepended 1 0", "on 0"]);
}

#[test]
fn once_listener_is_removed_before_it_runs() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let e2 = e.clone();
    e.on(RemoveListener, |&(name, _)| {
        say(format!("removed from {name}"))
    });
    let depth = Rc::new(Cell::new(0));
    let d = depth.clone();
    e.once(Num, move |n| {
        say(format!(
            "once {n}, listeners left {}",
            e2.listener_count(Num::NAME)
        ));
        // A nested emit does not call this once-listener again.
        d.set(d.get() + 1);
        if d.get() == 1 {
            e2.emit(Num, n + 1);
        }
    });
    e.on(Num, recorder("on"));
    e.emit(Num, 1);
    e.emit(Num, 10);
    assert_eq!(
        take_lines(),
        [
            "removed from num",
            "once 1, listeners left 1",
            "on 2",
            "on 1",
            "on 10"
        ]
    );
}

/// The outer emit's snapshot still holds the once-listener that a nested
/// emit already ran: it is skipped (checked with node v20: on 1, on 2,
/// once 2, on 3).
#[test]
fn once_listener_fired_by_a_nested_emit_is_skipped_by_the_outer_one() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    // A weak handle: a listener holding its own emitter is a cycle.
    let me = e.downgrade();
    e.on(Num, move |&n| {
        say(format!("on {n}"));
        if n == 1 {
            me.upgrade().expect("alive").emit(Num, 2);
        }
    });
    e.once(Num, recorder("once"));
    e.once_listener(Num, &Listener::new(recorder("once (handle)")));
    e.emit(Num, 1);
    e.emit(Num, 3);
    assert_eq!(
        take_lines(),
        ["on 1", "on 2", "once 2", "once (handle) 2", "on 3"]
    );
}

#[test]
fn once_takes_an_fn_once_and_prepend_once_goes_first() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let owned = String::from("moved into the listener");
    e.on(Text, |t| say(format!("on {t}")));
    e.once(Text, move |t| {
        let owned = owned; // FnOnce: consumes its capture
        say(format!("once {t}: {owned}"));
    });
    e.prepend_once_listener(Text, |t| say(format!("prepended once {t}")));
    e.emit(Text, "a".into());
    e.emit(Text, "b".into());
    assert_eq!(
        take_lines(),
        [
            "prepended once a",
            "on a",
            "once a: moved into the listener",
            "on b"
        ]
    );
}

#[test]
fn off_removes_the_most_recently_added_matching_listener() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let f = Listener::new(recorder("f"));
    let g = Listener::new(recorder("g"));
    e.on_listener(Num, &f);
    e.on_listener(Num, &g);
    e.on_listener(Num, &f);
    assert!(e.off(Num, f.id()));
    e.emit(Num, 1);
    assert_eq!(
        take_lines(),
        ["f 1", "g 1"],
        "the last f went, not the first"
    );
    assert!(e.remove_listener(Num, f.id()));
    assert!(!e.off(Num, f.id()), "no f left: a no-op");
    assert!(
        !e.off(Text, g.id()),
        "an id is matched within its event only"
    );
    // A once-registration is removed by the listener's id, like Node's
    // `off(name, fn)` finding the wrapper of `fn`.
    let o = e.once_listener(Num, &f);
    assert!(e.off(Num, o));
    e.emit(Num, 2);
    assert_eq!(take_lines(), ["g 2"]);
}

#[test]
fn remove_all_listeners_for_one_name_or_all() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    e.on(Num, |_| {});
    e.on(Num, |_| {});
    e.on(Text, |_| {});
    e.on(Ping, |_| {});
    e.remove_all_listeners(Some(Num::NAME));
    assert_eq!(e.listener_count(Num::NAME), 0);
    assert_eq!(e.event_names(), ["text", "ping"]);
    e.remove_all_listeners(Some("no such event"));
    assert_eq!(e.event_names(), ["text", "ping"]);
    e.remove_all_listeners(None);
    assert!(e.event_names().is_empty());
    assert!(!e.emit(Text, "x".into()));
}

#[test]
fn remove_all_listeners_reports_removals_last_first() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let ids: Vec<ListenerId> = (0..3).map(|_| e.on(Num, |_| {})).collect();
    e.on(Ping, |_| {});
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    e.on(RemoveListener, move |&(name, id)| {
        s.borrow_mut().push((name, id))
    });
    e.remove_all_listeners(Some(Num::NAME));
    let expected: Vec<_> = ids.iter().rev().map(|&id| ("num", id)).collect();
    assert_eq!(*seen.borrow(), expected);
    seen.borrow_mut().clear();
    e.remove_all_listeners(None);
    let names: Vec<&str> = seen.borrow().iter().map(|(name, _)| *name).collect();
    // 'ping' first; removing the only 'removeListener' listener is silent.
    assert_eq!(names, ["ping"]);
    assert!(e.event_names().is_empty());
}

#[test]
fn listener_count_and_event_names_in_registration_order() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    assert_eq!(e.listener_count("num"), 0);
    e.on(Text, |_| {});
    let n = e.on(Num, |_| {});
    e.on(Ping, |_| {});
    e.on(Num, |_| {});
    assert_eq!(e.event_names(), ["text", "num", "ping"]);
    assert_eq!(e.listener_count(Num::NAME), 2);
    // A name whose listeners all went moves to the back when it gets one
    // again (Node deletes its key), not while any is left.
    e.off(Num, n);
    assert_eq!(e.event_names(), ["text", "num", "ping"]);
    e.remove_all_listeners(Some("text"));
    e.on(Text, |_| {});
    assert_eq!(e.event_names(), ["num", "ping", "text"]);
}

#[test]
fn event_names_put_array_indices_first_like_javascript_keys() {
    let _w = common::watchdog();
    evloop::events! {
        struct Seven("7"): ();
        struct Zero("0"): ();
        struct Padded("07"): ();
        struct Big("4294967295"): ();
    }
    let e = EventEmitter::new();
    e.on(Ping, |_| {});
    e.on(Seven, |_| {});
    e.on(Padded, |_| {});
    e.on(Big, |_| {});
    e.on(Zero, |_| {});
    // Checked with node: Object.keys({ping, 7, '07', 4294967295, 0}).
    assert_eq!(e.event_names(), ["0", "7", "ping", "07", "4294967295"]);
}

#[test]
fn emit_works_on_a_snapshot() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let late = Rc::new(Cell::new(None));
    let (e2, l) = (e.downgrade(), late.clone());
    e.on(Num, move |n| {
        say(format!("first {n}"));
        if *n == 1 {
            let e2 = e2.upgrade().expect("alive");
            e2.on(Num, recorder("added during emit"));
            e2.off(Num, l.get().expect("set below"));
        }
    });
    late.set(Some(e.on(Num, recorder("removed during emit"))));
    e.emit(Num, 1);
    e.emit(Num, 2);
    assert_eq!(
        take_lines(),
        [
            "first 1",
            "removed during emit 1",
            "first 2",
            "added during emit 2"
        ]
    );
}

#[test]
fn error_event_without_listener_panics_with_the_payload() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Error, 42)))
        .expect_err("emitting 'error' with no listener panics");
    assert_eq!(panic_message(&*caught), "Unhandled error. (42)");
    // A listener of another event does not count.
    e.on(Num, |_| {});
    assert!(catch_unwind(AssertUnwindSafe(|| e.emit(Error, 1))).is_err());
    // With a listener it is an ordinary event.
    let got = Rc::new(Cell::new(0));
    let g = got.clone();
    e.once(Error, move |code| g.set(*code));
    assert!(e.emit(Error, 7));
    assert_eq!(got.get(), 7);
    // The once-listener is gone: the next one panics again.
    assert!(catch_unwind(AssertUnwindSafe(|| e.emit(Error, 8))).is_err());
    // Any payload type works; the panic shows it with Debug.
    evloop::events! { struct IoError("error"): std::io::Error; }
    let caught = catch_unwind(AssertUnwindSafe(|| {
        EventEmitter::new().emit(IoError, std::io::Error::other("disk on fire"))
    }))
    .expect_err("panics");
    let text = panic_message(&*caught);
    assert!(
        text.starts_with("Unhandled error. (") && text.contains("disk on fire"),
        "{text}"
    );
}

#[test]
fn new_listener_fires_before_the_add_and_remove_listener_after_the_removal() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let e2 = e.downgrade();
    e.on(NewListener, move |&(name, _)| {
        say(format!(
            "newListener {name}, count before {}",
            e2.upgrade().expect("alive").listener_count(name)
        ))
    });
    let e3 = e.downgrade();
    e.on(RemoveListener, move |&(name, _)| {
        say(format!(
            "removeListener {name}, count after {}",
            e3.upgrade().expect("alive").listener_count(name)
        ))
    });
    let ids = Rc::new(RefCell::new(Vec::new()));
    let i = ids.clone();
    e.on(NewListener, move |&(_, id)| i.borrow_mut().push(id));
    let id = e.on(Num, |_| {});
    assert!(e.off(Num, id));
    assert!(!e.off(Num, id), "nothing removed: no event");
    assert_eq!(*ids.borrow(), [id], "the payload carries the listener's id");
    assert_eq!(
        take_lines(),
        [
            "newListener removeListener, count before 0",
            "newListener newListener, count before 1",
            "newListener num, count before 0",
            "removeListener num, count after 0",
        ]
    );
}

#[test]
fn max_listeners_warns_once_per_emitter_and_name() {
    let _w = common::watchdog();
    capture_logs();
    let e = EventEmitter::new();
    assert_eq!(e.get_max_listeners(), DEFAULT_MAX_LISTENERS);
    assert_eq!(DEFAULT_MAX_LISTENERS, 10);
    for _ in 0..10 {
        e.on(Num, |_| {});
    }
    assert!(take_warnings().is_empty(), "10 listeners are fine");
    e.on(Num, |_| {});
    assert_eq!(take_warnings(), [leak_warning(11, "num", 10)]);
    for _ in 0..5 {
        e.prepend_listener(Num, |_| {});
    }
    assert!(take_warnings().is_empty(), "one warning per name");
    assert_eq!(e.listener_count("num"), 16, "a warning, not an error");
    for _ in 0..11 {
        e.on(Text, |_| {});
    }
    assert_eq!(take_warnings(), [leak_warning(11, "text", 10)]);
    let other = EventEmitter::new();
    for _ in 0..11 {
        other.on(Num, |_| {});
    }
    assert_eq!(
        take_warnings(),
        [leak_warning(11, "num", 10)],
        "per emitter"
    );
}

#[test]
fn max_listeners_can_be_changed_or_lifted() {
    let _w = common::watchdog();
    capture_logs();
    let e = EventEmitter::new();
    e.set_max_listeners(0);
    assert_eq!(e.get_max_listeners(), 0);
    for _ in 0..100 {
        e.on(Num, |_| {});
    }
    assert!(take_warnings().is_empty(), "0 means unlimited");
    e.set_max_listeners(1);
    e.on(Text, |_| {});
    assert!(take_warnings().is_empty());
    e.once(Text, |_| {});
    assert_eq!(take_warnings(), [leak_warning(2, "text", 1)]);
    e.set_max_listeners(2);
    e.on(Ping, |_| {});
    e.on(Ping, |_| {});
    e.on(Ping, |_| {});
    assert_eq!(take_warnings(), [leak_warning(3, "ping", 2)]);
}

/// Node keeps the "warned" flag on its listener array, which it replaces by
/// the lone function when one listener is left: the next leak warns again
/// (checked with node v20: 11 on, 11 off, 11 on again prints two warnings).
#[test]
fn max_listeners_warns_again_after_dropping_to_one_listener() {
    let _w = common::watchdog();
    capture_logs();
    let e = EventEmitter::new();
    let ids: Vec<_> = (0..11).map(|_| e.on(Num, |_| {})).collect();
    assert_eq!(take_warnings().len(), 1);
    for id in &ids[..9] {
        e.off(Num, *id);
    }
    for _ in 0..9 {
        e.on(Num, |_| {});
    }
    assert!(take_warnings().is_empty(), "never fell to one listener");
    for id in &ids[9..] {
        e.off(Num, *id);
    }
    assert_eq!(e.listener_count("num"), 9);
    e.on(Num, |_| {});
    e.on(Num, |_| {});
    assert!(
        take_warnings().is_empty(),
        "11 again but the flag is still set"
    );
    // Down to none: the name's key is deleted, and with it the flag.
    e.remove_all_listeners(Some("num"));
    let ids: Vec<_> = (0..11).map(|_| e.on(Num, |_| {})).collect();
    assert_eq!(take_warnings(), [leak_warning(11, "num", 10)]);
    // Down to one: Node's array becomes a lone function, and the flag goes.
    for id in &ids[1..] {
        e.off(Num, *id);
    }
    assert_eq!(e.listener_count("num"), 1);
    for _ in 0..10 {
        e.on(Num, |_| {});
    }
    assert_eq!(take_warnings(), [leak_warning(11, "num", 10)]);
}

#[test]
fn listeners_can_reenter_the_emitter() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let e2 = e.clone();
    e.on(Num, move |&n| {
        say(format!("outer {n}"));
        if n < 3 {
            // Emit the same event again, from inside its own listener.
            e2.emit(Num, n + 1);
        }
        // Every other call that reads or changes the emitter.
        let id = e2.on(Text, |_| {});
        e2.prepend_once_listener(Ping, |_| {});
        assert!(e2.listener_count(Text::NAME) >= 1);
        let _ = e2.event_names();
        let _ = format!("{e2:?}");
        e2.set_max_listeners(e2.get_max_listeners());
        e2.off(Text, id);
        e2.emit(Ping, ());
    });
    let e3 = e.clone();
    e.on(Num, move |&n| {
        say(format!("second {n}"));
        if n == 1 {
            e3.remove_all_listeners(None);
        }
    });
    e.emit(Num, 1);
    assert_eq!(
        take_lines(),
        [
            "outer 1", "outer 2", "outer 3", "second 3", "second 2", "second 1"
        ]
    );
    assert!(e.event_names().is_empty());
}

#[test]
fn clones_share_listeners_and_weak_references_do_not_keep_it_alive() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    let clone = e.clone();
    clone.on(Num, recorder("via clone"));
    assert_eq!(e.listener_count("num"), 1);
    e.emit(Num, 1);
    clone.set_max_listeners(3);
    assert_eq!(e.get_max_listeners(), 3);
    // A listener reaching its own emitter without a reference cycle.
    let weak = e.downgrade();
    e.on(Ping, move |()| {
        let me = weak.upgrade().expect("alive while emitting");
        say(format!(
            "ping sees {} num listener(s)",
            me.listener_count("num")
        ));
    });
    clone.emit(Ping, ());
    assert_eq!(take_lines(), ["via clone 1", "ping sees 1 num listener(s)"]);
    let weak = e.downgrade();
    drop(e);
    assert!(weak.upgrade().is_some(), "the clone keeps it alive");
    drop(clone);
    assert!(weak.upgrade().is_none());
}

#[test]
fn a_panicking_listener_stops_the_emit_and_leaves_the_emitter_usable() {
    let _w = common::watchdog();
    take_lines();
    let e = EventEmitter::new();
    e.once(Num, |_| panic!("listener fails"));
    e.on(Num, recorder("after"));
    let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Num, 1))).expect_err("propagates");
    assert_eq!(panic_message(&*caught), "listener fails");
    assert!(take_lines().is_empty(), "the rest of the emit did not run");
    e.emit(Num, 2);
    assert_eq!(take_lines(), ["after 2"]);
}

#[test]
fn one_name_with_two_payload_types_panics() {
    let _w = common::watchdog();
    evloop::events! { struct NumAsText("num"): String; }
    let e = EventEmitter::new();
    e.on(Num, |_| {});
    let caught = catch_unwind(AssertUnwindSafe(|| e.on(NumAsText, |_| {}))).expect_err("on");
    let text = panic_message(&*caught);
    assert!(text.contains("\"num\"") && text.contains("i32"), "{text}");
    assert!(catch_unwind(AssertUnwindSafe(|| e.emit(NumAsText, String::new()))).is_err());
    // Once the name has no listeners, the other type may take it.
    e.remove_all_listeners(None);
    e.on(NumAsText, |_| {});
    assert!(e.emit(NumAsText, "ok".into()));
}

#[test]
fn debug_shows_names_and_counts() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    e.on(Num, |_| {});
    e.on(Num, |_| {});
    assert_eq!(
        format!("{e:?}"),
        "EventEmitter { listeners: [(\"num\", 2)], max_listeners: 10 }"
    );
}

#[test]
fn once_event_resolves_with_the_next_payload() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    let e2 = e.clone();
    let got = evloop::run_async(async move {
        let next = once_event(&e2, Text);
        assert_eq!(e2.listener_count(Text::NAME), 1);
        let e3 = e2.clone();
        set_timeout(5, move || {
            e3.emit(Text, "first".into());
            e3.emit(Text, "second".into());
        });
        next.await
    });
    assert_eq!(got, Ok("first".to_string()));
    assert_eq!(e.listener_count(Text::NAME), 0);
}

#[test]
fn once_event_is_broken_when_its_listener_is_removed() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let e = EventEmitter::new();
        let next = once_event(&e, Num);
        set_immediate(move || e.remove_all_listeners(None));
        next.await
    });
    assert_eq!(got, Err(BrokenPromise));
}

#[test]
fn once_event_or_error_rejects_when_the_error_comes_first() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    let e2 = e.clone();
    let got = evloop::run_async(async move {
        let next = once_event_or_error(&e2, Num, Error);
        assert_eq!(e2.listener_count(Num::NAME), 1);
        assert_eq!(e2.listener_count(Error::NAME), 1);
        let e3 = e2.clone();
        set_timeout(5, move || {
            assert!(e3.emit(Error, 7), "the error is handled");
            assert!(!e3.emit(Num, 1));
        });
        next.await
    });
    assert_eq!(got, Ok(Err(7)));
    assert_eq!(e.event_names(), Vec::<&str>::new());
}

#[test]
fn once_event_or_error_resolves_and_removes_its_error_listener() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    let e2 = e.clone();
    let got = evloop::run_async(async move {
        let next = once_event_or_error(&e2, Num, Error);
        let e3 = e2.clone();
        set_timeout(5, move || {
            assert!(e3.emit(Num, 3));
            assert_eq!(e3.listener_count(Error::NAME), 0);
        });
        next.await
    });
    assert_eq!(got, Ok(Ok(3)));
    let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Error, 8))).expect_err("unhandled");
    assert_eq!(panic_message(&*caught), "Unhandled error. (8)");
}

#[test]
fn once_event_or_error_on_the_error_event_adds_one_listener() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let e = EventEmitter::new();
        let next = once_event_or_error(&e, Error, Error);
        assert_eq!(e.listener_count(Error::NAME), 1);
        set_immediate(move || {
            e.emit(Error, 5);
        });
        next.await
    });
    assert_eq!(got, Ok(Ok(5)));
}

#[test]
fn once_event_or_error_is_broken_when_both_listeners_are_removed() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let e = EventEmitter::new();
        let next = once_event_or_error(&e, Num, Error);
        set_immediate(move || e.remove_all_listeners(None));
        next.await
    });
    assert_eq!(got, Err(BrokenPromise));
}

#[test]
fn listeners_give_ids_in_calling_order() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    let f = Listener::new(|_: &i32| {});
    let a = e.on_listener(Num, &f);
    let b = e.prepend_once_listener(Num, |_| {});
    e.on_listener(Num, &f);
    assert_eq!(e.listeners("num"), [b, a, a]);
    assert_eq!(e.raw_listeners("num"), [(b, true), (a, false), (a, false)]);
    assert!(e.listeners("none").is_empty());
    e.emit(Num, 1);
    assert_eq!(e.raw_listeners("num"), [(a, false), (a, false)]);
}

#[test]
fn error_monitor_sees_errors_first_without_handling_them() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    e.on(ErrorMonitor(Error), |code| say(format!("monitor {code}")));
    assert_eq!(e.listener_count(Error::NAME), 0);
    let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Error, 1))).expect_err("unhandled");
    assert_eq!(panic_message(&*caught), "Unhandled error. (1)");
    assert_eq!(take_lines(), ["monitor 1"]);
    e.on(Error, |code| say(format!("listener {code}")));
    e.on(Num, |_| {});
    assert!(e.emit(Error, 2));
    assert_eq!(take_lines(), ["monitor 2", "listener 2"]);
    assert_eq!(
        e.event_names(),
        ["error", "num", ErrorMonitor::<Error>::NAME],
        "the monitor's name (Node's symbol) comes last"
    );
    assert_eq!(ErrorMonitor::<Error>::NAME, "Symbol(events.errorMonitor)");
}

#[test]
fn on_event_buffers_in_order_and_ends_when_closed_from_elsewhere() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    let e2 = e.clone();
    let got = evloop::run_async(async move {
        let mut it = on_event(&e2, Num);
        assert_eq!(e2.listener_count(Num::NAME), 1);
        assert_eq!(
            e2.listener_count("error"),
            0,
            "on_event adds no error listener"
        );
        e2.emit(Num, 1);
        e2.emit(Num, 2);
        assert_eq!(it.buffered(), 2);
        let closer = it.closer();
        let e3 = e2.clone();
        set_timeout(5, move || {
            e3.emit(Num, 3);
            closer.close();
            closer.close(); // idempotent
            assert!(!e3.emit(Num, 4), "the listener went with the close");
        });
        let mut got = Vec::new();
        while let Some(n) = it.next().await {
            got.push(n);
        }
        assert_eq!(it.next().await, None, "it stays ended");
        got
    });
    assert_eq!(got, [1, 2, 3]);
    assert_eq!(e.event_names(), Vec::<&str>::new());
}

#[test]
fn dropping_an_event_stream_removes_its_listeners_at_once() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    e.on(RemoveListener, |(name, _)| say(format!("removed {name}")));
    let it = on_event_or_error(&e, Num, Error).close_on(Ping);
    assert_eq!(
        e.event_names(),
        ["removeListener", "num", "error", "ping"],
        "the event, 'error' and close listeners"
    );
    e.emit(Num, 1);
    drop(it);
    assert_eq!(
        take_lines(),
        ["removed ping", "removed error", "removed num"],
        "last added first, as Node's removeAll"
    );
    assert!(!e.emit(Num, 2));
}

#[test]
fn an_event_stream_ends_when_its_listener_is_removed_or_the_emitter_dropped() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let e = EventEmitter::new();
        let mut it = on_event_or_error(&e, Num, Error);
        e.emit(Num, 1);
        let e2 = e.clone();
        set_immediate(move || e2.remove_all_listeners(Some("num")));
        let mut got = Vec::new();
        while let Some(n) = it.next().await {
            got.push(n);
        }
        assert_eq!(e.listener_count("error"), 0, "the error listener went too");
        got
    });
    assert_eq!(got, [Ok(1)]);
    let got = evloop::run_async(async {
        let e = EventEmitter::new();
        let mut it = on_event(&e, Num);
        set_immediate(move || drop(e));
        it.next().await
    });
    assert_eq!(got, None);
}

#[test]
fn an_event_stream_refuses_events_past_its_capacity_with_a_panic_in_emit() {
    let _w = common::watchdog();
    assert_eq!(DEFAULT_EVENT_STREAM_CAPACITY, 65_536);
    let got = evloop::run_async(async {
        let e = EventEmitter::new();
        let mut it = on_event(&e, Num).capacity(2);
        e.emit(Num, 1);
        e.emit(Num, 2);
        let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Num, 3))).expect_err("full");
        let message = panic_message(&*caught);
        assert!(
            message.starts_with("evloop: the on_event stream made at tests/node/emitter.rs:"),
            "{message}"
        );
        assert!(
            message.ends_with(
                "already buffers 2 \"num\" events that nobody took (its capacity); this event \
                 was refused. Consume the stream faster, or raise its capacity with \
                 EventStream::capacity"
            ),
            "{message}"
        );
        assert_eq!(e.listener_count("num"), 1, "it goes on listening");
        let mut got = vec![it.next().await, it.next().await];
        e.emit(Num, 4);
        got.push(it.next().await);
        got
    });
    assert_eq!(got, [Some(1), Some(2), Some(4)]);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let e = EventEmitter::new();
        let _ = on_event(&e, Num).capacity(0);
    }))
    .expect_err("capacity 0");
    assert_eq!(
        panic_message(&*caught),
        "evloop: EventStream::capacity(0): the capacity must be at least 1"
    );
}

#[test]
fn an_event_stream_is_a_stream_and_needs_no_loop_to_be_made() {
    let _w = common::watchdog();
    use evloop::StreamNext;
    let e = EventEmitter::new();
    let mut it = on_event(&e, Text);
    e.emit(Text, "a".into());
    assert_eq!(
        format!("{it:?}"),
        "EventStream { buffered: 1, finished: false }"
    );
    let got = evloop::run_async(async move {
        let first = StreamNext::next(&mut it).await;
        e.emit(Text, "b".into());
        (first, StreamNext::next(&mut it).await)
    });
    assert_eq!(got, (Some("a".to_string()), Some("b".to_string())));
}

#[test]
fn a_next_given_up_under_a_timeout_does_not_spend_the_next_calls_hop() {
    let _w = common::watchdog();
    take_lines();
    let lp = common::virtual_loop();
    lp.run_main(|| {
        spawn(async {
            let e = EventEmitter::new();
            let mut it = on_event(&e, Num);
            assert!(evloop::timeout(5, it.next()).await.is_err());
            e.emit(Num, 1);
            queue_microtask(|| say("microtask"));
            // A buffered event: one hop, as `await` of a settled promise.
            let v = it.next().await;
            say(format!("got {v:?}"));
        })
        .detach();
    });
    assert_eq!(take_lines(), ["microtask", "got Some(1)"]);
}

/// The cases of Node's own test/parallel/test-event-on-async-iterator.js
/// that have a Rust form: `basic` (another event does not show up; `break`
/// removes both listeners), `error`, `errorDelayed` and `throwInLoop` (a
/// `?` or panic out of the loop body drops the stream). Its concurrent
/// `next()` calls have none (`next` takes `&mut`), nor has `throw()`.
#[test]
fn node_own_events_on_tests() {
    let _w = common::watchdog();
    evloop::events! {
        struct Foo("foo"): Arg;
        struct Bar("bar"): i32;
    }
    /// `'bar'` and `42` as one payload type.
    #[derive(Clone, Debug, PartialEq)]
    enum Arg {
        S(&'static str),
        N(i32),
    }
    // basic
    evloop::run_async(async {
        let ee = EventEmitter::new();
        let e = ee.clone();
        next_tick(move || {
            e.emit(Foo, Arg::S("bar"));
            e.emit(Bar, 24); // not ours: it does not show up
            e.emit(Foo, Arg::N(42));
        });
        let mut iterable = on_event_or_error(&ee, Foo, Error);
        let mut expected = vec![Arg::S("bar"), Arg::N(42)];
        while let Some(event) = iterable.next().await {
            assert_eq!(event, Ok(expected.remove(0)));
            if expected.is_empty() {
                break;
            }
        }
        iterable.close().await;
        assert_eq!(ee.listener_count("foo"), 0);
        assert_eq!(ee.listener_count("error"), 0);
    });
    // error
    evloop::run_async(async {
        let ee = EventEmitter::new();
        let e = ee.clone();
        next_tick(move || {
            e.emit(Error, 7);
        });
        let mut iterable = on_event_or_error(&ee, Foo, Error);
        let mut looped = false;
        let mut thrown = None;
        while let Some(event) = iterable.next().await {
            match event {
                Ok(_) => looped = true,
                Err(err) => thrown = Some(err),
            }
        }
        assert_eq!((looped, thrown), (false, Some(7)));
    });
    // errorDelayed
    evloop::run_async(async {
        let ee = EventEmitter::new();
        let e = ee.clone();
        next_tick(move || {
            e.emit(Foo, Arg::N(42));
            e.emit(Error, 7);
        });
        let mut iterable = on_event_or_error(&ee, Foo, Error);
        let mut got = Vec::new();
        while let Some(event) = iterable.next().await {
            got.push(event);
        }
        assert_eq!(got, [Ok(Arg::N(42)), Err(7)]);
        assert_eq!(ee.listener_count("foo"), 0);
        assert_eq!(ee.listener_count("error"), 0);
    });
    // throwInLoop
    let ee = EventEmitter::new();
    let e = ee.clone();
    let outcome: Result<(), &str> = evloop::run_async(async move {
        let e2 = e.clone();
        next_tick(move || {
            e2.emit(Foo, Arg::N(42));
        });
        let mut iterable = on_event_or_error(&e, Foo, Error);
        let fail = |event: &Result<Arg, i32>| match event {
            Ok(Arg::N(42)) => Err("kaboom"),
            _ => Ok(()),
        };
        while let Some(event) = iterable.next().await {
            fail(&event)?; // `throw _err` in the loop body
        }
        Ok(())
    });
    assert_eq!(outcome, Err("kaboom"));
    assert_eq!(ee.listener_count("foo"), 0);
    assert_eq!(ee.listener_count("error"), 0);
}

#[test]
fn once_event_needs_a_running_loop() {
    let _w = common::watchdog();
    let e = EventEmitter::new();
    let caught = catch_unwind(AssertUnwindSafe(|| once_event(&e, Num))).expect_err("no loop");
    assert!(panic_message(&*caught).contains("once_event"));
    assert_eq!(e.listener_count("num"), 0, "nothing was registered");
}

// ---------------------------------------------------------------------------
// Node scenarios (tests/node/emitter)
// ---------------------------------------------------------------------------

/// Queues a microtask that logs `LABEL microtask N` and re-queues itself up
/// to `max` (the scripts' `count` functions).
fn count_microtasks(label: &'static str, n: u32, max: u32) {
    queue_microtask(move || {
        say(format!("{label} microtask {n}"));
        if n < max {
            count_microtasks(label, n + 1, max);
        }
    });
}

#[test]
fn emit_inside_callbacks() {
    let _w = common::watchdog();
    evloop::events! {
        struct Data("data"): &'static str;
        struct Other("other"): i32;
    }
    let (name, out) = node_expected!("emitter", "emit_inside_callbacks");
    check(name, out, || {
        let e = EventEmitter::new();
        e.on(Data, |&at| {
            say(format!("A got {at}"));
            next_tick(move || say(format!("tick from A ({at})")));
            queue_microtask(move || say(format!("microtask from A ({at})")));
        });
        e.on(Data, |&at| {
            say(format!("B got {at}"));
            set_immediate(move || say(format!("immediate from B ({at})")));
        });
        let t = e.clone();
        set_timeout(50, move || {
            say("timer start");
            say(format!("emit returned {}", t.emit(Data, "timer")));
            let e = t.clone();
            next_tick(move || {
                e.emit(Data, "tick");
            });
            let e = t.clone();
            queue_microtask(move || {
                e.emit(Data, "microtask");
            });
            let e = t.clone();
            set_immediate(move || {
                e.emit(Data, "immediate");
            });
            say("timer end");
        });
        let t = e.clone();
        set_timeout(100, move || {
            say(format!(
                "timer 2, emit with no listener returned {}",
                t.emit(Other, 1)
            ))
        });
        say(format!("main: {} listeners", e.listener_count(Data::NAME)));
    });
}

#[test]
fn snapshot_and_reentrancy() {
    let _w = common::watchdog();
    evloop::events! { struct X("x"): i32; }
    let (name, out) = node_expected!("emitter", "snapshot_and_reentrancy");
    check(name, out, || {
        let e = EventEmitter::new();
        let a_id: Rc<Cell<Option<ListenerId>>> = Rc::new(Cell::new(None));
        let c_id: Rc<Cell<Option<ListenerId>>> = Rc::new(Cell::new(None));
        let (me, a, c) = (e.clone(), a_id.clone(), c_id.clone());
        a_id.set(Some(e.on(X, move |&n| {
            say(format!("A {n}"));
            if n == 1 {
                me.on(X, |m| say(format!("D (added by A) {m}")));
                me.off(X, c.get().expect("c is registered"));
                me.off(X, a.get().expect("a is registered"));
            }
        })));
        let me = e.clone();
        e.on(X, move |&n| {
            say(format!("B {n}"));
            if n == 1 {
                say(format!("B re-emitted: {}", me.emit(X, 2)));
            }
        });
        c_id.set(Some(e.on(X, |n| say(format!("C {n}")))));
        say(format!("first emit: {}", e.emit(X, 1)));
        say(format!("count {}", e.listener_count(X::NAME)));
        say(format!("second emit: {}", e.emit(X, 3)));
        let this: Rc<Cell<Option<ListenerId>>> = Rc::new(Cell::new(None));
        let (me, own) = (e.clone(), this.clone());
        this.set(Some(e.on(X, move |&n| {
            me.off(X, own.get().expect("registered"));
            say(format!("E removes itself, re-emits: {}", me.emit(X, n + 1)));
        })));
        say(format!("third emit: {}", e.emit(X, 10)));
        e.remove_all_listeners(Some(X::NAME));
        say(format!(
            "after removeAllListeners: {}, names [{}]",
            e.emit(X, 20),
            e.event_names().join(",")
        ));
    });
}

#[test]
fn once_prepend_meta() {
    let _w = common::watchdog();
    evloop::events! {
        struct X("x"): ();
        struct Y("y"): ();
        struct Z("z"): ();
    }
    let (name, out) = node_expected!("emitter", "once_prepend_meta");
    check(name, out, || {
        let e = EventEmitter::new();
        let me = e.clone();
        e.on(NewListener, move |&(name, _)| {
            say(format!(
                "newListener {name} (had {})",
                me.listener_count(name)
            ))
        });
        let me = e.clone();
        e.on(RemoveListener, move |&(name, _)| {
            say(format!(
                "removeListener {name} (has {})",
                me.listener_count(name)
            ))
        });
        let f = Listener::new(|()| say("f"));
        let g = Listener::new(|()| say("g"));
        e.on_listener(X, &f);
        e.prepend_listener(X, |()| say("p (prepended)"));
        e.once(X, |()| say("o (once)"));
        e.prepend_once_listener(X, |()| say("q (prepended once)"));
        say(format!("emit 1: {}", e.emit(X, ())));
        say(format!("emit 2: {}", e.emit(X, ())));
        e.on_listener(X, &g);
        e.on_listener(X, &f);
        e.off(X, f.id());
        say(format!(
            "emit 3 (off removed the last f): {}",
            e.emit(X, ())
        ));
        e.on(Y, |()| say("y1"));
        let names = |e: &EventEmitter| e.event_names().join(",");
        say(format!("names: {}", names(&e)));
        e.remove_all_listeners(Some(X::NAME));
        say(format!("names: {}", names(&e)));
        e.on_listener(X, &f);
        say(format!("names: {}", names(&e)));
        e.remove_all_listeners(None);
        say(format!("names after removeAllListeners(): [{}]", names(&e)));
        let d = EventEmitter::new();
        let me = d.clone();
        d.once(NewListener, move |&(name, _)| {
            if name == Z::NAME {
                me.on(Z, |()| say("B (added inside newListener)"));
            }
        });
        d.on(Z, |()| say("A"));
        d.emit(Z, ());
    });
}

#[test]
fn error_event() {
    let _w = common::watchdog();
    evloop::events! { struct Other("other"): i32; }
    let (name, out) = node_expected!("emitter", "error_event");
    check(name, out, || {
        set_uncaught_panic_handler(Some(Box::new(|p: UncaughtPanic| {
            say(format!(
                "uncaughtException: {}",
                p.message().unwrap_or("<non-string panic>")
            ));
        })));
        let e = EventEmitter::new();
        // try { e.emit('error', 42); ... } catch (err) { ... }
        if let Err(err) = catch_unwind(AssertUnwindSafe(|| {
            e.emit(Error, 42);
            say("not reached");
        })) {
            say(format!("caught: {}", panic_message(&*err)));
        }
        say(format!("emit other with no listener: {}", e.emit(Other, 1)));
        e.once(Error, |code| say(format!("once error listener got {code}")));
        say(format!("emit error with a listener: {}", e.emit(Error, 7)));
        if let Err(err) = catch_unwind(AssertUnwindSafe(|| e.emit(Error, 8))) {
            say(format!("caught again: {}", panic_message(&*err)));
        }
        set_timeout(50, move || {
            say("timer 1 emits error");
            next_tick(|| say("tick from timer 1"));
            e.emit(Error, 9);
            say("not reached");
        });
        set_timeout(100, || say("timer 2 still runs"));
    });
}

#[test]
fn max_listeners() {
    let _w = common::watchdog();
    evloop::events! {
        struct Close("close"): ();
        struct Data("data"): ();
        struct A("a"): ();
    }
    let (name, out) = node_expected!("emitter", "max_listeners");
    capture_logs();
    check(name, out, || {
        let server = EventEmitter::new();
        say(format!("default max {}", server.get_max_listeners()));
        let closed = Rc::new(Cell::new(0));
        // The leak: every request adds a 'close' listener never removed.
        for _ in 1..=12 {
            let c = closed.clone();
            server.on(Close, move |()| c.set(c.get() + 1));
        }
        say(format!(
            "close listeners {}",
            server.listener_count(Close::NAME)
        ));
        say(format!(
            "emit close: {}, ran {}",
            server.emit(Close, ()),
            closed.get()
        ));
        let quiet = EventEmitter::new();
        quiet.set_max_listeners(0);
        for _ in 0..30 {
            quiet.on(Data, |()| {});
        }
        say(format!(
            "unlimited: {}, data listeners {}",
            quiet.get_max_listeners(),
            quiet.listener_count(Data::NAME)
        ));
        let tight = EventEmitter::new();
        tight.set_max_listeners(1);
        tight.on(A, |()| {});
        tight.prepend_listener(A, |()| {});
        tight.on(A, |()| {});
        say(format!(
            "max {}, a listeners {}",
            tight.get_max_listeners(),
            tight.listener_count(A::NAME)
        ));
    });
    // What node printed on stderr for this script, after `(node:PID) `.
    assert_eq!(
        take_warnings(),
        [leak_warning(11, "close", 10), leak_warning(2, "a", 1)]
    );
}

#[test]
fn once_event_await() {
    let _w = common::watchdog();
    evloop::events! {
        struct X("x"): i32;
        struct Y("y"): i32;
    }
    let (name, out) = node_expected!("emitter", "once_event_await");
    check(name, out, || {
        let e = EventEmitter::new();
        let me = e.clone();
        spawn(async move {
            let v = once_event(&me, X).await.expect("x is emitted");
            say(format!("once(x) resolved with {v}"));
        })
        .detach();
        let me = e.clone();
        spawn(async move {
            let v = promise(|resolve| {
                me.once(X, move |v| resolve.resolve(*v));
            })
            .await
            .expect("x is emitted");
            say(format!("promise of x resolved with {v}"));
        })
        .detach();
        say(format!("x listeners {}", e.listener_count(X::NAME)));
        set_timeout(50, move || {
            count_microtasks("timer", 1, 4);
            next_tick(|| say("timer tick"));
            say(format!("emit x: {}", e.emit(X, 1)));
            say(format!("x listeners {}", e.listener_count(X::NAME)));
        });
        let f = EventEmitter::new();
        let me = f.clone();
        spawn(async move {
            let v = once_event(&me, Y).await.expect("y is emitted");
            say(format!("once(y) resolved with {v}"));
        })
        .detach();
        count_microtasks("main", 1, 4);
        f.emit(Y, 2);
        say("main end");
    });
}

#[test]
fn once_event_error() {
    let _w = common::watchdog();
    /// The outcome of `try { const [v] = await once(e, 'x') } catch (err)`.
    fn report(label: &'static str, got: Result<Result<i32, i32>, BrokenPromise>) {
        match got.expect("settled") {
            Ok(v) => say(format!("{label} resolved with {v}")),
            Err(err) => say(format!("{label} rejected with {err}")),
        }
    }
    evloop::events! {
        struct X("x"): i32;
    }
    let (name, out) = node_expected!("emitter", "once_event_error");
    check(name, out, || {
        let e = EventEmitter::new();
        let me = e.clone();
        spawn(async move { report("once(x)", once_event_or_error(&me, X, Error).await) }).detach();
        say(counts(&e));
        let me = e.clone();
        set_timeout(50, move || {
            count_microtasks("timer", 1, 3);
            say(format!("emit error: {}", me.emit(Error, 7)));
            say(counts(&me));
            say(format!("emit x: {}", me.emit(X, 1)));
        });
        set_timeout(100, move || {
            let me = e.clone();
            spawn(
                async move { report("second once(x)", once_event_or_error(&me, X, Error).await) },
            )
            .detach();
            set_timeout(10, move || {
                say(format!("emit x: {}", e.emit(X, 2)));
                say(counts(&e));
                let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Error, 8)))
                    .expect_err("no error listener");
                say(format!("caught: {}", panic_message(&*caught)));
            });
        });
    });
}

#[test]
fn unhandled_error_payload() {
    let _w = common::watchdog();
    /// `tryEmit(value)`: emits `'error'` with no listener and says the
    /// message of what it throws.
    fn try_emit<E: Event>(event: E, payload: E::Payload) {
        let e = EventEmitter::new();
        match catch_unwind(AssertUnwindSafe(|| e.emit(event, payload))) {
            Ok(_) => say("not reached"),
            Err(caught) => say(format!("caught: {}", panic_message(&*caught))),
        }
    }
    evloop::events! {
        struct Text("error"): String;
        struct Str("error"): &'static str;
        struct Int("error"): i32;
        struct Float("error"): f64;
        struct Bool("error"): bool;
        struct Nothing("error"): ();
    }
    let (name, out) = node_expected!("emitter", "unhandled_error_payload");
    check(name, out, || {
        try_emit(Text, "some string".to_string());
        try_emit(Str, "it's");
        try_emit(Str, "say \"it's\"");
        try_emit(Text, "tab\there\nnewline \\ backslash".to_string());
        try_emit(Int, 42);
        try_emit(Int, -7);
        try_emit(Float, 1.5);
        try_emit(Float, 2.0);
        try_emit(Bool, true);
        try_emit(Nothing, ());
    });
}

#[test]
fn listeners_and_error_monitor() {
    let _w = common::watchdog();
    evloop::events! {
        struct X("x"): ();
    }
    let (name, out) = node_expected!("emitter", "listeners_and_error_monitor");
    check(name, out, || {
        let e = EventEmitter::new();
        let a = Listener::new(|_: &()| {});
        e.on_listener(X, &a);
        let b = e.once(X, |_| {});
        let c = e.prepend_listener(X, |_| {});
        e.on_listener(X, &a);
        let a = a.id();
        let name_of = move |id: ListenerId| match id {
            id if id == a => "a",
            id if id == b => "b",
            id if id == c => "c",
            _ => "?",
        };
        let names =
            move |ids: Vec<ListenerId>| ids.into_iter().map(name_of).collect::<Vec<_>>().join(" ");
        say(format!("listeners: {}", names(e.listeners("x"))));
        let raw: Vec<String> = e
            .raw_listeners("x")
            .into_iter()
            .map(|(id, once)| match once {
                true => format!("once({})", name_of(id)),
                false => name_of(id).to_string(),
            })
            .collect();
        say(format!("raw: {}", raw.join(" ")));
        e.emit(X, ());
        say(format!("after emit: {}", names(e.listeners("x"))));
        say(format!("listeners of none: {}", e.listeners("none").len()));
        e.on(ErrorMonitor(Error), |err| {
            say(format!("monitor 1 saw {err}"))
        });
        e.on(ErrorMonitor(Error), |err| {
            say(format!("monitor 2 saw {err}"))
        });
        say(format!(
            "error listeners: {}",
            e.listener_count(Error::NAME)
        ));
        match catch_unwind(AssertUnwindSafe(|| e.emit(Error, 1))) {
            Ok(_) => say("not reached"),
            Err(caught) => say(format!("caught: {}", panic_message(&*caught))),
        }
        e.on(Error, |err| say(format!("listener saw {err}")));
        say(format!("emit error: {}", e.emit(Error, 2)));
    });
}

#[test]
fn on_event_order() {
    let _w = common::watchdog();
    evloop::events! {
        struct Data("data"): &'static str;
    }
    fn counts(e: &EventEmitter) -> String {
        format!(
            "data listeners {}, error listeners {}",
            e.listener_count("data"),
            e.listener_count("error")
        )
    }
    let (name, out) = node_expected!("emitter", "on_event_order");
    check(name, out, || {
        let e = EventEmitter::new();
        let me = e.clone();
        spawn(async move {
            say("consumer starts");
            let mut it = on_event_or_error(&me, Data, Error);
            let mut broke = false;
            while let Some(v) = it.next().await {
                let v = v.expect("no error is emitted");
                say(format!("got {v}"));
                if v == "i2" {
                    broke = true;
                    break;
                }
            }
            if broke {
                it.close().await; // what `break` does in `for await`
            }
            say(format!("after the loop: {}", counts(&me)));
        })
        .detach();
        say(counts(&e));
        e.emit(Data, "s1");
        e.emit(Data, "s2");
        count_microtasks("main", 1, 3);
        let me = e.clone();
        next_tick(move || {
            say("tick emits t1");
            me.emit(Data, "t1");
        });
        let me = e.clone();
        set_immediate(move || {
            count_microtasks("immediate", 1, 3);
            say("immediate emits i1");
            me.emit(Data, "i1");
            say("immediate emitted i1");
        });
        let me = e.clone();
        set_immediate(move || {
            say("second immediate emits i2 and i3");
            me.emit(Data, "i2");
            say(format!("emit i3: {}", me.emit(Data, "i3")));
            queue_microtask(move || {
                say(format!("emit i4: {}, {}", me.emit(Data, "i4"), counts(&me)))
            });
        });
        set_immediate(move || say(format!("third immediate: {}", counts(&e))));
        say("main ends");
    });
}

#[test]
fn on_event_error() {
    let _w = common::watchdog();
    evloop::events! {
        struct X("x"): i32;
    }
    /// The script's `consume(label)`: `for await` inside `try`.
    fn consume(e: &EventEmitter, label: &'static str) {
        let e = e.clone();
        spawn(async move {
            let mut it = on_event_or_error(&e, X, Error);
            while let Some(item) = it.next().await {
                match item {
                    Ok(v) => say(format!("{label} got {v}")),
                    Err(err) => return say(format!("{label} threw {err}")),
                }
            }
            say(format!("{label} ended"));
        })
        .detach();
    }
    let (name, out) = node_expected!("emitter", "on_event_error");
    check(name, out, || {
        let e = EventEmitter::new();
        consume(&e, "first");
        let me = e.clone();
        set_timeout(50, move || {
            queue_microtask(|| say("timer microtask"));
            say(format!("emit error: {}", me.emit(Error, 7)));
            say(counts(&me));
            say(format!("emit x: {}", me.emit(X, 1)));
        });
        let me = e.clone();
        set_timeout(100, move || {
            consume(&me, "second");
            me.emit(X, 2);
            me.emit(X, 3);
            say(format!("emit error: {}", me.emit(Error, 8)));
            say(counts(&me));
            queue_microtask(|| say("timer microtask"));
        });
        set_timeout(150, move || {
            consume(&e, "third");
            e.emit(X, 4);
            e.emit(Error, 9);
            let caught = catch_unwind(AssertUnwindSafe(|| e.emit(Error, 10)))
                .expect_err("no error listener left");
            say(format!("caught: {}", panic_message(&*caught)));
        });
    });
}

#[test]
fn on_event_close() {
    let _w = common::watchdog();
    evloop::events! {
        struct X("x"): i32;
        struct End("end"): ();
    }
    fn counts(e: &EventEmitter) -> String {
        format!(
            "x listeners {}, end listeners {}, error listeners {}",
            e.listener_count("x"),
            e.listener_count("end"),
            e.listener_count("error")
        )
    }
    let (name, out) = node_expected!("emitter", "on_event_close");
    check(name, out, || {
        let e = EventEmitter::new();
        let it = on_event_or_error(&e, X, Error).close_on(End);
        spawn(async move {
            let mut it = it;
            while let Some(v) = it.next().await {
                say(format!("first got {}", v.expect("no error")));
            }
            say("first ended");
        })
        .detach();
        say(counts(&e));
        let me = e.clone();
        set_timeout(50, move || {
            me.emit(X, 1);
            me.emit(X, 2);
            say(format!("emit end: {}", me.emit(End, ())));
            say(counts(&me));
            say(format!("emit x: {}", me.emit(X, 3)));
        });
        set_timeout(100, move || {
            let it = on_event_or_error(&e, X, Error);
            let closer = it.closer();
            spawn(async move {
                let mut it = it;
                while let Some(v) = it.next().await {
                    say(format!("second got {}", v.expect("no error")));
                }
                say("second ended");
            })
            .detach();
            set_immediate(move || {
                e.emit(X, 4);
                queue_microtask(|| say("immediate microtask"));
                say("return from outside");
                closer.close();
                say(counts(&e));
            });
        });
    });
}

/// Known differences (design.md): evloop's closer, which stands for the
/// `signal` option, ends the stream where an aborted signal rejects with an
/// `AbortError`; and a stream whose listener is removed by someone else
/// ends, with its `'error'` listener removed too, where Node's iterator
/// waits forever.
#[test]
fn on_event_abort() {
    let _w = common::watchdog();
    evloop::events! {
        struct X("x"): i32;
    }
    let (name, out) = node_expected!("emitter", "on_event_abort");
    let edits = [
        ("first threw AbortError", Some("first ended")),
        (
            "removed: x listeners 0, error listeners 1",
            Some("removed: x listeners 0, error listeners 0"),
        ),
        ("second ended: false", Some("second ended: true")),
    ];
    crate::node_order::check_known_difference(name, out, &edits, || {
        let e = EventEmitter::new();
        let it = on_event_or_error(&e, X, Error);
        let closer = it.closer();
        spawn(async move {
            let mut it = it;
            while let Some(item) = it.next().await {
                match item {
                    Ok(v) => say(format!("first got {v}")),
                    Err(err) => return say(format!("first threw {err}")),
                }
            }
            say("first ended");
        })
        .detach();
        let me = e.clone();
        set_timeout(50, move || {
            me.emit(X, 1);
            closer.close();
            say(format!("aborted: {}", counts(&me)));
        });
        let second_ended = Rc::new(Cell::new(false));
        let ended = second_ended.clone();
        set_timeout(100, move || {
            let me = e.clone();
            spawn(async move {
                let mut it = on_event_or_error(&me, X, Error);
                while let Some(v) = it.next().await {
                    say(format!("second got {}", v.expect("no error")));
                }
                ended.set(true);
            })
            .detach();
            set_immediate(move || {
                e.emit(X, 2);
                e.remove_all_listeners(Some("x"));
                say(format!("removed: {}", counts(&e)));
            });
        });
        set_timeout(150, move || {
            say(format!("second ended: {}", second_ended.get()))
        });
    });
}

/// Every scenario in `tests/node/emitter` has a test above.
#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("emitter", include_str!("emitter.rs"));
}

/// When `node` is on PATH, re-runs every `tests/node/emitter/*.js` and
/// checks its stdout still equals its `.out` (stderr, where the leak warning
/// goes, is ignored).
#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("emitter", 13);
}

/// The listener counts the `on_event` scripts print.
fn counts(e: &EventEmitter) -> String {
    format!(
        "x listeners {}, error listeners {}",
        e.listener_count("x"),
        e.listener_count("error")
    )
}
