//! Article: "Best Practices and Common Pitfalls", "Best Practices", 1. "Use
//! async/await for most cases".
//!
//! ```javascript
//! // Prefer this
//! async function readConfig() {
//!   try {
//!     const config = await fs.readFile('config.json', 'utf8');
//!     return JSON.parse(config);
//!   } catch (err) {
//!     console.error('Error reading config:', err);
//!     return {};
//!   }
//! }
//! ```
//!
//! The article only defines the function; the example calls it once, as the
//! golden script does (`readConfig();`), with a good `config.json`. It
//! prints nothing: the function returns the parsed config to a caller that
//! ignores it, as Node's run does. `--explain` shows what it returned, then
//! calls it twice more, with a broken `config.json` and with none: one
//! `try`/`catch` covers both ways to fail, the read (`ENOENT`) and the parse
//! (`SyntaxError`); either way the error goes to stderr and the caller gets
//! `{}`.
//!
//! In Rust the `try` block is an inner `async` block in which `?` stands for
//! "throw", and the `catch` is the `match` on its result. Both kinds of error
//! become a `Box<dyn Error>`, as JavaScript's `catch` gets any error. The
//! parsed config is a `serde_json::Value`.
//!
//! `cargo run --example read_config -- --explain` adds narration (`» ...`).

#[path = "../support/mod.rs"]
mod support;

use std::error::Error;
use std::path::PathBuf;

use evloop::{Task, fs};
use serde_json::{Map, Value};
use support::explain;

// Prefer this
async fn read_config() -> Value {
    let attempt = async {
        let config = fs::promises::read_to_string("config.json").await?;
        Ok::<Value, Box<dyn Error>>(serde_json::from_str(&config)?)
    };
    match attempt.await {
        Ok(config) => config,
        Err(err) => {
            eprintln!("Error reading config: {err}");
            Value::Object(Map::new())
        }
    }
}

fn main() {
    support::init();
    let dir = scratch_dir();

    evloop::run(|| {
        // The call (not in the article): `readConfig();`.
        let config = evloop::spawn(read_config());

        if support::explaining() {
            evloop::spawn(explain_the_three_cases(config)).detach();
        } else {
            config.detach();
        }
    });

    std::env::set_current_dir(std::env::temp_dir()).expect("leave the temporary directory");
    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
}

/// `--explain`: what the call returned, and the two ways to fail.
async fn explain_the_three_cases(config: Task<Value>) {
    explain!(
        "readConfig() read config.json on the thread pool and returned {}",
        inspect(&config.await)
    );
    fs::promises::write_file("config.json", r#"{ "port": 80"#)
        .await
        .expect("write config.json");
    explain!("with a broken config.json: JSON.parse throws, the catch logs it (stderr):");
    explain!("readConfig() returned {}", inspect(&read_config().await));
    fs::promises::unlink("config.json")
        .await
        .expect("remove config.json");
    explain!("with no config.json: the read rejects (ENOENT), the same catch logs it:");
    explain!("readConfig() returned {}", inspect(&read_config().await));
}

/// How `console.log` shows a small object: `{ host: 'localhost', port: 8080 }`.
fn inspect(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        Value::Object(map) if map.is_empty() => "{}".to_string(),
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

/// Setup (not in the article): a fresh temporary directory holding
/// `config.json`, made the working directory so that the path is the
/// article's.
fn scratch_dir() -> PathBuf {
    let name = format!("evloop-read_config-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    std::fs::write(
        dir.join("config.json"),
        r#"{"host":"localhost","port":8080}"#,
    )
    .expect("write config.json");
    std::env::set_current_dir(&dir).expect("enter the temporary directory");
    dir
}
