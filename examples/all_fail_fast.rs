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
//! Run twice: first every operation succeeds and the results come back in
//! input order (not finishing order); then operation 2 fails at 100 ms and
//! `Promise.all` rejects right then, without waiting for the other two.
//! Those keep running and finish afterwards: a promise cannot be cancelled.
//!
//! `Promise.all` with rejections is `evloop::try_join_all`; `try`/`catch`
//! is a `match` on its `Result`, and `null` is `None`. Calling an async
//! function starts it in JavaScript, so each operation is `spawn`ed: a
//! `Task` that loses the race is only detached and runs on, exactly like the
//! JavaScript promise. (Handing `try_join_all` the bare futures instead would
//! cancel operations 1 and 3 when operation 2 fails, and their lines would
//! never print.)

use std::sync::atomic::{AtomicBool, Ordering};

/// Stubs the snippet assumes (not in the article): three operations of
/// different lengths; operation 2 fails when `FAIL_OPERATION_2` is set.
static FAIL_OPERATION_2: AtomicBool = AtomicBool::new(false);

async fn async_operation1() -> Result<&'static str, String> {
    evloop::sleep(200).await;
    println!("operation 1 finished");
    Ok("result 1")
}

async fn async_operation2() -> Result<&'static str, String> {
    evloop::sleep(100).await;
    if FAIL_OPERATION_2.load(Ordering::Relaxed) {
        println!("operation 2 failing");
        return Err("Error: operation 2 failed".to_string());
    }
    println!("operation 2 finished");
    Ok("result 2")
}

async fn async_operation3() -> Result<&'static str, String> {
    evloop::sleep(300).await;
    println!("operation 3 finished");
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
            eprintln!("An operation failed: {error}");
            // try_join_all fails fast - if any task fails, the whole thing fails
            None
        }
    }
}

/// How `console.log` shows the returned value.
fn inspect(returned: &Option<Vec<&str>>) -> String {
    match returned {
        None => "null".to_string(),
        Some(results) => {
            let items: Vec<String> = results.iter().map(|r| format!("'{r}'")).collect();
            format!("[ {} ]", items.join(", "))
        }
    }
}

async fn main_task() {
    println!(
        "Returned: {}",
        inspect(&handle_errors_with_promise_all().await)
    );
    FAIL_OPERATION_2.store(true, Ordering::Relaxed);
    println!(
        "Returned: {}",
        inspect(&handle_errors_with_promise_all().await)
    );
}

fn main() {
    // `main()` in the JavaScript; the loop then runs on until operations 1
    // and 3 of the second round have finished too.
    evloop::run_async(main_task());
}
