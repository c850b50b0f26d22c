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
//! ```
//!
//! Three items start at once; each time one finishes, its `finally` starts
//! the next, so there are never more than three in progress. The items take
//! different times, so they finish (and the results come) in a different
//! order than they started. The caller only notices that everything is done
//! at its next 100 ms check: at 1000 ms, though the last item finished at
//! 950 ms.
//!
//! `processItem(nextItem)` without `await` starts an async function and
//! lets it run on: in Rust that is `spawn(..)` and an explicit `.detach()`.
//! The state the JavaScript closures share (`results`, `inProgress`,
//! `itemsCopy`) is one `Rc<State>` that every task holds. evloop has this
//! pattern built in as `evloop::limit(3)` (p-limit), without the polling.
//! With `EVLOOP_VIRTUAL_TIME=1` the delay printed at the end is exactly
//! 50 ms.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;

use evloop::{BrokenPromise, Deferred, Task};

thread_local! {
    /// Items running now, and when the last one finished (for the stub).
    static RUNNING: Cell<u32> = const { Cell::new(0) };
    static LAST_FINISHED: Cell<u64> = const { Cell::new(0) };
}

/// Stub the snippet assumes (not in the article): each item takes its own
/// time, and says when it starts and finishes and how many items are running
/// then. Like `new Promise(resolve => setTimeout(..))`: `evloop::promise`
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
    println!("{item} started ({} running)", RUNNING.get());
    evloop::promise(|resolve| {
        evloop::set_timeout(delay, move || {
            RUNNING.set(RUNNING.get() - 1);
            LAST_FINISHED.set(evloop::now());
            println!("{item} finished ({} running)", RUNNING.get());
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

async fn limited_parallelism(items: &[&'static str], concurrency_limit: usize) -> Vec<String> {
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

    state.results.take()
}

fn main() {
    evloop::run(|| {
        // Usage
        let items = [
            "item1", "item2", "item3", "item4", "item5", "item6", "item7",
        ];
        evloop::spawn(async move {
            let results = limited_parallelism(&items, 3).await;
            println!("All items processed with limited concurrency");
            println!("Results in finishing order: {}", results.join(", "));
            println!(
                "Noticed {} ms after the last item finished (the 100 ms polling loop)",
                evloop::now() - LAST_FINISHED.get()
            );
        })
        .detach();
    });
}
