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

fn main() {
    evloop::run(|| {
        println!("First");
        println!("Second");
        println!("Third");
    });
}
