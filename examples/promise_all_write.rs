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
//! each one is `spawn`ed: the `Task` handles are the promises. `try_join_all`
//! is `Promise.all`: it gives the texts in input order (whatever order the
//! reads finish in), or the first error.

use std::io;
use std::path::PathBuf;

use evloop::fs;

fn main() {
    let dir = scratch_dir();

    evloop::run(|| {
        let file_read_promises = [
            evloop::spawn(fs::promises::read_to_string("file1.txt")),
            evloop::spawn(fs::promises::read_to_string("file2.txt")),
            evloop::spawn(fs::promises::read_to_string("file3.txt")),
        ];

        evloop::spawn(async move {
            let chain = async {
                let data = evloop::try_join_all(file_read_promises).await?;
                println!("All files read successfully");
                // `concat` is data1 + data2 + data3.
                fs::promises::write_file("combined.txt", data.concat()).await?;
                println!("Combined file written successfully");
                Ok::<(), io::Error>(())
            };
            if let Err(err) = chain.await {
                eprintln!("An error occurred: {err}");
            }
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
