//! Concurrency control: `Semaphore`, `limit` (p-limit) and rate limiters.
