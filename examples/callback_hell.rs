//! Article: "1. Callbacks", "The Callback Challenge: Callback Hell".
//!
//! ```javascript
//! fs.readFile('file1.txt', 'utf8', (err, data1) => {
//!   if (err) {
//!     console.error('Error reading file1:', err);
//!     return;
//!   }
//!   fs.readFile('file2.txt', 'utf8', (err, data2) => {
//!     if (err) {
//!       console.error('Error reading file2:', err);
//!       return;
//!     }
//!     fs.writeFile('combined.txt', data1 + data2, (err) => {
//!       if (err) {
//!         console.error('Error writing combined file:', err);
//!         return;
//!       }
//!       console.log('Files combined successfully');
//!     });
//!   });
//! });
//! ```
//!
//! Three operations in sequence: each one starts inside the callback of the
//! one before, so each step nests one level deeper (the "pyramid of doom").
//! Each callback runs in a later turn of the loop (poll phase), when the
//! thread pool has finished the previous operation. In Rust every closure
//! must also `move` in what it keeps (`data1`) for the callbacks after it.
//!
//! `cargo run --example callback_hell -- --explain` adds narration
//! (`» ...`).

mod support;

use std::path::PathBuf;

use evloop::fs;
use support::explain;

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        fs::read_to_string("file1.txt", |result| {
            explain!("file1.txt read on the thread pool; its callback starts the next read");
            let data1 = match result {
                Ok(data1) => data1,
                Err(err) => {
                    eprintln!("Error reading file1: {err}");
                    return;
                }
            };

            fs::read_to_string("file2.txt", move |result| {
                explain!("file2.txt read, one turn of the loop later; now the write");
                let data2 = match result {
                    Ok(data2) => data2,
                    Err(err) => {
                        eprintln!("Error reading file2: {err}");
                        return;
                    }
                };

                fs::write_file("combined.txt", data1 + &data2, |result| {
                    explain!("combined.txt written: the third callback, three levels deep");
                    if let Err(err) = result {
                        eprintln!("Error writing combined file: {err}");
                        return;
                    }
                    println!("Files combined successfully");
                });
            });
        });
        explain!("the read of file1.txt is queued on the thread pool; the main script ends");
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// Setup (not in the article): a fresh temporary directory holding the files
/// the snippet reads, made the working directory so that the paths are the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-callback_hell-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(dir.join("file1.txt"), "one\n").expect("write file1.txt");
    std::fs::write(dir.join("file2.txt"), "two\n").expect("write file2.txt");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
