//! Article: "A Simple Example of Asynchronous Execution".
//!
//! ```javascript
//! console.log("Start");
//!
//! setTimeout(() => {
//!   console.log("Timer finished");
//! }, 1000);
//!
//! console.log("End");
//! ```
//!
//! Prints `Start`, `End`, `Timer finished`. `set_timeout` only registers the
//! callback with the loop's timers and returns at once, so the main script
//! goes on to print `End`. When the main script is done, the loop waits;
//! after 1000 ms the timers phase runs the callback.
//!
//! `cargo run --example set_timeout_order -- --explain` adds narration
//! (`» ...`).

mod support;

use support::explain;

fn main() {
    support::init();
    evloop::run(|| {
        println!("Start");

        // The returned `Timer` could cancel it (`clear_timeout`); not needed.
        evloop::set_timeout(1000, || {
            explain!("1000 ms later the timers phase takes the callback off the timers queue");
            println!("Timer finished");
            explain!("nothing is left in any queue: the loop exits");
        });
        explain!("set_timeout put the callback in the timers queue (due in 1000 ms) and returned");

        println!("End");
        explain!("the main script is done; the loop waits in the poll phase for the timer");
    });
}
