//! The free functions that act on the current loop (the one running, or
//! entered, on this thread): [`now`], [`hrtime`], [`block_for`], [`stop`],
//! [`walk`], [`handle`], [`set_uncaught_panic_handler`]. Each finds it
//! through `context::with_core` and panics clearly without one.

use std::time::Duration;

use crate::rt::context::with_core;
use crate::rt::core::Core;
use crate::rt::panic::UncaughtPanic;
use crate::rt::remote::LoopHandle;
use crate::rt::walk::HandleInfo;

/// Every handle of the current loop (libuv's `uv_walk`), referenced or
/// not, active or not: timers (by deadline), immediates (in run order),
/// idle, prepare and check handles (stopped and closing ones too), TCP
/// servers and sockets, thread-pool jobs whose callback has not run, and
/// one entry per referenced [`LoopHandle`].
///
/// Node's `process.getActiveResourcesInfo()` answers "what keeps my loop
/// alive?" by listing the referenced ones; the same, here, is the entries
/// that [`keep the loop alive`](HandleInfo::keeps_alive), named as Node
/// names them where it can ([`HandleKind::name`](crate::HandleKind::name)). Next ticks, microtasks,
/// tasks and the callbacks waiting in the pending and close queues are not
/// handles: [`snapshot`](crate::snapshot) counts those.
///
/// # Panics
/// If no event loop is running on this thread.
///
/// ```
/// evloop::run(|| {
///     let timer = evloop::set_timeout(1000, || {});
///     evloop::set_timeout(5, || {}).unref();
///     evloop::set_immediate(|| {});
///     let server = evloop::net::create_server(|_| {});
///     server.listen("127.0.0.1:0").unwrap();
///     let alive: Vec<&str> = evloop::walk()
///         .iter()
///         .filter(|h| h.keeps_alive())
///         .map(|h| h.kind.name())
///         .collect();
///     // Node prints the same names, in its own order:
///     // [ 'TCPServerWrap', 'Timeout', 'Immediate' ]
///     assert_eq!(alive, ["Timeout", "Immediate", "TCPServerWrap"]);
///     // The unref'd timer is listed too, as not referenced.
///     assert_eq!(evloop::walk().len(), 4);
///     timer.clear();
///     server.close(|| {});
/// });
/// ```
pub fn walk() -> Vec<HandleInfo> {
    with_core("walk", Core::walk)
}

/// The current loop's cached time in milliseconds since it was created
/// (`uv_now`); constant within one callback unless the loop iterates.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn now() -> u64 {
    with_core("now", |core| core.clock.now_ms())
}

/// The current loop's high-resolution clock in nanoseconds since it was
/// created (`process.hrtime.bigint()`, relative). Under virtual time it is the
/// virtual clock.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn hrtime() -> u64 {
    with_core("hrtime", |core| core.clock.hrtime_ns())
}

/// Holds the current loop for `duration`, as CPU-bound work in a callback
/// does (the `while (Date.now() < end) {}` of Node's examples): nothing else
/// on the loop runs meanwhile, and timers that come due during it wait for
/// the next timers phase.
///
/// Under real time the thread sleeps. Under virtual time, where the clock
/// otherwise stands still while callbacks run, the clock moves forward by
/// `duration` at once: a program that blocks its loop orders as it would in
/// real time, instantly and the same on every run. In both, [`now`] keeps
/// the value this iteration already read (as `uv_now` does after a busy
/// wait); [`hrtime`] and new timers see the later time.
///
/// ```
/// let lp = evloop::EventLoop::builder().virtual_time(true).build().unwrap();
/// let late = lp.run_main(|| {
///     evloop::block_for(std::time::Duration::from_millis(50));
///     evloop::hrtime() / 1_000_000
/// });
/// assert_eq!(late, 50);
/// ```
///
/// # Panics
/// If no event loop is running on this thread.
pub fn block_for(duration: Duration) {
    let virtual_clock = with_core("block_for", |core| {
        core.clock.advance(duration.as_nanos() as u64)
    });
    if !virtual_clock {
        std::thread::sleep(duration);
    }
}

/// Installs (or with `None`, removes) the current loop's handler for panics
/// escaping callbacks, like `process.on('uncaughtException')`: the handler
/// runs right away with the panic, then the loop goes on with the next
/// callback. A panic inside the handler itself unwinds out of the run.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn set_uncaught_panic_handler(handler: Option<Box<dyn FnMut(UncaughtPanic)>>) {
    let old = with_core("set_uncaught_panic_handler", |core| {
        std::mem::replace(&mut *core.panic_handler.borrow_mut(), handler)
    });
    drop(old);
}

/// Asks the current loop to stop after this iteration (`uv_stop`).
///
/// # Panics
/// If no event loop is running on this thread.
pub fn stop() {
    with_core("stop", |core| core.stop.set(true));
}

/// A referenced cross-thread handle to the current loop.
///
/// # Panics
/// If no event loop is running on this thread.
pub fn handle() -> LoopHandle {
    with_core("handle", |core| core.inbox.handle())
}
