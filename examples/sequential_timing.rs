//! Article: "Common Concurrency Patterns and Challenges", "Sequential
//! Execution".
//!
//! ```javascript
//! async function sequentialExecution() {
//!   const start = Date.now();
//!   // Operation 1
//!   const result1 = await someAsyncOperation('operation1');
//!   console.log('Operation 1 completed in', Date.now() - start, 'ms');
//!   // Operation 2 (uses result from Operation 1)
//!   const result2 = await someAsyncOperation(result1);
//!   console.log('Operation 2 completed in', Date.now() - start, 'ms');
//!   // Operation 3 (uses result from Operation 2)
//!   const result3 = await someAsyncOperation(result2);
//!   console.log('Operation 3 completed in', Date.now() - start, 'ms');
//!   return result3;
//! }
//! ```
//!
//! Each operation takes one second and starts only when the one before has
//! finished (it needs its result), so the times add up: about 1000, 2000 and
//! 3000 ms. `evloop::now()` is the loop's clock in milliseconds; with
//! `EVLOOP_VIRTUAL_TIME=1` the loop jumps straight to the next timer when it
//! is idle, so the program finishes at once and prints exactly 1000, 2000
//! and 3000. The article only defines the function; the example calls it
//! once, as the golden script does (`sequentialExecution();`).
//!
//! `cargo run --example sequential_timing -- --explain` adds narration
//! (`» ...`), among it what the function returns.

mod support;

use support::explain;

/// Stub the snippet assumes (not in the article): an operation that takes
/// one second and returns a result made from its input.
async fn some_async_operation(input: String) -> String {
    evloop::sleep(1000).await;
    explain!("{input}: its 1000 ms timer fired; the awaits resume in microtasks after it");
    format!("result({input})")
}

async fn sequential_execution() -> String {
    let start = evloop::now();

    // Operation 1
    let result1 = some_async_operation("operation1".to_string()).await;
    println!("Operation 1 completed in {} ms", evloop::now() - start);

    // Operation 2 (uses result from Operation 1)
    let result2 = some_async_operation(result1).await;
    println!("Operation 2 completed in {} ms", evloop::now() - start);

    // Operation 3 (uses result from Operation 2)
    let result3 = some_async_operation(result2).await;
    println!("Operation 3 completed in {} ms", evloop::now() - start);

    explain!("returns {result3}");
    result3
}

fn main() {
    support::init();
    evloop::run(|| {
        // The call (not in the article): `sequentialExecution();`.
        evloop::spawn(sequential_execution()).detach();
    });
}
