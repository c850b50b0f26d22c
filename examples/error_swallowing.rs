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
//! Two calls of the same failing operation (a stub: it fails after 50 ms),
//! started together. Both chains are fired and forgotten. With the empty
//! handler the error vanishes: nothing, anywhere, says it happened. With a
//! real handler it is logged (stderr) and the user is told (the stub
//! `notifyUser` shows nothing but `--explain` narration). So stdout stays
//! empty, as Node's does; run it in a terminal to see the one error line.
//!
//! A failing operation is an async fn returning `Result`; calling it is
//! `evloop::spawn`, and `evloop::Thenable::catch` on its task is `.catch`:
//! it runs its callback, as a microtask, when the operation fails, and the
//! chain starts at once, whether or not anything awaits it. `.catch(|_| {})` is the empty
//! handler: it compiles silently and swallows the error just the same.
//! Without any `.catch`, a detached chain that ends in an error is an
//! unhandled rejection, as in Node: by default an uncaught panic naming
//! the chain's last link.
//!
//! `cargo run --example error_swallowing -- --explain` adds narration
//! (`» ...`).

mod support;

use std::io;

use evloop::Thenable;
use support::explain;

/// Stubs the snippet assumes (not in the article): an operation that fails
/// after 50 ms, and a way to tell the user.
async fn some_async_function() -> io::Result<()> {
    evloop::sleep(50).await;
    Err(io::Error::other("connection refused"))
}

fn notify_user(message: &str) {
    explain!("notifyUser: {message}");
}

fn main() {
    support::init();
    evloop::run(|| {
        // Bad: Errors are swallowed
        evloop::spawn(some_async_function())
            .catch(|_| {
                explain!("the empty .catch ran: the error is gone without a trace");
            })
            .detach();

        // Good: Errors are logged or handled appropriately
        evloop::spawn(some_async_function())
            .catch(|err| {
                eprintln!("Operation failed: {err}");
                notify_user(&format!("Operation failed: {err}"));
            })
            .detach();
    });
}
