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

fn main() {
    evloop::run(|| {
        println!("Start");

        // The returned `Timer` could cancel it (`clear_timeout`); not needed.
        evloop::set_timeout(1000, || {
            println!("Timer finished");
        });

        println!("End");
    });
}
