//! Article: "Common Concurrency Patterns and Challenges", "Error Handling in
//! Concurrent Operations", "With Promise.all (fails fast)".
//!
//! ```javascript
//! async function handleErrorsWithPromiseAll() {
//!   try {
//!     const results = await Promise.all([
//!       asyncOperation1(),
//!       asyncOperation2(),
//!       asyncOperation3()
//!     ]);
//!     console.log('All operations succeeded');
//!     return results;
//!   } catch (error) {
//!     console.error('An operation failed:', error);
//!     // Promise.all fails fast - if any promise rejects, the whole thing fails
//!     return null;
//!   }
//! }
//! ```
//!
//! The example calls the function once, as the golden script does, with
//! stubs for the three operations (200, 100 and 300 ms) where operation 2
//! fails. `Promise.all` rejects as soon as operation 2 does, at 100 ms,
//! without waiting for the other two: the `catch` reports the error, on
//! stderr, so stdout stays empty, as Node's does. Operations 1 and 3 keep
//! running and finish afterwards, unobserved: a promise cannot be
//! cancelled. `--explain` narrates that timeline.
//!
//! `Promise.all` with rejections is `evloop::try_join_all`; `try`/`catch`
//! is a `match` on its `Result`, and `null` is `None`. Calling an async
//! function starts it in JavaScript, so each operation is `spawn`ed: a
//! `Task` that loses the race is only detached and runs on, exactly like the
//! JavaScript promise. (Handing `try_join_all` the bare futures instead would
//! cancel operations 1 and 3 when operation 2 fails.)
//!
//! `cargo run --example all_fail_fast -- --explain` adds narration
//! (`» ...`).

mod support;

use support::explain;

/// Stubs the snippet assumes (not in the article): three operations of
/// different lengths; operation 2 fails.
async fn async_operation1() -> Result<&'static str, String> {
    evloop::sleep(200).await;
    explain!(
        "operation 1 finished at {} ms, after the catch: nobody awaits it",
        evloop::now()
    );
    Ok("result 1")
}

async fn async_operation2() -> Result<&'static str, String> {
    evloop::sleep(100).await;
    explain!("operation 2 rejects at {} ms", evloop::now());
    Err("Error: operation 2 failed".to_string())
}

async fn async_operation3() -> Result<&'static str, String> {
    evloop::sleep(300).await;
    explain!("operation 3 finished at {} ms", evloop::now());
    Ok("result 3")
}

async fn handle_errors_with_promise_all() -> Option<Vec<&'static str>> {
    let all = evloop::try_join_all([
        evloop::spawn(async_operation1()),
        evloop::spawn(async_operation2()),
        evloop::spawn(async_operation3()),
    ]);
    match all.await {
        Ok(results) => {
            println!("All operations succeeded");
            Some(results)
        }
        Err(error) => {
            explain!("Promise.all rejects with it at once: the catch runs (stderr), returns null");
            eprintln!("An operation failed: {error}");
            // try_join_all fails fast - if any task fails, the whole thing fails
            None
        }
    }
}

fn main() {
    support::init();
    evloop::run(|| {
        // The call (not in the article): `handleErrorsWithPromiseAll();`.
        evloop::spawn(handle_errors_with_promise_all()).detach();
    });
}
