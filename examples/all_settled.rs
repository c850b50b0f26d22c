//! Article: "Common Concurrency Patterns and Challenges", "Error Handling in
//! Concurrent Operations", "With Promise.allSettled (handles mixed results)".
//!
//! ```javascript
//! async function handleErrorsWithPromiseAllSettled() {
//!   const results = await Promise.allSettled([
//!     asyncOperation1(),
//!     asyncOperation2(),
//!     asyncOperation3()
//!   ]);
//!   const successful = results
//!     .filter(r => r.status === 'fulfilled')
//!     .map(r => r.value);
//!   const failed = results
//!     .filter(r => r.status === 'rejected')
//!     .map(r => r.reason);
//!   console.log(`${successful.length} operations succeeded, ${failed.length} failed`);
//!   if (failed.length > 0) {
//!     console.error('Failed operations:', failed);
//!   }
//!   return successful;
//! }
//! ```
//!
//! The example calls the function once, as the golden script does, with
//! stubs for the three operations (200, 100 and 300 ms) where operation 2
//! fails. Operation 2 fails at 100 ms, but `Promise.allSettled` waits for
//! all three and reports every outcome, in input order.
//! `evloop::all_settled` gives a `Vec<Result<T, E>>`: `Ok(value)` is
//! `{ status: 'fulfilled', value }`, `Err(reason)` is
//! `{ status: 'rejected', reason }`, so the two filters are a `partition` on
//! `is_ok`.
//!
//! `cargo run --example all_settled -- --explain` adds narration (`» ...`).

mod support;

use support::explain;

/// Stubs the snippet assumes (not in the article): three operations of
/// different lengths; operation 2 fails.
async fn async_operation1() -> Result<&'static str, String> {
    evloop::sleep(200).await;
    explain!("operation 1 finished at {} ms", evloop::now());
    Ok("result 1")
}

async fn async_operation2() -> Result<&'static str, String> {
    evloop::sleep(100).await;
    explain!(
        "operation 2 rejects at {} ms; allSettled waits on",
        evloop::now()
    );
    Err("Error: operation 2 failed".to_string())
}

async fn async_operation3() -> Result<&'static str, String> {
    evloop::sleep(300).await;
    explain!(
        "operation 3 finished at {} ms: all three have settled",
        evloop::now()
    );
    Ok("result 3")
}

async fn handle_errors_with_promise_all_settled() -> Vec<&'static str> {
    // Calling an async function starts it: spawn each one.
    let results = evloop::all_settled([
        evloop::spawn(async_operation1()),
        evloop::spawn(async_operation2()),
        evloop::spawn(async_operation3()),
    ])
    .await;

    // Process results based on status
    let (fulfilled, rejected): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    let successful: Vec<&str> = fulfilled.into_iter().filter_map(Result::ok).collect();
    let failed: Vec<String> = rejected.into_iter().filter_map(Result::err).collect();

    println!(
        "{} operations succeeded, {} failed",
        successful.len(),
        failed.len()
    );

    if !failed.is_empty() {
        eprintln!("Failed operations: {failed:?}");
    }

    explain!("returns {successful:?}");
    successful
}

fn main() {
    support::init();
    evloop::run(|| {
        // The call (not in the article): `handleErrorsWithPromiseAllSettled();`.
        evloop::spawn(handle_errors_with_promise_all_settled()).detach();
    });
}
