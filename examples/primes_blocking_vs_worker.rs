//! Article: "Best Practices and Common Pitfalls", "Best Practices", 3. "Be
//! mindful of the event loop".
//!
//! ```javascript
//! // Bad: Blocks the event loop
//! function calculatePrimes(max) {
//!   const primes = [];
//!   for (let i = 2; i <= max; i++) {
//!     let isPrime = true;
//!     for (let j = 2; j < i; j++) {
//!       if (i % j === 0) {
//!         isPrime = false;
//!         break;
//!       }
//!     }
//!     if (isPrime) primes.push(i);
//!   }
//!   return primes;
//! }
//!
//! // Better: Uses worker threads for CPU-intensive tasks
//! function calculatePrimesAsync(max) {
//!   return new Promise((resolve, reject) => {
//!     const worker = new Worker('./prime-worker.js', { workerData: { max } });
//!     worker.on('message', resolve);
//!     worker.on('error', reject);
//!   });
//! }
//! ```
//!
//! The article only defines the two functions; the example calls each once,
//! as the golden script does (`calculatePrimes(50000);
//! calculatePrimesAsync(50000);`), and prints nothing, as Node's run does.
//! Watch the loops instead: `EVLOOP_WATCHDOG_MS=100` makes evloop warn (on
//! stderr) when something keeps a loop from polling for longer than 100 ms
//! (it names the callback's line, or, as here, the main script): once for
//! the main loop, blocked by `calculatePrimes`, and once for the worker's
//! own loop, which is blocked too, as it should be: that is what the worker
//! is for, and the main loop is free meanwhile.
//!
//! `--explain` adds a timer that ticks every 100 ms and counts its ticks:
//! while `calculatePrimes` runs on the call stack the loop cannot get back
//! to its timers phase, so the ticker cannot tick at all, however long the
//! calculation takes; while the same work runs on a worker thread, the loop
//! stays free and the ticker ticks on (how often depends on the machine's
//! speed and on how busy it is).
//!
//! `prime-worker.js` becomes a closure: `evloop::run_worker(max, body)` runs
//! `body(max, port)` on a worker thread and resolves with the first message
//! it posts, or fails if it panics (`'error'`). The durations are measured on
//! the wall clock (`Instant`, as `Date.now()`): the loop's own `evloop::now()`
//! is cached and stands still while a callback runs, which is the point here.
//!
//! `cargo run --example primes_blocking_vs_worker -- --explain` adds
//! narration (`» ...`).

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use evloop::{Task, Thenable, WorkerError};
use support::explain;

// Bad: Blocks the event loop
fn calculate_primes(max: u32) -> Vec<u32> {
    let mut primes = Vec::new();
    for i in 2..=max {
        let mut is_prime = true;
        for j in 2..i {
            if i % j == 0 {
                is_prime = false;
                break;
            }
        }
        if is_prime {
            primes.push(i);
        }
    }
    primes
}

// Better: Uses worker threads for CPU-intensive tasks
fn calculate_primes_async(max: u32) -> Task<Result<Vec<u32>, WorkerError>> {
    // What prime-worker.js does, on the worker thread.
    evloop::run_worker(max, |max, parent_port| {
        let _ = parent_port.post_message(calculate_primes(max));
    })
}

const MAX: u32 = 50000;

fn main() {
    support::init();
    evloop::run(|| {
        // With --explain: a timer that ticks every 100 ms while the loop is free.
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        let ticker =
            support::explaining().then(|| evloop::set_interval(100, move || t.set(t.get() + 1)));

        // The calls (not in the article).
        let start = Instant::now();
        let primes = calculate_primes(MAX);
        explain!(
            "calculatePrimes({MAX}): {} primes in {} ms on the call stack; ticks meanwhile: {}",
            primes.len(),
            start.elapsed().as_millis(),
            ticks.get()
        );

        let start = Instant::now();
        let ticks_before = ticks.get();
        calculate_primes_async(MAX)
            .then(move |primes| {
                explain!(
                    "calculatePrimesAsync({MAX}): {} primes in {} ms on a worker; ticks meanwhile: {}",
                    primes.len(),
                    start.elapsed().as_millis(),
                    ticks.get() - ticks_before
                );
                if let Some(ticker) = ticker {
                    evloop::clear_interval(ticker);
                }
            })
            .detach();
    });
}
