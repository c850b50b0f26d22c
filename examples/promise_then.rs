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
//! `fs::promises::read_to_string` is the promise form: a future. A Rust
//! future has no `.then`; the code after `.await` inside a spawned task is
//! the `.then` callback, and a `match` on the `Result` is the `.catch`.
//! `spawn` starts the task at once, like calling `fs.readFile(...)`: the read
//! goes to the thread pool and the task waits, so the main script goes on and
//! prints `Reading file...` first. When the read is done, the task resumes
//! in the microtask checkpoint, as a promise's `.then` callback would.

use std::path::PathBuf;

use evloop::fs;

fn main() {
    let dir = scratch_dir();

    evloop::run(|| {
        evloop::spawn(async {
            match fs::promises::read_to_string("example.txt").await {
                Ok(data) => println!("File contents: {data}"),
                Err(err) => eprintln!("Error reading file: {err}"),
            }
        })
        .detach(); // Nobody awaits it, like the promise in the article.

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
