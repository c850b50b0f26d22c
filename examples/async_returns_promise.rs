//! Article: "Best Practices and Common Pitfalls", "Common Pitfalls", 4.
//! "Forgetting that async functions always return Promises".
//!
//! ```javascript
//! // Easy to forget that this returns a Promise
//! async function getUserName(id) {
//!   const user = await database.getUser(id);
//!   return user.name;
//! }
//!
//! // Wrong usage: Treating return value as string
//! const name = getUserName(123);
//! console.log(`Hello, ${name}`); // Will print "Hello, [object Promise]"
//!
//! // Correct usage
//! getUserName(123).then(name => {
//!   console.log(`Hello, ${name}`);
//! });
//!
//! // Or better yet, with async/await
//! async function greetUser(id) {
//!   const name = await getUserName(id);
//!   console.log(`Hello, ${name}`);
//! }
//! ```
//!
//! The wrong usage prints at once, before any lookup has finished; the
//! correct one prints the name 50 ms later. `greetUser` is only defined, in
//! the article as here: nothing calls it.
//!
//! **Where Rust differs.** Calling an async function in JavaScript starts it
//! and returns a promise; `evloop::spawn(get_user_name(123))` does the same
//! and returns a `Task`. But a `Task` is not a string, and Rust will not
//! pretend it is: `println!("Hello, {name}")` does not compile (`Task` has
//! no `Display`), so the mistake is caught before the program runs. To show
//! what you would get, this example prints the handle with `{:?}` instead:
//! `Hello, Task { index: 0 }` where Node prints `Hello, [object Promise]`.
//! That is the one line that differs from Node's output (the golden test
//! accepts any text after `Hello, ` there; `tests/examples/pitfalls.rs`
//! checks that the `{name}` version is rejected).
//!
//! The lookup can fail (a `Result`, the promise's rejection), so
//! `getUserName(123).then(..)` is `evloop::Thenable::then` on its task, and
//! `greetUser`'s `await` is `.await?`, which passes a rejection on to its
//! own promise as JavaScript does.
//!
//! `cargo run --example async_returns_promise -- --explain` adds narration
//! (`» ...`).

mod support;

use evloop::Thenable;
use support::explain;

/// Stub the snippet assumes (not in the article): a database whose lookups
/// take 50 ms.
mod database {
    pub struct User {
        pub name: &'static str,
    }

    pub async fn get_user(id: u32) -> Result<User, String> {
        evloop::sleep(50).await;
        match id {
            123 => Ok(User { name: "Ada" }),
            456 => Ok(User { name: "Grace" }),
            _ => Err(format!("no user {id}")),
        }
    }
}

// Easy to forget that this returns a future
async fn get_user_name(id: u32) -> Result<&'static str, String> {
    let user = database::get_user(id).await?;
    Ok(user.name)
}

// Or better yet, with async/await
#[allow(dead_code)] // defined, not called, as in the article
async fn greet_user(id: u32) -> Result<(), String> {
    let name = get_user_name(id).await?;
    println!("Hello, {name}");
    Ok(())
}

fn main() {
    support::init();
    evloop::run(|| {
        // Wrong usage: Treating return value as string
        let name = evloop::spawn(get_user_name(123));
        // println!("Hello, {name}"); // error[E0277]: `Task<Result<&str, String>>` doesn't implement `std::fmt::Display`
        println!("Hello, {name:?}");
        explain!("`name` is the handle of a task still waiting for its lookup, not a name");
        name.detach(); // it runs on, like the JavaScript promise

        // Correct usage
        evloop::spawn(get_user_name(123))
            .then(|name| {
                explain!("the lookup's 50 ms timer fired; .then runs as a microtask after it");
                println!("Hello, {name}");
            })
            .detach();
    });
}
