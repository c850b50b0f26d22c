//! Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 3.
//! "Error swallowing".
//!
//! ```javascript
//! // Bad: Errors are swallowed
//! someAsyncFunction().catch(() => {});
//!
//! // Good: Errors are logged or handled appropriately
//! someAsyncFunction().catch(err => {
//!   console.error('Operation failed:', err);
//!   notifyUser('Operation failed: ' + err.message);
//! });
//! ```
//!
//! The same failing operation twice. With the empty handler the error
//! vanishes: the program carries on as if nothing happened. With a real
//! handler it is logged (on stderr) and the user is told.
//!
//! A failing operation is an async fn returning `Result`. Rust makes you say
//! what to do with the `Result` (it is `#[must_use]`), but `let _ = ...` is
//! the empty `.catch(() => {})`: it compiles silently and swallows the error
//! just the same. The good version matches on the error. (For a task that is
//! spawned and never awaited, `evloop::spawn_fallible` reports an `Err`
//! nobody observed, like Node's unhandled rejection warning.)

use std::io;

/// Stubs the snippet assumes (not in the article): an operation that fails
/// after 50 ms, and a way to tell the user.
async fn some_async_function() -> io::Result<()> {
    evloop::sleep(50).await;
    Err(io::Error::other("connection refused"))
}

fn notify_user(message: &str) {
    println!("[to the user] {message}");
}

fn main() {
    evloop::run_async(async {
        println!("Bad: errors are swallowed");
        // Bad: Errors are swallowed
        let _ = some_async_function().await;
        println!("...the operation failed, and nobody heard about it");

        println!("Good: errors are logged and reported");
        // Good: Errors are logged or handled appropriately
        if let Err(err) = some_async_function().await {
            eprintln!("Operation failed: {err}");
            notify_user(&format!("Operation failed: {err}"));
        }
    });
}
