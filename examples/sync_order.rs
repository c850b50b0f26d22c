//! Article: "The Single-Threaded Nature of JavaScript".
//!
//! ```javascript
//! console.log("First");
//! console.log("Second");
//! console.log("Third");
//! ```
//!
//! Synchronous code runs top to bottom on the one thread: each statement
//! finishes before the next starts. `evloop::run` runs its closure as the
//! "main script"; nothing here goes through the event loop's queues, so the
//! loop has nothing to do afterwards and `run` returns.
//!
//! `cargo run --example sync_order -- --explain` adds narration (`» ...`).

mod support;

use support::explain;

fn main() {
    support::init();
    evloop::run(|| {
        println!("First");
        println!("Second");
        println!("Third");
        explain!("the main script ran top to bottom on the call stack and queued nothing:");
        explain!("no next tick, microtask, timer or I/O, so the loop has no work and run returns");
    });
}
