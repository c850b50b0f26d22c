//! Article: "3. Async/Await", "Sequential Operations with Async/Await".
//!
//! ```javascript
//! const fs = require('fs').promises;
//!
//! async function combineFiles() {
//!   try {
//!     const data1 = await fs.readFile('file1.txt', 'utf8');
//!     console.log('File 1 read successfully');
//!     const data2 = await fs.readFile('file2.txt', 'utf8');
//!     console.log('File 2 read successfully');
//!     await fs.writeFile('combined.txt', data1 + data2);
//!     console.log('Files combined successfully');
//!   } catch (err) {
//!     console.error('An error occurred:', err);
//!   }
//! }
//!
//! combineFiles();
//! ```
//!
//! Each `.await` suspends the function until its operation is done, so the
//! second read starts only after the first has finished: the lines come in
//! the order of the code, but the loop stays free while each read runs on
//! the thread pool. The inner `async` block plays the `try` block: `?` on an
//! error jumps out of it to the `catch` below.
//!
//! `cargo run --example sequential_combine -- --explain` adds narration
//! (`» ...`).

mod support;

use std::io;
use std::path::PathBuf;

use evloop::fs;
use support::explain;

async fn combine_files() {
    let result: io::Result<()> = async {
        let data1 = fs::promises::read_to_string("file1.txt").await?;
        explain!("resumed after the first read (a microtask after its pool completion)");
        println!("File 1 read successfully");

        let data2 = fs::promises::read_to_string("file2.txt").await?;
        explain!("the second read started only now, and is done");
        println!("File 2 read successfully");

        fs::promises::write_file("combined.txt", data1 + &data2).await?;
        explain!("the write, the third pool job, is done");
        println!("Files combined successfully");
        Ok(())
    }
    .await;
    if let Err(err) = result {
        eprintln!("An error occurred: {err}");
    }
}

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        evloop::spawn(combine_files()).detach();
        explain!("combineFiles() waits at its first await: file1.txt is on the thread pool");
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the files
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-sequential_combine-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("file1.txt"), "one\n").expect("write file1.txt");
    std::fs::write(dir.join("file2.txt"), "two\n").expect("write file2.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
