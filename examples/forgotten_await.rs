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
//! In JavaScript the bad version runs and fails at run time: `JSON.parse`
//! gets `"[object Promise]"` (the golden script reports that on stderr). In
//! Rust it never gets that far, so this example runs only the good version:
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

use std::error::Error;
use std::path::PathBuf;

use evloop::fs;
use serde_json::Value;

struct Item {
    path: PathBuf,
}

// Good: With await
async fn process_item(item: &Item) -> Result<Value, Box<dyn Error>> {
    let data = fs::promises::read_to_string(&item.path).await?;
    Ok(serde_json::from_str(&data)?)
}

/// How `console.log` shows a small object: `{ id: 7, name: 'widget' }`.
fn inspect(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(key, v)| format!("{key}: {}", inspect(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

fn main() {
    // Setup (not in the article): the file the snippet reads, in a fresh
    // temporary directory.
    let dir = std::env::temp_dir().join(format!("evloop-forgotten_await-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    let item = Item {
        path: dir.join("item.json"),
    };
    std::fs::write(&item.path, r#"{"id":7,"name":"widget"}"#).expect("write item.json");

    evloop::run_async(async move {
        eprintln!("Bad version: does not compile in Rust (see the comment at the top)");
        match process_item(&item).await {
            Ok(data) => println!("Good: {}", inspect(&data)),
            Err(err) => eprintln!("Good version failed: {err}"),
        }
    });

    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}
