//! Article: "2. Promises", "Sequential Operations with Promises".
//!
//! ```javascript
//! const fs = require('fs').promises;
//!
//! fs.readFile('file1.txt', 'utf8')
//!   .then(data1 => {
//!     console.log('File 1 read successfully');
//!     return fs.readFile('file2.txt', 'utf8')
//!       .then(data2 => {
//!         return { data1, data2 };
//!       });
//!   })
//!   .then(({ data1, data2 }) => {
//!     return fs.writeFile('combined.txt', data1 + data2);
//!   })
//!   .then(() => {
//!     console.log('Files combined successfully');
//!   })
//!   .catch(err => {
//!     console.error('An error occurred:', err);
//!   });
//! ```
//!
//! Each `.then` step starts when the promise returned by the step before it
//! has settled, so the reads and the write run one after another. With
//! `evloop::Thenable`, the `fs::promises` futures chain the same way:
//! `.then` for a step that returns a value, `.and_then` for one that
//! returns the next promise (JavaScript's `.then(v => promise)`, which the
//! chain adopts: it goes on when that promise settles), `.catch` at the end
//! for an error from any step. The inner `fs.readFile('file2.txt').then(..)`
//! is a chain of its own, started inside the first step, and adopted by it.
//! Each callback runs as a microtask after the thread pool's completion
//! callback (poll phase) that settles its promise.
//!
//! `cargo run --example promise_chain -- --explain` adds narration (`» ...`).

mod support;

use std::path::PathBuf;

use evloop::{Thenable, fs};
use support::explain;

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        fs::promises::read_to_string("file1.txt")
            .and_then(|data1| {
                println!("File 1 read successfully");
                explain!("step 1 returns the next promise: reading file2.txt starts now");
                fs::promises::read_to_string("file2.txt").then(|data2| (data1, data2))
            })
            .and_then(|(data1, data2)| {
                explain!("step 2: both texts are in; it returns the write's promise");
                fs::promises::write_file("combined.txt", data1 + &data2)
            })
            .then(|()| {
                println!("Files combined successfully");
            })
            .catch(|err| {
                eprintln!("An error occurred: {err}");
            })
            .detach();
        explain!("the whole chain is set up; only the read of file1.txt has started");
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the files
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-promise_chain-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("file1.txt"), "one\n").expect("write file1.txt");
    std::fs::write(dir.join("file2.txt"), "two\n").expect("write file2.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
