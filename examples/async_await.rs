//! Article: "3. Async/Await: Synchronous-Looking Asynchronous Code".
//!
//! ```javascript
//! const fs = require('fs').promises;
//!
//! async function readFile() {
//!   try {
//!     const data = await fs.readFile('example.txt', 'utf8');
//!     console.log('File contents:', data);
//!   } catch (err) {
//!     console.error('Error reading file:', err);
//!   }
//! }
//!
//! readFile();
//! console.log('Reading file...');
//! ```
//!
//! Calling an async function runs its body synchronously up to the first
//! `await` that has to wait, then returns to the caller. `evloop::spawn` is
//! that call: `read_file()` starts the read and suspends at the `.await`, the
//! main script prints `Reading file...`, and the function resumes (in the
//! microtask checkpoint) once the thread pool has read the file. The `match`
//! on the `Result` is the `try`/`catch`.
//!
//! `cargo run --example async_await -- --explain` adds narration (`» ...`).

mod support;

use std::path::PathBuf;

use evloop::fs;
use support::explain;

async fn read_file() {
    explain!("readFile() runs synchronously up to its first await");
    match fs::promises::read_to_string("example.txt").await {
        Ok(data) => {
            explain!("the await resumed: a microtask after the pool's completion callback");
            println!("File contents: {data}");
        }
        Err(err) => eprintln!("Error reading file: {err}"),
    }
}

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        // Not awaited, as in the article: the task runs on by itself.
        evloop::spawn(read_file()).detach();
        explain!("readFile() is suspended at its await; the read is on the thread pool");
        println!("Reading file...");
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the file
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-async_await-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("example.txt"), "Hello from example.txt!").expect("write example.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
