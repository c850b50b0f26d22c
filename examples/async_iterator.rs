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
//! The consumer pulls: each item is fetched (100 ms) only when the loop
//! asks for the next one, and the loop asks only after the previous item
//! was processed (the stub below takes 50 ms). So fetching and processing
//! alternate, and the whole run takes 5 × 150 ms = 750 ms. The article only
//! defines the function; the example calls it once, as the golden script
//! does (`processAsyncIterable();`).
//!
//! The iterator is written by hand, as in the article: an object holding
//! `count` with an async `next()` method. `[Symbol.asyncIterator]()` is
//! `async_iterator()`, which hands out the iterator; `{ done: false,
//! value }` is `Some(value)` and `{ done: true }` is `None`, so
//! `for await (const item of asyncIterable)` is
//! `while let Some(item) = iterator.next().await`. Each `next()` awaits a
//! promise of a 100 ms timer (timers phase), and its caller resumes as a
//! microtask right after that timer's callback.
//!
//! `cargo run --example async_iterator -- --explain` adds narration
//! (`» ...`), among it the time taken; with `EVLOOP_VIRTUAL_TIME=1` it is
//! exact.

mod support;

use std::cell::Cell;
use std::rc::Rc;

use evloop::Deferred;
use support::explain;

/// Stub the snippet assumes (not in the article): processing an item takes
/// 50 ms.
fn process_item(item: String) -> Deferred<()> {
    evloop::promise(|resolve| {
        evloop::set_timeout(50, move || {
            explain!("processed {item}");
            resolve.resolve(());
        });
    })
}

async fn process_async_iterable() {
    let async_iterable = create_async_iterable();

    let mut iterator = async_iterable.async_iterator();
    while let Some(item) = iterator.next().await {
        println!("Processing item: {item}");
        process_item(item).await.unwrap();
    }

    println!("All items processed");
}

/// What `createAsyncIterable()` returns: `count` lives here, shared by the
/// iterators it hands out, as the JavaScript closure shares it.
struct AsyncIterable {
    count: Rc<Cell<u32>>,
}

impl AsyncIterable {
    /// `[Symbol.asyncIterator]()`.
    fn async_iterator(&self) -> AsyncIterator {
        AsyncIterator {
            count: self.count.clone(),
        }
    }
}

/// The object with the async `next()`.
struct AsyncIterator {
    count: Rc<Cell<u32>>,
}

impl AsyncIterator {
    async fn next(&mut self) -> Option<String> {
        if self.count.get() < 5 {
            // Simulate async data retrieval
            evloop::promise(|resolve| {
                evloop::set_timeout(100, move || resolve.resolve(()));
            })
            .await
            .unwrap();
            self.count.set(self.count.get() + 1);
            explain!("next() fetched item {}", self.count.get());
            return Some(format!("Item {}", self.count.get()));
        }
        None
    }
}

// Example of creating an async iterable
fn create_async_iterable() -> AsyncIterable {
    AsyncIterable {
        count: Rc::new(Cell::new(0)),
    }
}

fn main() {
    support::init();
    evloop::run(|| {
        // The call (not in the article): `processAsyncIterable();`.
        let start = evloop::now();
        evloop::spawn(async move {
            process_async_iterable().await;
            explain!(
                "took {} ms (5 x (100 ms fetch + 50 ms processing))",
                evloop::now() - start
            );
        })
        .detach();
    });
}
