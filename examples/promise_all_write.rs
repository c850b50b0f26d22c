//! Article: "2. Promises", "Parallel Operations with Promise.all".
//!
//! ```javascript
//! const fs = require('fs').promises;
//!
//! const fileReadPromises = [
//!   fs.readFile('file1.txt', 'utf8'),
//!   fs.readFile('file2.txt', 'utf8'),
//!   fs.readFile('file3.txt', 'utf8')
//! ];
//!
//! Promise.all(fileReadPromises)
//!   .then(([data1, data2, data3]) => {
//!     console.log('All files read successfully');
//!     return fs.writeFile('combined.txt', data1 + data2 + data3);
//!   })
//!   .then(() => {
//!     console.log('Combined file written successfully');
//!   })
//!   .catch(err => {
//!     console.error('An error occurred:', err);
//!   });
//! ```
//!
//! The three reads run at the same time on the thread pool: each
//! `fs.readFile(...)` call starts its read when the array is built. A Rust
//! future does nothing until polled, so to start each read right there,
//! each one is `spawn`ed: the `Task` handles are the promises.
//! `try_join_all` is `Promise.all`: it gives the texts in input order
//! (whatever order the reads finish in), or the first error. With
//! `evloop::Thenable` it chains like the JavaScript: `.and_then` for the
//! step that returns the write's promise, `.then`, `.catch`.
//!
//! `cargo run --example promise_all_write -- --explain` adds narration
//! (`» ...`).

mod support;

use std::path::PathBuf;

use evloop::{Thenable, fs};
use support::explain;

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        let file_read_promises = [
            evloop::spawn(fs::promises::read_to_string("file1.txt")),
            evloop::spawn(fs::promises::read_to_string("file2.txt")),
            evloop::spawn(fs::promises::read_to_string("file3.txt")),
        ];
        explain!("three reads queued on the thread pool at once");

        evloop::try_join_all(file_read_promises)
            .and_then(|data| {
                let [data1, data2, data3]: [String; 3] = data.try_into().expect("three texts");
                explain!("all three reads done (poll phase); the write starts");
                println!("All files read successfully");
                fs::promises::write_file("combined.txt", data1 + &data2 + &data3)
            })
            .then(|()| {
                println!("Combined file written successfully");
            })
            .catch(|err| {
                eprintln!("An error occurred: {err}");
            })
            .detach();
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the files
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-promise_all_write-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("file1.txt"), "one\n").expect("write file1.txt");
    std::fs::write(dir.join("file2.txt"), "two\n").expect("write file2.txt");
    std::fs::write(dir.join("file3.txt"), "three\n").expect("write file3.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
