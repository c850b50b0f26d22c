//! Article: "Advanced Concurrency Management Techniques", "Working with
//! Async Iterators".
//!
//! ```javascript
//! async function processAsyncIterable() {
//!   const asyncIterable = createAsyncIterable();
//!   for await (const item of asyncIterable) {
//!     console.log('Processing item:', item);
//!     await processItem(item);
//!   }
//!   console.log('All items processed');
//! }
//!
//! function createAsyncIterable() {
//!   let count = 0;
//!   return {
//!     [Symbol.asyncIterator]() {
//!       return {
//!         async next() {
//!           if (count < 5) {
//!             // Simulate async data retrieval
//!             await new Promise(resolve => setTimeout(resolve, 100));
//!             return { done: false, value: `Item ${++count}` };
//!           }
//!           return { done: true };
//!         }
//!       };
//!     }
//!   };
//! }
//! ```
//!
//! The consumer pulls: each item is fetched (100 ms) only when the loop asks
//! for the next one, and the loop asks only after the previous item was
//! processed (50 ms). So fetching and processing alternate, and the whole
//! run takes 5 × 150 ms = 750 ms.
//!
//! The async iterator is an `evloop::stream`, an async generator: its body
//! `send`s each value (`yield`) and is suspended there until the consumer
//! asks for the next one, just as `next()` above runs only when called.
//! `for await (const item of it)` is `while let Some(item) = it.next().await`.
//! With `EVLOOP_VIRTUAL_TIME=1` the time printed is exact.

use evloop::{Deferred, Generator};

/// Stub the snippet assumes (not in the article): processing an item takes
/// 50 ms.
fn process_item(item: String) -> Deferred<()> {
    evloop::promise(|resolve| {
        evloop::set_timeout(50, move || {
            println!("Processed item: {item}");
            resolve.resolve(());
        });
    })
}

async fn process_async_iterable() {
    let mut async_iterable = create_async_iterable();

    while let Some(item) = async_iterable.next().await {
        println!("Processing item: {item}");
        process_item(item).await.unwrap();
    }

    println!("All items processed");
}

// Example of creating an async iterable
fn create_async_iterable() -> Generator<String> {
    evloop::stream(|co| async move {
        let mut count = 0;
        while count < 5 {
            // Simulate async data retrieval
            evloop::sleep(100).await;
            count += 1;
            // `yield`: waits here until the consumer asks for the next item
            // (an error means it stopped asking).
            if co.send(format!("Item {count}")).await.is_err() {
                return;
            }
        }
    })
}

fn main() {
    evloop::run_async(async {
        let start = evloop::now();
        process_async_iterable().await;
        println!(
            "Took {} ms (5 x (100 ms fetch + 50 ms processing))",
            evloop::now() - start
        );
    });
}
