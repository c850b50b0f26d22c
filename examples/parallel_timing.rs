//! Article: "Common Concurrency Patterns and Challenges", "Parallel
//! Execution".
//!
//! ```javascript
//! async function parallelExecution() {
//!   const start = Date.now();
//!   // Start all operations concurrently
//!   const promise1 = someAsyncOperation('operation1');
//!   const promise2 = someAsyncOperation('operation2');
//!   const promise3 = someAsyncOperation('operation3');
//!   // Wait for all to complete
//!   const [result1, result2, result3] = await Promise.all([
//!     promise1, promise2, promise3
//!   ]);
//!   console.log('All operations completed in', Date.now() - start, 'ms');
//!   return { result1, result2, result3 };
//! }
//! ```
//!
//! The three one-second operations wait at the same time, so all are done
//! after about one second, not three. In JavaScript, calling
//! `someAsyncOperation` starts it; a Rust future starts only when polled, so
//! each one is `spawn`ed to start it right there, and the `Task` handles are
//! the promises. `join!` is `await Promise.all([...])` with destructuring.
//! With `EVLOOP_VIRTUAL_TIME=1` the loop jumps straight to the timers'
//! deadline and prints exactly 1000 ms. The article only defines the
//! function; the example calls it once, as the golden script does
//! (`parallelExecution();`).
//!
//! `cargo run --example parallel_timing -- --explain` adds narration
//! (`» ...`), among it what the function returns.

mod support;

use support::explain;

/// Stub the snippet assumes (not in the article): an operation that takes
/// one second and returns a result made from its input.
async fn some_async_operation(input: String) -> String {
    evloop::sleep(1000).await;
    explain!("{input}: its timer fired, in the same timers phase as the others");
    format!("result({input})")
}

async fn parallel_execution() -> (String, String, String) {
    let start = evloop::now();

    // Start all operations concurrently
    let promise1 = evloop::spawn(some_async_operation("operation1".to_string()));
    let promise2 = evloop::spawn(some_async_operation("operation2".to_string()));
    let promise3 = evloop::spawn(some_async_operation("operation3".to_string()));
    explain!("three timers of 1000 ms started together");

    // Wait for all to complete
    let (result1, result2, result3) = evloop::join!(promise1, promise2, promise3);

    println!("All operations completed in {} ms", evloop::now() - start);

    explain!("returns {{ result1: {result1}, result2: {result2}, result3: {result3} }}");
    (result1, result2, result3)
}

fn main() {
    support::init();
    evloop::run(|| {
        // The call (not in the article): `parallelExecution();`.
        evloop::spawn(parallel_execution()).detach();
    });
}
