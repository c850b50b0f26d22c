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
//! A timer ticks every 100 ms. While `calculatePrimes` runs on the event
//! loop, the loop cannot get back to its timers phase, so the timer does not
//! tick at all (0 ticks, however long the calculation takes). The same work
//! on a worker thread leaves the loop free, and the timer keeps ticking while
//! the main task awaits the result. (How many ticks depends on the machine's
//! speed and on how busy it is, which is why the golden test checks no number
//! there: a machine busy enough could even keep the loop's thread off the
//! CPU for the whole calculation.)
//!
//! `prime-worker.js` becomes a closure: `evloop::run_worker(max, body)` runs
//! `body(max, port)` on a worker thread and resolves with the first message
//! it posts, or fails if it panics (`'error'`). The durations are measured on
//! the wall clock (`Instant`, as `Date.now()`): the loop's own `evloop::now()`
//! is cached and stands still while a callback runs, which is the point here.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use evloop::{Task, WorkerError};

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
    evloop::run_async(async {
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        let ticker = evloop::set_interval(100, move || t.set(t.get() + 1));

        // Let the timer tick a few times first.
        evloop::sleep(350).await;
        println!("Ticks so far: {}", ticks.get());

        println!("calculatePrimes({MAX}) on the event loop...");
        let before = ticks.get();
        let start = Instant::now();
        let primes = calculate_primes(MAX);
        println!(
            "{} primes in {} ms; ticks meanwhile: {}",
            primes.len(),
            start.elapsed().as_millis(),
            ticks.get() - before
        );

        println!("calculatePrimesAsync({MAX}) on a worker thread...");
        let before = ticks.get();
        let start = Instant::now();
        let primes = calculate_primes_async(MAX)
            .await
            .expect("the worker posts its primes");
        println!(
            "{} primes in {} ms; ticks meanwhile: {}",
            primes.len(),
            start.elapsed().as_millis(),
            ticks.get() - before
        );

        evloop::clear_interval(ticker);
    });
}
