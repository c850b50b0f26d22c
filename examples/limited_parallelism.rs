//! Article: "Common Concurrency Patterns and Challenges", "Limited
//! Parallelism".
//!
//! ```javascript
//! async function limitedParallelism(items, concurrencyLimit = 3) {
//!   const results = [];
//!   const inProgress = new Set();
//!   const itemsCopy = [...items];
//!   async function processItem(item) {
//!     try {
//!       const result = await someAsyncOperation(item);
//!       results.push(result);
//!     } catch (error) {
//!       console.error(`Error processing ${item}:`, error);
//!     } finally {
//!       inProgress.delete(item);
//!       if (itemsCopy.length > 0) {
//!         const nextItem = itemsCopy.shift();
//!         inProgress.add(nextItem);
//!         processItem(nextItem);
//!       }
//!     }
//!   }
//!   const initialBatch = itemsCopy.splice(0, concurrencyLimit);
//!   for (const item of initialBatch) {
//!     inProgress.add(item);
//!     processItem(item);
//!   }
//!   while (inProgress.size > 0) {
//!     await new Promise(resolve => setTimeout(resolve, 100));
//!   }
//!   return results;
//! }
//!
//! // Usage
//! const items = ['item1', 'item2', 'item3', 'item4', 'item5', 'item6', 'item7'];
//! limitedParallelism(items, 3).then(results => {
//!   console.log('All items processed with limited concurrency');
//! });
//! ```
//!
//! Three items start at once; each time one finishes, its `finally` starts
//! the next, so there are never more than three in progress. The items take
//! different times (the stub below), so they finish, and their results
//! come, in another order than they started. The caller only notices that
//! everything is done at its next 100 ms check: at 1000 ms, though the last
//! item finished at 950 ms. `--explain` narrates all of that: each start and
//! finish with the number running, the results, and the delay.
//!
//! `processItem(nextItem)` without `await` starts an async function and
//! lets it run on: in Rust that is `spawn(..)` and an explicit `.detach()`.
//! The state the JavaScript closures share (`results`, `inProgress`,
//! `itemsCopy`) is one `Rc<State>` that every task holds. The usage's
//! `.then` is `evloop::Thenable::then` on the function's task; for it, the
//! function returns a `Result` like a promise, whose error type,
//! `Infallible`, says that it never rejects (every error is caught in
//! `processItem`). evloop has this pattern built in as `evloop::limit(3)`
//! (p-limit), without the polling. With `EVLOOP_VIRTUAL_TIME=1` it runs in
//! no time, and the delay `--explain` reports is exactly 50 ms.
//!
//! `cargo run --example limited_parallelism -- --explain` adds narration
//! (`» ...`).

mod support;

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::rc::Rc;

use evloop::{BrokenPromise, Deferred, Task, Thenable};
use support::explain;

thread_local! {
    /// For the narration: items running now, and when the last one finished.
    static RUNNING: Cell<u32> = const { Cell::new(0) };
    static LAST_FINISHED: Cell<u64> = const { Cell::new(0) };
}

/// Stub the snippet assumes (not in the article): each item takes its own
/// time. Like `new Promise(resolve => setTimeout(..))`: `evloop::promise`
/// runs its body now and gives back the future of the value.
fn some_async_operation(item: &'static str) -> Deferred<String> {
    let delay = match item {
        "item1" => 400,
        "item2" => 200,
        "item3" => 700,
        "item4" => 300,
        "item5" => 550,
        "item6" => 100,
        _ => 200,
    };
    RUNNING.set(RUNNING.get() + 1);
    explain!("{item} started ({} running)", RUNNING.get());
    evloop::promise(|resolve| {
        evloop::set_timeout(delay, move || {
            RUNNING.set(RUNNING.get() - 1);
            LAST_FINISHED.set(evloop::now());
            explain!("{item} finished ({} running)", RUNNING.get());
            resolve.resolve(format!("{item} result"));
        });
    })
}

/// What the JavaScript closures share.
struct State {
    results: RefCell<Vec<String>>,
    in_progress: RefCell<HashSet<&'static str>>,
    items_copy: RefCell<VecDeque<&'static str>>,
}

/// `processItem(item)`: an async function, called without `await`.
fn process_item(state: Rc<State>, item: &'static str) -> Task<()> {
    evloop::spawn(async move {
        // try { ... } catch (error) { ... }
        let outcome: Result<String, BrokenPromise> = some_async_operation(item).await;
        match outcome {
            Ok(result) => state.results.borrow_mut().push(result),
            Err(error) => eprintln!("Error processing {item}: {error}"),
        }
        // finally { ... }
        state.in_progress.borrow_mut().remove(item);
        // Process next item if available
        let next_item = state.items_copy.borrow_mut().pop_front();
        if let Some(next_item) = next_item {
            state.in_progress.borrow_mut().insert(next_item);
            process_item(state.clone(), next_item).detach();
        }
    })
}

async fn limited_parallelism(
    items: &'static [&'static str],
    concurrency_limit: usize,
) -> Result<Vec<String>, Infallible> {
    let state = Rc::new(State {
        results: RefCell::new(Vec::new()),
        in_progress: RefCell::new(HashSet::new()),
        // Create a copy to avoid modifying the original
        items_copy: RefCell::new(items.iter().copied().collect()),
    });

    // Start initial batch of operations
    let initial_batch: Vec<_> = {
        let mut copy = state.items_copy.borrow_mut();
        let n = concurrency_limit.min(copy.len());
        copy.drain(..n).collect()
    };
    for item in initial_batch {
        state.in_progress.borrow_mut().insert(item);
        process_item(state.clone(), item).detach();
    }

    // Wait until all operations are complete
    while !state.in_progress.borrow().is_empty() {
        evloop::sleep(100).await;
    }

    Ok(state.results.take())
}

fn main() {
    support::init();
    evloop::run(|| {
        // Usage
        let items: &'static [&str] = &[
            "item1", "item2", "item3", "item4", "item5", "item6", "item7",
        ];
        evloop::spawn(limited_parallelism(items, 3))
            .then(|results| {
                println!("All items processed with limited concurrency");
                explain!("results in finishing order: {}", results.join(", "));
                explain!(
                    "noticed {} ms after the last item finished (the 100 ms polling loop)",
                    evloop::now() - LAST_FINISHED.get()
                );
            })
            .detach();
    });
}
