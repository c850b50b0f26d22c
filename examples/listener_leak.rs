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
//! Bad: every call adds a listener that stays. After 11 calls one chunk is
//! printed 11 times, and the 11th listener triggers the
//! `MaxListenersExceededWarning` (more than 10 listeners for one event is
//! probably a leak). Good: each listener removes itself once it has seen
//! the end of its data, so 11 calls leave no listener behind and there is no
//! warning.
//!
//! `evloop::EventEmitter` gives Node's semantics with typed events: the
//! `events!` line declares the `'data'` event and its payload type. A
//! listener is identified by the `ListenerId` that `on` returns, so the good
//! handler finds its own id in a cell filled right after it is registered
//! (JavaScript uses the function object itself). evloop logs the warning
//! with the `log` crate (target `evloop::emitter`); the tiny logger below
//! prints it to stdout, as the golden script's `process.on('warning')` does.
//! (evloop logs it at once, from inside the 11th `on`; Node emits it on the
//! next tick. The script moves on in an immediate, so the line lands in the
//! same place.)

use std::cell::Cell;
use std::rc::Rc;

use evloop::{Event, EventEmitter, ListenerId};

/// The data: `{ id: 1, end: true }`.
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

/// `process.on('warning', w => console.log(...))`: prints evloop's warnings.
struct PrintWarnings;

impl log::Log for PrintWarnings {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            println!("{}", record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: PrintWarnings = PrintWarnings;

fn main() {
    log::set_logger(&LOGGER).expect("no other logger");
    log::set_max_level(log::LevelFilter::Warn);

    evloop::run(|| {
        println!("Bad: 11 calls, then one chunk of data");
        let leaky = EventEmitter::new();
        for _ in 1..=11 {
            bad::process_data(&leaky);
        }
        evloop::set_immediate(move || {
            leaky.emit(Data, Chunk { id: 1, end: true });
            println!("data listeners left: {}", leaky.listener_count(Data::NAME));

            println!("Good: 11 calls, each followed by its (last) chunk of data");
            let tidy = EventEmitter::new();
            for i in 1..=11 {
                good::process_data(&tidy);
                tidy.emit(Data, Chunk { id: i, end: true });
            }
            println!("data listeners left: {}", tidy.listener_count(Data::NAME));
        });
    });
}
