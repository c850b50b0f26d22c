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
//! has settled, so the reads and the write run one after another. In Rust the
//! chain is one task: each `.await` is a `.then` (the code after it runs when
//! the operation is done), and `?` is the rejection skipping the remaining
//! steps down to the single `.catch` at the end. Nothing needs to be passed
//! along as `{ data1, data2 }`: `data1` is simply still in scope.

use std::io;
use std::path::PathBuf;

use evloop::fs;

fn main() {
    let dir = scratch_dir();

    evloop::run(|| {
        evloop::spawn(async {
            let chain = async {
                let data1 = fs::promises::read_to_string("file1.txt").await?;
                println!("File 1 read successfully");
                let data2 = fs::promises::read_to_string("file2.txt").await?;
                fs::promises::write_file("combined.txt", data1 + &data2).await?;
                println!("Files combined successfully");
                Ok::<(), io::Error>(())
            };
            // The `.catch`: any step's error lands here.
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
    let name = format!("evloop-promise_chain-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("file1.txt"), "one\n").expect("write file1.txt");
    std::fs::write(dir.join("file2.txt"), "two\n").expect("write file2.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
