//! An order-dependent bug that ordinary runs miss and exploration finds.
//!
//! The program reads its settings and a message from two files at once and
//! prints the message in the language the settings name. It assumes the
//! settings arrive first, because they were asked for first: on an
//! ordinary run (and on seed 0, evloop's default order) they do. But two
//! `fs.readFile` calls are two thread-pool jobs, which finish in any order,
//! in Node as here: `evloop::explore` tries every order and shows the run
//! where the message arrives first and is printed in the default language.
//!
//! `cargo run --example explore_orders` explores and prints the seed that
//! shows the bug; `EVLOOP_SEED=N cargo run --example explore_orders` replays
//! the run of seed N alone, byte for byte.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use evloop::{ExploreOptions, Recorder, explore, fs};

/// The program under test: the shape of many real ones.
fn program(out: &Recorder, dir: &Path) {
    let language = Rc::new(RefCell::new(None::<String>));
    let (l, o) = (language.clone(), out.clone());
    fs::read_to_string(dir.join("settings.txt"), move |text| {
        *l.borrow_mut() = Some(text.expect("settings").trim().to_string());
        o.line("settings loaded");
    });
    let o = out.clone();
    fs::read_to_string(dir.join("message.txt"), move |text| {
        // The bug: the settings are assumed loaded by now.
        let lang = language.borrow().clone().unwrap_or_else(|| "en".into());
        o.line(format!(
            "message ({lang}): {}",
            text.expect("message").trim()
        ));
    });
}

/// The property the program should have: the message is printed in the
/// language of the settings.
fn correct(lines: &[String]) -> bool {
    lines
        .iter()
        .all(|l| !l.starts_with("message") || l.starts_with("message (fr)"))
}

fn main() {
    let dir: PathBuf = std::env::temp_dir().join(format!("evloop-explore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    std::fs::write(dir.join("settings.txt"), "fr\n").expect("settings.txt");
    std::fs::write(dir.join("message.txt"), "bonjour\n").expect("message.txt");

    if std::env::var_os("EVLOOP_SEED").is_some() {
        // Replay: `evloop::run` builds its loop from the environment.
        let out = Recorder::default();
        evloop::run(|| program(&out, &dir));
        for line in out.lines() {
            println!("{line}");
        }
    } else {
        let found = explore(ExploreOptions::default(), |out| program(out, &dir));
        print!("{found}");
        let buggy = found.outcomes().iter().find(|o| !correct(o.lines()));
        match buggy.and_then(|o| o.seed()) {
            Some(seed) => println!(
                "bug: the message was printed before the settings arrived; \
                 replay it with EVLOOP_SEED={seed} cargo run --example explore_orders"
            ),
            None => println!("every order is correct"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
