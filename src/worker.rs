//! Worker threads: a closure on its own thread with its own event loop,
//! talking to its parent by messages (Node's `worker_threads`).
