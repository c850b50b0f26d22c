//! Article: "1. Callbacks: The Original Pattern".
//!
//! ```javascript
//! const fs = require('fs');
//!
//! fs.readFile('example.txt', 'utf8', (err, data) => {
//!   if (err) {
//!     console.error('Error reading file:', err);
//!     return;
//!   }
//!   console.log('File contents:', data);
//! });
//!
//! console.log('Reading file...');
//! ```
//!
//! Prints `Reading file...` first: `fs::read_to_string` (the `'utf8'` form
//! of `fs.readFile`) hands the read to the thread pool and returns at once.
//! The callback runs later, in the loop's poll phase, once the read is done,
//! with the text or the error (Rust's `Result` in place of `(err, data)`).
//!
//! `cargo run --example read_file_callback -- --explain` adds narration
//! (`» ...`).

mod support;

use std::path::PathBuf;

use evloop::fs;
use support::explain;

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        fs::read_to_string("example.txt", |result| {
            explain!("a pool thread read the file; its completion callback runs in the poll phase");
            let data = match result {
                Ok(data) => data,
                Err(err) => {
                    eprintln!("Error reading file: {err}");
                    return;
                }
            };
            println!("File contents: {data}");
        });
        explain!("fs::read_to_string queued the read on the thread pool and returned");

        println!("Reading file...");
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the file
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-read_file_callback-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("example.txt"), "Hello from example.txt!").expect("write example.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
