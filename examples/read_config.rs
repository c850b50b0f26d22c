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
//! Three calls: with a good `config.json`, with a broken one, and with none.
//! One `try`/`catch` covers both ways to fail, the read (`ENOENT`) and the
//! parse (`SyntaxError`); either way the error goes to stderr and the caller
//! gets `{}`.
//!
//! In Rust the `try` block is an inner `async` block in which `?` stands for
//! "throw", and the `catch` is the `match` on its result. Both kinds of error
//! become a `Box<dyn Error>`, as JavaScript's `catch` gets any error. The
//! parsed config is a `serde_json::Value`, printed the way `console.log`
//! shows an object.

use std::error::Error;
use std::path::PathBuf;

use evloop::fs;
use serde_json::{Map, Value};

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

fn main() {
    let dir = scratch_dir();

    evloop::run_async(async {
        println!("Config: {}", inspect(&read_config().await));
        fs::promises::write_file("config.json", r#"{ "port": 80"#)
            .await
            .unwrap();
        println!(
            "Config from a broken file: {}",
            inspect(&read_config().await)
        );
        fs::promises::unlink("config.json").await.unwrap();
        println!("Config without the file: {}", inspect(&read_config().await));
    });

    std::env::set_current_dir(std::env::temp_dir()).expect("leave the temporary directory");
    std::fs::remove_dir_all(dir).expect("remove the temporary directory");
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
