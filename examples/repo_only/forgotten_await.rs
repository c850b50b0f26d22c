//! Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 1.
//! "Forgetting to await Promises".
//!
//! ```javascript
//! // Bad: Missing await
//! async function processItem(item) {
//!   const data = fs.readFile(item.path, 'utf8'); // Missing await!
//!   return JSON.parse(data); // Will fail because data is a Promise, not string
//! }
//!
//! // Good: With await
//! async function processItem(item) {
//!   const data = await fs.readFile(item.path, 'utf8');
//!   return JSON.parse(data);
//! }
//! ```
//!
//! Both functions are called `processItem`: as a script, the second
//! declaration replaces the first, so the article's snippet, made runnable
//! (a file to read, and one call, `processItem(item);`, as the golden script
//! does), runs the good one and prints nothing: the caller ignores the
//! parsed data. `--explain` shows what it returned.
//!
//! The bad version would fail at run time in JavaScript: `JSON.parse` gets
//! `"[object Promise]"`. In Rust it never gets that far, so this example
//! holds only the good version:
//!
//! ```text
//! async fn process_item(item: &Item) -> Result<Value, Box<dyn Error>> {
//!     let data = fs::promises::read_to_string(&item.path); // Missing .await!
//!     Ok(serde_json::from_str(&data)?)
//!     // error[E0308]: mismatched types: expected `&str`,
//!     // found `&impl Future<Output = Result<String, std::io::Error>>`
//! }
//! ```
//!
//! Where the missing `await`'s result is not used at all (a write, a spawned
//! task nobody awaits), it compiles but warns, because futures and
//! `evloop::Task` are `#[must_use]`:
//!
//! ```text
//! fs::promises::write_file(path, data); // Missing .await!
//! // warning: unused implementer of `Future` that must be used
//! //   = note: futures do nothing unless you `.await` or poll them
//! evloop::spawn(save(path)); // the Task is dropped, nobody sees its error
//! // warning: unused `Task` that must be used
//! //   = note: a Task does nothing to its caller unless awaited; ...
//! ```
//!
//! And a forgotten Rust future is worse than a forgotten promise: a future
//! does nothing until awaited, so that write would never happen at all.
//! `tests/examples/pitfalls.rs` compiles these snippets and checks the messages
//! (with `-D unused_must_use`, which turns the warnings into errors).
//!
//! `cargo run --example forgotten_await -- --explain` adds narration
//! (`» ...`).

#[path = "../support/mod.rs"]
mod support;

use std::error::Error;
use std::path::PathBuf;

use evloop::{Thenable, fs};
use serde_json::Value;
use support::explain;

struct Item {
    path: PathBuf,
}

// Good: With await
async fn process_item(item: &Item) -> Result<Value, Box<dyn Error>> {
    let data = fs::promises::read_to_string(&item.path).await?;
    Ok(serde_json::from_str(&data)?)
}

fn main() {
    support::init();
    // Setup (not in the article): the file the snippet reads, in a fresh
    // temporary directory.
    let dir = std::env::temp_dir().join(format!("evloop-forgotten_await-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let item = Item {
        path: dir.join("item.json"),
    };
    std::fs::write(&item.path, r#"{"id":7,"name":"widget"}"#).expect("write item.json");

    evloop::run(move || {
        // The call (not in the article): `processItem(item);`.
        let processed = evloop::spawn(async move { process_item(&item).await });
        if support::explaining() {
            processed
                .then(|data| explain!("processItem(item) awaited the read, then parsed: {data}"))
                .detach();
        } else {
            processed.detach();
        }
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}
