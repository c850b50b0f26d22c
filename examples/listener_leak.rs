//! Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 2.
//! "Memory leaks with event listeners".
//!
//! ```javascript
//! // Bad: Event listener is never removed
//! function processData(emitter) {
//!   emitter.on('data', (data) => {
//!     console.log('Data received:', data);
//!   });
//! }
//!
//! // Good: Event listener is removed when no longer needed
//! function processData(emitter) {
//!   const handler = (data) => {
//!     console.log('Data received:', data);
//!     if (data.end) {
//!       emitter.removeListener('data', handler);
//!     }
//!   };
//!
//!   emitter.on('data', handler);
//! }
//! ```
//!
//! Both functions are called `processData`: as a script, the second
//! declaration replaces the first, so the article's snippet, made runnable
//! (an emitter, one call, and some data, as the golden script does), runs
//! the good one. It prints the chunks up to the one marked `end`; then the
//! listener has removed itself, and a later chunk reaches nobody.
//!
//! `--explain` also shows the bad one, on an emitter of its own: 11 calls
//! leave 11 listeners behind (nothing removes them), and the 11th triggers
//! evloop's `MaxListenersExceededWarning`, printed on stderr as Node prints it:
//! more than 10 listeners for one event is probably a leak.
//!
//! `evloop::EventEmitter` gives Node's semantics with typed events: the
//! `events!` line declares the `'data'` event and its payload type. A
//! listener is identified by the `ListenerId` that `on` returns, so the good
//! handler finds its own id in a cell filled right after it is registered
//! (JavaScript uses the function object itself). `emit` calls the listeners
//! synchronously, on the call stack of whoever emits: here the main script.
//!
//! `cargo run --example listener_leak -- --explain` adds narration
//! (`» ...`).

mod support;

use std::cell::Cell;
use std::rc::Rc;

use evloop::{Event, EventEmitter, ListenerId};
use support::explain;

/// The data: `{ id: 1, end: false }`.
#[derive(Debug)]
struct Chunk {
    id: u32,
    end: bool,
}

evloop::events! {
    /// `'data'`: a chunk.
    struct Data("data"): Chunk;
}

/// `console.log('Data received:', data)`.
fn log_chunk(data: &Chunk) {
    println!("Data received: {{ id: {}, end: {} }}", data.id, data.end);
}

mod bad {
    use super::*;

    // Bad: Event listener is never removed
    pub fn process_data(emitter: &EventEmitter) {
        emitter.on(Data, |data| {
            log_chunk(data);
        });
    }
}

mod good {
    use super::*;

    // Good: Event listener is removed when no longer needed
    pub fn process_data(emitter: &EventEmitter) {
        let handler_id: Rc<Cell<Option<ListenerId>>> = Rc::new(Cell::new(None));
        let (id, this) = (handler_id.clone(), emitter.clone());
        let handler = move |data: &Chunk| {
            log_chunk(data);
            if data.end
                && let Some(id) = id.get()
            {
                this.remove_listener(Data, id);
            }
        };

        handler_id.set(Some(emitter.on(Data, handler)));
    }
}

fn main() {
    support::init();
    evloop::run(|| {
        // The driver (not in the article): an emitter, one call, some data.
        let emitter = EventEmitter::new();
        good::process_data(&emitter);
        emitter.emit(Data, Chunk { id: 1, end: false });
        emitter.emit(Data, Chunk { id: 2, end: true });
        explain!(
            "the chunk marked end removed the listener: {} left",
            emitter.listener_count(Data::NAME)
        );
        emitter.emit(Data, Chunk { id: 3, end: false });
        explain!("chunk 3 was emitted to nobody");

        if support::explaining() {
            let leaky = EventEmitter::new();
            for _ in 1..=11 {
                bad::process_data(&leaky);
            }
            explain!(
                "the bad processData, called 11 times: {} listeners stay (see the warning)",
                leaky.listener_count(Data::NAME)
            );
        }
    });
}
