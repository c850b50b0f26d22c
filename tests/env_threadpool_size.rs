//! `EVLOOP_THREADPOOL_SIZE`: every bad value (not UTF-8 included) is an
//! `InvalidInput` error from `build()` naming the variable and its value
//! (and a clear panic from `evloop::run`); good values, with spaces trimmed,
//! size the pool; empty or blank is unset; an explicit
//! `Builder::threadpool_size` wins over the variable. Alone in its
//! test binary, and one test, because it changes the process environment.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::panic::catch_unwind;

mod common;

use evloop::{EventLoop, ParentPort, Worker, WorkerError};

fn set(value: Option<&str>) {
    set_os(value.map(OsStr::new));
}

fn set_os(value: Option<&OsStr>) {
    common::env::set("EVLOOP_THREADPOOL_SIZE", value);
}

#[test]
fn bad_threadpool_sizes_in_the_environment_are_clear_errors() {
    let _w = common::watchdog();
    for bad in [
        "0",
        "1025",
        "-1",
        "4.5",
        "abc",
        "0x10",
        "99999999999999999999",
    ]
    .map(OsString::from)
    .into_iter()
    // Not UTF-8: "4" then a lone continuation byte (once silently ignored).
    .chain([OsStr::from_bytes(b"4\x80").to_owned()])
    {
        set_os(Some(&bad));
        let e = EventLoop::new().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "EVLOOP_THREADPOOL_SIZE={bad:?}: the thread pool size must be a whole number \
                 from 1 to 1024"
            )
        );
        let payload = catch_unwind(|| evloop::run(|| {})).unwrap_err();
        let message = payload.downcast_ref::<String>().unwrap();
        assert_eq!(
            message,
            &format!("evloop: cannot create an event loop: {e}")
        );
    }

    // The value that is not UTF-8, as the message shows it.
    set_os(Some(OsStr::from_bytes(b"4\x80")));
    assert!(
        EventLoop::new()
            .unwrap_err()
            .to_string()
            .starts_with(r#"EVLOOP_THREADPOOL_SIZE="4\x80": "#)
    );

    // An explicit size wins over a bad variable, and a worker, whose loop
    // reads the variable, cannot start: an error event, then exit 1.
    set(Some("abc"));
    let lp = EventLoop::builder().threadpool_size(2).build().unwrap();
    assert!(common::peak_pool_concurrency(&lp, 8) <= 2);
    let error = lp.run_async(async {
        let worker = Worker::spawn(|_port: ParentPort<(), ()>| {
            unreachable!("the worker has no loop to run in")
        });
        let error = std::rc::Rc::new(std::cell::RefCell::new(None));
        let e = error.clone();
        worker.on_error(move |err| *e.borrow_mut() = Some(err));
        assert_eq!(worker.exited().await, 1);
        error.borrow_mut().take()
    });
    assert_eq!(
        error,
        Some(WorkerError::StartFailed(
            "cannot create its event loop: EVLOOP_THREADPOOL_SIZE=\"abc\": the thread pool \
             size must be a whole number from 1 to 1024"
                .into()
        ))
    );

    // Good values, spaces trimmed; the boundaries.
    set(Some(" 1 "));
    let lp = EventLoop::new().unwrap();
    assert_eq!(
        common::peak_pool_concurrency(&lp, 8),
        1,
        "EVLOOP_THREADPOOL_SIZE=1"
    );
    set(Some("1024"));
    assert!(EventLoop::new().is_ok());
    set(Some("3"));
    let lp = EventLoop::new().unwrap();
    let peak = common::peak_pool_concurrency(&lp, 8);
    assert!(
        (1..=3).contains(&peak),
        "{peak} jobs at once on a pool of 3"
    );
    // Unset, empty or blank: the default pool of 4.
    for unset in [None, Some(""), Some("  ")] {
        set(unset);
        let lp = EventLoop::new().unwrap_or_else(|e| panic!("{unset:?}: {e}"));
        let peak = common::peak_pool_concurrency(&lp, 8);
        assert!(
            (1..=4).contains(&peak),
            "{peak} jobs at once on a pool of 4"
        );
    }
}
