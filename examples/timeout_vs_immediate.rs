//! Node's best-known "it depends", as an unchanged program to explore from
//! outside:
//!
//! ```javascript
//! setTimeout(() => console.log("timeout"), 0);
//! setImmediate(() => console.log("immediate"));
//! ```
//!
//! From the main script, the 0 ms timeout (Node's 1 ms) runs before the
//! immediate only if that millisecond passed before the first timers
//! phase, so Node prints either order. `cargo run --example
//! timeout_vs_immediate` prints evloop's default, `immediate` first;
//! `EVLOOP_EXPLORE=10 cargo run --example timeout_vs_immediate` runs the
//! program under every schedule (each run a child process) and reports
//! the two outputs with the seed of each; `EVLOOP_SEED=1` replays the
//! other one.
//!
//! With `-- --check`, the program is one that assumes the usual order: if
//! the timeout comes first it prints `wrong order` and exits at once with
//! status 1 (`process.exit(1)`). Explored, that outcome shows with its exit
//! status, and the exploration exits with status 1.

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let immediate_ran = std::rc::Rc::new(std::cell::Cell::new(false));
    let ran = immediate_ran.clone();
    evloop::run(move || {
        evloop::set_timeout(0, move || {
            println!("timeout");
            if check && !immediate_ran.get() {
                println!("wrong order");
                std::process::exit(1);
            }
        });
        evloop::set_immediate(move || {
            ran.set(true);
            println!("immediate");
        });
    });
}
