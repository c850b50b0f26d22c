//! Article: "2. Promises: A More Structured Approach".
//!
//! ```javascript
//! const fs = require('fs').promises;
//!
//! fs.readFile('example.txt', 'utf8')
//!   .then(data => {
//!     console.log('File contents:', data);
//!   })
//!   .catch(err => {
//!     console.error('Error reading file:', err);
//!   });
//!
//! console.log('Reading file...');
//! ```
//!
//! `fs::promises::read_to_string` is the promise form: a future of
//! `io::Result<String>`, with `Ok` the value and `Err` the rejection. With
//! `evloop::Thenable` in scope it chains like a promise: `.then` runs its
//! callback with the text, `.catch` with the error, each as a microtask
//! right after the read settles (the pool's completion callback, in the
//! poll phase). The chain starts at once, without being awaited, like the
//! JavaScript one: the read goes to the thread pool, the main script goes on
//! and prints `Reading file...` first. Nobody awaits the chain, so its last
//! link is `.detach()`ed (fire and forget).
//!
//! `cargo run --example promise_then -- --explain` adds narration (`» ...`).

mod support;

use std::path::PathBuf;

use evloop::{Thenable, fs};
use support::explain;

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        fs::promises::read_to_string("example.txt")
            .then(|data| {
                explain!(".then: a microtask right after the pool's completion callback");
                println!("File contents: {data}");
            })
            .catch(|err| {
                eprintln!("Error reading file: {err}");
            })
            .detach();
        explain!("the chain started: the read is queued on the thread pool");

        println!("Reading file...");
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the file
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-promise_then-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("example.txt"), "Hello from example.txt!").expect("write example.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
