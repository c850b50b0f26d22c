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
//! The wrong usage prints at once, before any lookup has finished; the two
//! correct ones print the names 50 ms later, in the order they were started.
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
//! checks that the `{name}` version is rejected). The `.then` is a spawned task that
//! awaits, and `greetUser` is an async fn.

/// Stub the snippet assumes (not in the article): a database whose lookups
/// take 50 ms.
mod database {
    pub struct User {
        pub name: &'static str,
    }

    pub async fn get_user(id: u32) -> User {
        evloop::sleep(50).await;
        let name = if id == 123 { "Ada" } else { "Grace" };
        User { name }
    }
}

// Easy to forget that this returns a future
async fn get_user_name(id: u32) -> &'static str {
    let user = database::get_user(id).await;
    user.name
}

// Or better yet, with async/await
async fn greet_user(id: u32) {
    let name = get_user_name(id).await;
    println!("Hello, {name}");
}

fn main() {
    evloop::run(|| {
        // Wrong usage: Treating return value as string
        let name = evloop::spawn(get_user_name(123));
        // println!("Hello, {name}"); // error[E0277]: `Task<&str>` doesn't implement `std::fmt::Display`
        println!("Hello, {name:?}");
        name.detach(); // it runs on, like the JavaScript promise

        // Correct usage
        evloop::spawn(async {
            let name = get_user_name(123).await;
            println!("Hello, {name}");
        })
        .detach();

        // Or better yet, with async/await
        evloop::spawn(greet_user(456)).detach();
    });
}
