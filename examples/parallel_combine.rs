//! Article: "3. Async/Await", "Parallel Operations with Async/Await".
//!
//! ```javascript
//! const fs = require('fs').promises;
//!
//! async function combineFilesParallel() {
//!   try {
//!     const [data1, data2, data3] = await Promise.all([
//!       fs.readFile('file1.txt', 'utf8'),
//!       fs.readFile('file2.txt', 'utf8'),
//!       fs.readFile('file3.txt', 'utf8')
//!     ]);
//!     console.log('All files read successfully');
//!     await fs.writeFile('combined.txt', data1 + data2 + data3);
//!     console.log('Combined file written successfully');
//!   } catch (err) {
//!     console.error('An error occurred:', err);
//!   }
//! }
//!
//! combineFilesParallel();
//! ```
//!
//! `try_join!` is `await Promise.all([...])` with destructuring: it starts
//! the three reads together (they run at the same time on the thread pool)
//! and resumes the function once all three are done, with the texts in
//! argument order, or with the first error. Only then does the write start.
//! One difference from JavaScript on failure: `try_join!` cancels the reads
//! still running, where JavaScript's promises would run on unobserved.
//!
//! `cargo run --example parallel_combine -- --explain` adds narration
//! (`» ...`).

mod support;

use std::io;
use std::path::PathBuf;

use evloop::fs;
use support::explain;

async fn combine_files_parallel() {
    let result: io::Result<()> = async {
        let (data1, data2, data3) = evloop::try_join!(
            fs::promises::read_to_string("file1.txt"),
            fs::promises::read_to_string("file2.txt"),
            fs::promises::read_to_string("file3.txt"),
        )?;

        explain!("the last of the three reads is done: the function resumes");
        println!("All files read successfully");
        fs::promises::write_file("combined.txt", data1 + &data2 + &data3).await?;
        println!("Combined file written successfully");
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
        evloop::spawn(combine_files_parallel()).detach();
        explain!("the three reads are on the thread pool together; the function waits");
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the files
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-parallel_combine-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("file1.txt"), "one\n").expect("write file1.txt");
    std::fs::write(dir.join("file2.txt"), "two\n").expect("write file2.txt");
    std::fs::write(dir.join("file3.txt"), "three\n").expect("write file3.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
