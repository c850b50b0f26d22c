//! Promise chains (`evloop::Thenable`): what the Node scenarios cannot show.
//! The order of `.then` / `.catch` / `.finally` against Node is in
//! tests/node/node_async.rs (`then_*`); here, that a chain runs without
//! being awaited, and that a chain ending in a rejection nobody handles is
//! reported like Node's unhandled rejection, at the line of its last link.

use std::cell::{Cell, RefCell};
use std::future::ready;
use std::rc::Rc;

use crate::common;
use crate::common::virtual_loop;

use evloop::{Thenable, sleep};

#[test]
fn a_chain_runs_without_being_awaited() {
    let _w = common::watchdog();
    let steps = Rc::new(Cell::new(0));
    let s = steps.clone();
    virtual_loop().run_main(move || {
        let (a, b) = (s.clone(), s.clone());
        async {
            sleep(10).await;
            Ok::<u32, String>(1)
        }
        .then(move |v| a.set(a.get() + v))
        .finally(move || b.set(b.get() + 10))
        .detach();
        // Nothing has run yet: the first link waits for the timer.
        assert_eq!(s.get(), 0);
    });
    assert_eq!(steps.get(), 11);
}

#[test]
fn an_unhandled_rejection_at_the_end_of_a_chain_is_reported_at_its_last_link() {
    let _w = common::watchdog();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let r = reports.clone();
    let last_link = virtual_loop().run_main(move || {
        evloop::process::on(evloop::process::UnhandledRejection, move |rejection| {
            r.borrow_mut().push(rejection.clone());
        });
        // Caught: nothing to report.
        ready(Err::<(), _>("caught"))
            .then(|()| ())
            .catch(|_| ())
            .detach();
        // The rejection passes through `then` and `finally`, and nothing
        // handles it: one report, naming the `finally` line.
        let chain = ready(Err::<(), _>("nobody handles it")).then(|()| ());
        let last_link = line!() + 1;
        chain.finally(|| ()).detach();
        last_link
    });
    let reports = reports.borrow();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].reason(), "\"nobody handles it\"");
    assert_eq!(
        (reports[0].site().file(), reports[0].site().line()),
        (file!(), last_link)
    );
}
