//! Article: "Advanced Concurrency Management Techniques", "Using Worker
//! Threads for CPU-Intensive Tasks".
//!
//! ```javascript
//! const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
//! if (isMainThread) {
//!   function runWorker(data) {
//!     return new Promise((resolve, reject) => {
//!       const worker = new Worker(__filename, { workerData: data });
//!       worker.on('message', resolve);
//!       worker.on('error', reject);
//!       worker.on('exit', (code) => {
//!         if (code !== 0) {
//!           reject(new Error(`Worker stopped with exit code ${code}`));
//!         }
//!       });
//!     });
//!   }
//!   async function main() {
//!     try {
//!       // Run four workers in parallel
//!       const results = await Promise.all([
//!         runWorker({ task: 'task1', value: 10 }),
//!         runWorker({ task: 'task2', value: 20 }),
//!         runWorker({ task: 'task3', value: 30 }),
//!         runWorker({ task: 'task4', value: 40 })
//!       ]);
//!       console.log('Results from workers:', results);
//!     } catch (err) {
//!       console.error('Worker error:', err);
//!     }
//!   }
//!   main();
//! } else {
//!   function doHeavyComputation(value) {
//!     let result = 0;
//!     for (let i = 0; i < value * 1000000; i++) {
//!       result += Math.sqrt(i);
//!     }
//!     return result;
//!   }
//!   const result = doHeavyComputation(workerData.value);
//!   parentPort.postMessage({ task: workerData.task, result: result });
//! }
//! ```
//!
//! Four workers compute at the same time, each on its own thread with its
//! own event loop, while the main loop stays free. `Promise.all` keeps the
//! input order, so the results are listed task1..task4 whichever worker
//! finished first. The sums are the same bit for bit: both languages add the
//! same IEEE doubles in the same order.
//!
//! A Rust worker is a closure, not a file: `evloop::run_worker(data, body)`
//! runs `body(data, port)` on a new worker thread and is the article's
//! `runWorker(data)`: it resolves with the first message the worker posts
//! and fails if the worker panics (`'error'`) or exits without posting
//! (`'exit'` with a code). The `isMainThread` branch is simply the code
//! outside the closure. `workerData` is moved into the closure.
//!
//! `cargo run --example worker_threads -- --explain` adds narration
//! (`» ...`; the workers' lines come in whatever order the threads reach
//! them).

mod support;

use support::explain;

/// `workerData`.
struct WorkerData {
    task: &'static str,
    value: u64,
}

/// The message a worker posts back.
#[derive(Debug)]
struct WorkerResult {
    task: &'static str,
    result: f64,
}

// Simulate CPU-intensive work (this runs in worker threads)
fn do_heavy_computation(value: u64) -> f64 {
    let mut result = 0.0;
    for i in 0..value * 1_000_000 {
        result += (i as f64).sqrt();
    }
    result
}

fn run_worker(data: WorkerData) -> evloop::Task<Result<WorkerResult, evloop::WorkerError>> {
    evloop::run_worker(data, |worker_data, parent_port| {
        // This code runs in a worker thread
        explain!(
            "{}: the closure is the main script of a worker's own loop",
            worker_data.task
        );
        let result = do_heavy_computation(worker_data.value);

        // Send result back to main thread
        parent_port
            .post_message(WorkerResult {
                task: worker_data.task,
                result,
            })
            .expect("the main thread is listening");
    })
}

async fn main_task() {
    // Run four workers in parallel
    let all = evloop::try_join_all([
        run_worker(WorkerData {
            task: "task1",
            value: 10,
        }),
        run_worker(WorkerData {
            task: "task2",
            value: 20,
        }),
        run_worker(WorkerData {
            task: "task3",
            value: 30,
        }),
        run_worker(WorkerData {
            task: "task4",
            value: 40,
        }),
    ]);
    explain!("four workers started; the main loop waits in its poll phase");
    match all.await {
        Ok(results) => {
            explain!(
                "each result came back as a message (poll phase); Promise.all keeps input order"
            );
            // How console.log shows an array of objects too long for one line.
            println!("Results from workers: [");
            for (i, r) in results.iter().enumerate() {
                let comma = if i + 1 < results.len() { "," } else { "" };
                println!("  {{ task: '{}', result: {} }}{comma}", r.task, r.result);
            }
            println!("]");
        }
        Err(err) => eprintln!("Worker error: {err}"),
    }
}

fn main() {
    support::init();
    evloop::run(|| {
        // `main();`: called, not awaited.
        evloop::spawn(main_task()).detach();
    });
}
