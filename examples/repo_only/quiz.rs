//! Predict, then see (issue 17): a quiz on the order in which Node runs
//! callbacks. `cargo run --example quiz`.
//!
//! Each question shows a small JavaScript program from evloop's Node
//! ordering suites (`tests/node/order`, `tests/node/async`), lists the lines
//! it prints, and asks for the order you expect. Then it runs the program's
//! Rust port (the shape of its port in `tests/node/node_order.rs` or
//! `node_async.rs`) on a fresh `evloop::EventLoop`, prints the real order,
//! checks it against what Node v20 printed (the script's recorded `.out`),
//! says whether you were right and which queue or phase rule decided it,
//! and records the run as a replay page (`target/quiz/qN.html`) to step
//! through in a browser. Every loop runs on virtual time, so the timers of
//! a question fire exactly when due, and at once. Each run is a child
//! process (this program with `--run N`): a replay records everything its
//! process prints, so this way a page holds its run's output alone, not
//! the rest of the quiz.
//!
//! Answers: the letters of the lines in the order you expect, e.g. `b a c`
//! (or `bac`, or `b, a, c`), leaving out any line you think never prints.
//! An empty line (or `-`) skips a question. With `--answers "b a c; a b"`
//! the answers come from the argument, one per question with `;` between
//! them; otherwise from standard input, one line per question (when it is
//! not a terminal, an answer that cannot be read counts as wrong instead of
//! being asked again). When the answers run out (end of input), the
//! remaining questions are skipped, still showing their real order.
//!
//! Flags: `--list` prints the questions; `--question N` asks only question
//! N; `--js N` prints question N's JavaScript alone (`... --js 3 > q3.js &&
//! node q3.js` prints the same order); `--replay-dir DIR` puts the pages in
//! DIR instead of `target/quiz`.

#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use evloop::{
    EventLoop, Immediate, Timer, clear_immediate, clear_interval, next_tick, queue_microtask,
    set_immediate, set_interval, set_timeout, spawn, yield_now,
};

// ---------------------------------------------------------------------------
// What the ports call: the scripts' console.log, busy wait and fs.readFile.

/// `console.log`. The run's standard output is its lines (the quiz reads
/// them from the child process), and the replay page shows each in place.
fn log(line: impl AsRef<str>) {
    println!("{}", line.as_ref());
}

/// The scripts' busy wait `block(ms)`: holds the loop for `ms`; on virtual
/// time the clock moves by exactly `ms`.
fn block(ms: u64) {
    evloop::block_for(Duration::from_millis(ms));
}

/// `fs.readFile(__filename, cb)`: a real read on the thread pool, whose
/// callback runs in the poll phase (with or without an error, the order is
/// the same).
#[track_caller]
fn read_file(cb: impl FnOnce() + 'static) {
    // This example belongs to the tests crate (tests/), one level below the
    // root that `file!()` is relative to.
    evloop::fs::read_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../", file!()), |_| {
        cb()
    });
}

/// A slot for a handle that a callback needs (`let b; ... b = setX()`).
fn slot<T>() -> std::rc::Rc<std::cell::Cell<Option<T>>> {
    std::rc::Rc::new(std::cell::Cell::new(None))
}

// ---------------------------------------------------------------------------
// The questions.

/// A script of the Node suites and what Node v20 printed for it.
struct Source {
    /// `tests/node/GROUP/NAME.js`.
    js: &'static str,
    /// Its text.
    text: &'static str,
    /// The text of `tests/node/GROUP/NAME.out`.
    out: &'static str,
}

/// `source!("GROUP", "NAME")`: the script `tests/node/GROUP/NAME.js` and
/// its recorded output, included at compile time.
macro_rules! source {
    ($group:literal, $name:literal) => {
        Source {
            js: concat!("tests/node/", $group, "/", $name, ".js"),
            text: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/node/",
                $group,
                "/",
                $name,
                ".js"
            )),
            out: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/node/",
                $group,
                "/",
                $name,
                ".out"
            )),
        }
    };
}

struct Question {
    title: &'static str,
    source: Source,
    /// Changes to the script as shown, after its comment lines (which give
    /// the answer away) are dropped: `(from, to)` text replacements. The
    /// result still runs in Node and prints the `.out`.
    edits: &'static [(&'static str, &'static str)],
    /// Lines the program could print but never does (they are choices too).
    never: &'static [&'static str],
    /// The rule that decided the order, in one to three lines.
    why: &'static str,
    /// The Rust port, run as the main script of a fresh loop.
    port: fn(),
}

impl Question {
    /// The program shown: the script without its comment lines, with the
    /// question's edits.
    fn js(&self) -> String {
        let mut js: String = self
            .source
            .text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .map(|l| format!("{l}\n"))
            .collect();
        for (from, to) in self.edits {
            js = js.replace(from, to);
        }
        js
    }

    /// The lines to order: every line it prints, and those it never does,
    /// sorted so that their letters give nothing away.
    fn choices(&self) -> Vec<&'static str> {
        let mut lines: Vec<&'static str> = self.source.out.lines().collect();
        lines.extend(self.never);
        lines.sort_unstable();
        lines.dedup();
        assert!(
            lines.len() <= 26,
            "{}: too many lines to letter",
            self.title
        );
        lines
    }

    fn node_lines(&self) -> Vec<&'static str> {
        self.source.out.lines().collect()
    }
}

fn questions() -> Vec<Question> {
    vec![
        Question {
            title: "Synchronous code first, then the queues",
            source: source!("order", "sync_before_async"),
            edits: &[],
            never: &[],
            why: "The main script runs to the end first. Then the nextTick queue, then the\n\
                  microtask queue (queueMicrotask and .then share it, in order). Then the\n\
                  loop: the immediate in the first check phase, the timer once it is due.",
            port: || {
                log("main start");
                set_timeout(30, || log("timeout 30"));
                set_immediate(|| log("immediate"));
                queue_microtask(|| log("microtask"));
                next_tick(|| log("tick"));
                queue_microtask(|| log("promise then"));
                log("main end");
            },
        },
        Question {
            title: "process.nextTick or a promise: which runs first?",
            source: source!("order", "tick_before_microtask"),
            edits: &[],
            never: &[],
            why: "When the call stack empties, Node drains the whole nextTick queue first,\n\
                  then the microtask queue: promise reactions and queueMicrotask share that\n\
                  one queue, first in, first out.",
            port: || {
                queue_microtask(|| log("micro 1"));
                queue_microtask(|| log("promise 1"));
                next_tick(|| log("tick 1"));
                queue_microtask(|| log("micro 2"));
                next_tick(|| log("tick 2"));
                queue_microtask(|| log("promise 2"));
                next_tick(|| log("tick 3"));
                log("main");
            },
        },
        Question {
            title: "A microtask queued inside a nextTick",
            source: source!("order", "microtask_inside_tick"),
            edits: &[],
            never: &[],
            why: "The nextTick queue drains completely, ticks added meanwhile included,\n\
                  before any microtask runs; the microtask queued by tick 1 joins the back\n\
                  of the microtask queue, behind 'micro main'.",
            port: || {
                next_tick(|| {
                    log("tick 1");
                    queue_microtask(|| log("micro from tick 1"));
                    next_tick(|| log("tick 3 (from tick 1)"));
                });
                next_tick(|| log("tick 2"));
                queue_microtask(|| log("micro main"));
            },
        },
        Question {
            title: "Two promise chains and a nextTick",
            source: source!("order", "promise_chain_vs_tick"),
            edits: &[],
            never: &[],
            why: "A .then queues its step only once the step before it has run, so the\n\
                  chains take turns in the one microtask queue. A nextTick queued from a\n\
                  microtask waits until the microtask queue is empty.",
            port: || {
                next_tick(|| log("tick 1"));
                // Promise.resolve().then(A1).then(A2).then(A3): each step
                // queues the next when it has run.
                queue_microtask(|| {
                    log("chain A step 1");
                    next_tick(|| log("tick 2 (from A1)"));
                    queue_microtask(|| {
                        log("chain A step 2");
                        queue_microtask(|| log("chain A step 3"));
                    });
                });
                queue_microtask(|| {
                    log("chain B step 1");
                    queue_microtask(|| log("chain B step 2"));
                });
                queue_microtask(|| log("queueMicrotask"));
                log("main");
            },
        },
        Question {
            title: "What runs after an await?",
            source: source!("async", "await_null_called_from_main"),
            edits: &[],
            never: &[],
            why: "Calling an async function runs its body at once, up to the first await;\n\
                  the rest resumes as a microtask: after the main script, and after the\n\
                  nextTick queue.",
            port: || {
                next_tick(|| log("tick"));
                // f('main'): spawning runs the body up to its first await.
                spawn(async {
                    log("main: before await");
                    yield_now().await; // await null
                    log("main: after await");
                })
                .detach();
                log("main: after call");
            },
        },
        Question {
            title: "An async function that returns before any await",
            source: source!("async", "async_return_before_await"),
            edits: &[],
            never: &[],
            why: "The body ran to its return at once, so p is already fulfilled; still,\n\
                  .then never runs its callback at once: it queues a microtask, which runs\n\
                  after the nextTicks and before the later queueMicrotask.",
            port: || {
                let early = |flag: bool| {
                    spawn(async move {
                        log(format!("early body, flag={flag}"));
                        if flag {
                            return "early result";
                        }
                        yield_now().await;
                        "late result"
                    })
                };
                let p = early(true);
                log("after call");
                spawn(async move { log(format!("then: {}", p.await)) }).detach();
                next_tick(|| log("tick"));
                queue_microtask(|| log("queueMicrotask"));
                log("main end");
            },
        },
        Question {
            title: "An immediate scheduled inside an immediate",
            source: source!("order", "immediate_inside_immediate"),
            edits: &[],
            never: &[],
            why: "A check phase runs the immediates that were queued when it began; D and E,\n\
                  queued during it, wait for the next iteration's check phase, after C.",
            port: || {
                set_immediate(|| {
                    log("immediate A");
                    set_immediate(|| log("immediate D (from A)"));
                });
                set_immediate(|| {
                    log("immediate B");
                    set_immediate(|| log("immediate E (from B)"));
                });
                set_immediate(|| log("immediate C"));
                log("main");
            },
        },
        Question {
            title: "clearImmediate in the same check phase",
            source: source!("order", "clear_immediate_same_phase"),
            edits: &[
                ("immediate B (must not happen)", "immediate B"),
                ("clearImmediate(undefined);\n", ""),
            ],
            never: &["immediate B"],
            why: "A, B and C are all queued for the same check phase and run in order; A\n\
                  clears B before B's turn, so B never runs, and C still does.",
            port: || {
                let b = slot::<Immediate>();
                let b2 = b.clone();
                set_immediate(move || {
                    log("immediate A clears B");
                    clear_immediate(b2.get().expect("b is set"));
                });
                b.set(Some(set_immediate(|| log("immediate B"))));
                set_immediate(|| log("immediate C"));
                log("main");
            },
        },
        Question {
            title: "setTimeout 0 or setImmediate, inside an I/O callback",
            source: source!("order", "io_timeout_vs_immediate"),
            edits: &[],
            never: &[],
            why: "The readFile callback runs in the poll phase. The check phase comes right\n\
                  after poll, the timers phase only in the next iteration: from an I/O\n\
                  callback the immediate always runs first.",
            port: || {
                read_file(|| {
                    log("readFile callback");
                    set_timeout(0, || log("timeout 0"));
                    set_immediate(|| log("immediate"));
                });
                log("main");
            },
        },
        Question {
            title: "Everything an fs.readFile callback queues",
            source: source!("order", "io_callback_drains_queues"),
            edits: &[],
            never: &[],
            why: "After every callback, an I/O one too, Node drains the nextTick queue and\n\
                  then the microtask queue. Only then does the loop go on: the check phase\n\
                  (immediate), then the next iteration's timers.",
            port: || {
                read_file(|| {
                    log("readFile callback");
                    set_timeout(0, || log("timeout 0"));
                    set_immediate(|| log("immediate"));
                    queue_microtask(|| log("promise"));
                    next_tick(|| log("tick"));
                    queue_microtask(|| log("microtask"));
                    next_tick(|| log("tick 2"));
                });
            },
        },
        Question {
            title: "setTimeout 0 or setImmediate, inside a timer",
            source: source!("order", "immediate_vs_timeout_in_timer"),
            edits: &[],
            never: &[],
            why: "A timeout set during the timers phase waits for the next iteration's\n\
                  timers phase (0 ms is 1 ms), but this iteration's check phase comes\n\
                  first: the immediate runs before it.",
            port: || {
                set_timeout(10, || {
                    log("timer");
                    set_timeout(0, || log("timeout 0 (from timer)"));
                    set_immediate(|| log("immediate (from timer)"));
                });
            },
        },
        Question {
            title: "A timeout set inside a timer, due at once",
            source: source!("order", "timer_inside_timer_next_pass"),
            edits: &[
                (
                    "block(5); // C is already due, but still waits for the next timers pass",
                    "block(5); // busy for 5 ms",
                ),
                (
                    "block(20); // A and B are both due in the first pass",
                    "block(20); // busy for 20 ms",
                ),
            ],
            never: &[],
            why: "A and B are due when the loop starts. C is due right after A, but a\n\
                  timer set during a timers pass never runs in that pass: B runs, then\n\
                  the check phase (the immediate), then C in the next iteration.",
            port: || {
                set_timeout(10, || {
                    log("timer A");
                    set_timeout(0, || log("timer C (0 ms, from A)"));
                    set_immediate(|| log("immediate (from A)"));
                    block(5);
                });
                set_timeout(10, || log("timer B"));
                block(20);
            },
        },
        Question {
            title: "Ticks and microtasks between two timers",
            source: source!("order", "drain_between_timers"),
            edits: &[(
                "block(30); // both 10 ms timers and the 20 ms one are due in the first timers pass",
                "block(30); // busy for 30 ms: all three timers are due when the loop starts",
            )],
            never: &[],
            why: "Since Node 11 the nextTick and microtask queues drain after each timer\n\
                  callback (and each immediate), not once after the whole phase: A's tick\n\
                  and microtask run before timer B.",
            port: || {
                for name in ["A", "B"] {
                    set_timeout(10, move || {
                        log(format!("timer {name}"));
                        queue_microtask(move || log(format!("micro {name}")));
                        next_tick(move || log(format!("tick {name}")));
                    });
                }
                set_timeout(20, || log("timer C (20ms)"));
                block(30);
            },
        },
        Question {
            title: "An interval and a timeout",
            source: source!("order", "interval_with_timeout"),
            edits: &[],
            never: &[],
            why: "Intervals and timeouts wait in one list ordered by due time: the\n\
                  interval is due at 40, 80 and 120 ms, the timeout at 100 ms.",
            port: || {
                let count = std::rc::Rc::new(std::cell::Cell::new(0));
                let iv = slot::<Timer>();
                let iv2 = iv.clone();
                iv.set(Some(set_interval(40, move || {
                    count.set(count.get() + 1);
                    log(format!("interval {}", count.get()));
                    if count.get() == 3 {
                        clear_interval(iv2.get().expect("iv is set"));
                    }
                })));
                set_timeout(100, || log("timeout 100"));
            },
        },
        Question {
            title: "Overdue timers: by due time or by creation?",
            source: source!("order", "overdue_timers_by_deadline"),
            edits: &[("block(40);", "block(40); // busy for 40 ms")],
            never: &[],
            why: "All five are overdue when the loop starts, yet they run by due time (the\n\
                  5 ms ones first), and timers due at the same time in creation order.",
            port: || {
                set_timeout(15, || log("t1 (15 ms)"));
                set_timeout(5, || log("t2 (5 ms)"));
                set_timeout(15, || log("t3 (15 ms)"));
                set_timeout(15, || log("t4 (15 ms)"));
                set_timeout(5, || log("t5 (5 ms)"));
                block(40);
                log("main end");
            },
        },
    ]
}

// ---------------------------------------------------------------------------
// Asking and checking.

fn letter(i: usize) -> char {
    (b'a' + i as u8) as char
}

fn letters(order: &[Option<usize>]) -> String {
    order
        .iter()
        .map(|i| i.map_or("?".to_string(), |i| letter(i).to_string()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An answer: the choices' indices in the order given, or why it cannot be
/// read. `b a c`, `bac` and `b, a, c` are the same answer.
fn parse_answer(answer: &str, choices: usize) -> Result<Vec<usize>, String> {
    let answer = answer.to_lowercase();
    let mut tokens: Vec<&str> = answer
        .split(|c: char| c.is_whitespace() || c == ',' || c == '>')
        .filter(|t| !t.is_empty())
        .collect();
    let glued = tokens.len() == 1 && tokens[0].chars().all(|c| c.is_ascii_lowercase());
    if glued {
        let word = tokens[0];
        tokens = (0..word.len()).map(|i| &word[i..=i]).collect();
    }
    let last = letter(choices - 1);
    let mut order = Vec::new();
    for t in tokens {
        let i = match t.as_bytes() {
            [c @ b'a'..=b'z'] if usize::from(c - b'a') < choices => usize::from(c - b'a'),
            _ => return Err(format!("{t:?} is not one of the letters a to {last}")),
        };
        if order.contains(&i) {
            return Err(format!("{t:?} is there twice"));
        }
        order.push(i);
    }
    Ok(order)
}

enum Reply {
    Order(Vec<usize>),
    Unreadable(String),
    Skip,
    /// No more answers: this question and the rest are skipped.
    End,
}

/// Where the answers come from.
enum Answers {
    /// `--answers`, split at `;`.
    Given(std::vec::IntoIter<String>),
    /// Standard input, one line per question.
    Stdin { terminal: bool, ended: bool },
}

impl Answers {
    fn ask(&mut self, choices: usize) -> Reply {
        loop {
            print!("   Your order: ");
            let _ = std::io::stdout().flush();
            let (line, echo, ask_again) = match self {
                Answers::Given(given) => match given.next() {
                    Some(a) => (a, true, false),
                    None => {
                        println!("(no answer: skipped)");
                        return Reply::End;
                    }
                },
                Answers::Stdin { ended: true, .. } => {
                    println!("(no answer: skipped)");
                    return Reply::End;
                }
                Answers::Stdin { terminal, ended } => {
                    let mut line = String::new();
                    match std::io::stdin().lock().read_line(&mut line) {
                        Ok(0) | Err(_) => {
                            *ended = true;
                            println!("(no answer: skipped)");
                            return Reply::End;
                        }
                        Ok(_) => (line, !*terminal, *terminal),
                    }
                }
            };
            let line = line.trim();
            if echo {
                println!("{line}");
            }
            if line.is_empty() || line == "-" || line.eq_ignore_ascii_case("skip") {
                return Reply::Skip;
            }
            match parse_answer(line, choices) {
                Ok(order) => return Reply::Order(order),
                Err(why) if ask_again => println!("   ({why}; try again, or press Enter to skip)"),
                Err(why) => return Reply::Unreadable(why),
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Right,
    Wrong,
    Skipped,
}

/// `--run N --page PAGE`, in the child process: runs question N's port as
/// the main script of a fresh loop on virtual time that records to `page`.
fn run_port(q: &Question, page: &Path) {
    let lp = EventLoop::builder()
        .virtual_time(true)
        .replay(page)
        .build()
        .expect("cannot create an event loop");
    lp.run_main(q.port);
    drop(lp); // writes the page (and it is written again at exit)
}

/// Runs question `n` in a child process (see the module docs); the lines
/// it printed.
fn run_child(n: usize, page: &Path) -> Result<Vec<String>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let out = Command::new(exe)
        .arg("--run")
        .arg(n.to_string())
        .arg("--page")
        .arg(page)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("it {} after printing {text:?}", out.status));
    }
    Ok(text.lines().map(String::from).collect())
}

fn pose(n: usize, total: usize, q: &Question, answers: &mut Answers, dir: &Path) -> Outcome {
    println!();
    println!("== Question {n} of {total}: {}", q.title);
    println!("   from {}", q.source.js);
    println!();
    for line in q.js().trim().lines() {
        println!("   | {line}");
    }
    println!();
    let choices = q.choices();
    println!("   It prints some or all of these lines:");
    for (i, c) in choices.iter().enumerate() {
        println!("     {}) {c}", letter(i));
    }
    println!("   In which order? Type their letters (e.g. \"b a c\"), leaving out any");
    println!("   line you think never prints; an empty line skips the question.");
    let reply = answers.ask(choices.len());

    println!();
    println!("   Running it on a fresh evloop::EventLoop:");
    let page = dir.join(format!("q{n}.html"));
    let printed = run_child(n, &page).unwrap_or_else(|e| {
        eprintln!("quiz: question {n}'s run failed: {e}");
        std::process::exit(1);
    });
    for line in &printed {
        println!("{line}");
    }
    let real: Vec<Option<usize>> = printed
        .iter()
        .map(|line| choices.iter().position(|c| c == line))
        .collect();
    println!("   Real order: {}", letters(&real));
    let node_out = q.source.js.replace(".js", ".out");
    if printed == q.node_lines() {
        println!("   Node v20 prints the same ({node_out}).");
    } else {
        println!(
            "   But Node v20 printed otherwise ({node_out}): {}",
            q.node_lines().join(" / ")
        );
    }
    let outcome = match reply {
        Reply::Order(order) if order.iter().map(|&i| Some(i)).eq(real.iter().copied()) => {
            println!("   Right!");
            Outcome::Right
        }
        Reply::Order(order) => {
            let yours: Vec<Option<usize>> = order.into_iter().map(Some).collect();
            println!("   Not quite: you said {}.", letters(&yours));
            Outcome::Wrong
        }
        Reply::Unreadable(why) => {
            println!("   Could not read that answer ({why}): counted as wrong.");
            Outcome::Wrong
        }
        Reply::Skip | Reply::End => {
            println!("   (skipped)");
            Outcome::Skipped
        }
    };
    for (i, line) in q.why.lines().enumerate() {
        let head = if i == 0 { "Why:" } else { "" };
        println!("   {head:<4} {}", line.trim());
    }
    println!("   Step through it: open {} in a browser.", page.display());
    outcome
}

// ---------------------------------------------------------------------------
// The command line.

const USAGE: &str = "\
usage: cargo run --example quiz -- [--list | --js N | --question N]
                                   [--answers \"b a c; a b; ...\"] [--replay-dir DIR]
  --list          the questions' titles and the scripts they come from
  --question N    ask only question N
  --answers A     take the answers from A (one per question, `;` between
                  them) instead of standard input
  --js N          print question N's JavaScript (to run it with node)
  --replay-dir D  write the replay pages to D (default: target/quiz)";

struct Options {
    list: bool,
    question: Option<usize>,
    js: Option<usize>,
    answers: Option<String>,
    replay_dir: PathBuf,
    /// `--run N --page PAGE`: the child process that runs question N.
    run: Option<(usize, PathBuf)>,
}

fn default_replay_dir() -> PathBuf {
    let target = option_env!("CARGO_TARGET_DIR").unwrap_or("target");
    // The tests crate's folder is tests/; target/ is beside it.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(target)
        .join("quiz")
}

fn parse_options(total: usize) -> Result<Options, String> {
    let mut opts = Options {
        list: false,
        question: None,
        js: None,
        answers: None,
        replay_dir: default_replay_dir(),
        run: None,
    };
    let mut page = None;
    let number = |v: Option<String>, flag: &str| -> Result<usize, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a question number"))?;
        match v.parse::<usize>() {
            Ok(n) if (1..=total).contains(&n) => Ok(n),
            _ => Err(format!("{flag} {v}: the questions are 1 to {total}")),
        }
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => opts.list = true,
            "--question" => opts.question = Some(number(args.next(), "--question")?),
            "--js" => opts.js = Some(number(args.next(), "--js")?),
            "--answers" => {
                opts.answers = Some(args.next().ok_or("--answers needs the answers")?);
            }
            "--replay-dir" => {
                opts.replay_dir = args.next().ok_or("--replay-dir needs a folder")?.into();
            }
            "--run" => opts.run = Some((number(args.next(), "--run")?, PathBuf::new())),
            "--page" => page = Some(PathBuf::from(args.next().ok_or("--page needs a path")?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some((_, path)) = &mut opts.run {
        *path = page.ok_or("--run needs --page")?;
    }
    Ok(opts)
}

fn main() {
    support::init();
    let all = questions();
    let opts = parse_options(all.len()).unwrap_or_else(|e| {
        eprintln!("quiz: {e}\n{USAGE}");
        std::process::exit(2);
    });
    if let Some((n, page)) = &opts.run {
        run_port(&all[n - 1], page);
        return;
    }
    if opts.list {
        for (i, q) in all.iter().enumerate() {
            println!("{:2}. {} ({})", i + 1, q.title, q.source.js);
        }
        return;
    }
    if let Some(n) = opts.js {
        println!("{}", all[n - 1].js().trim());
        return;
    }

    let mut answers = match opts.answers {
        Some(given) => Answers::Given(
            given
                .split(';')
                .map(|a| a.trim().to_string())
                .collect::<Vec<_>>()
                .into_iter(),
        ),
        None => Answers::Stdin {
            terminal: std::io::stdin().is_terminal(),
            ended: false,
        },
    };
    if let Err(e) = std::fs::create_dir_all(&opts.replay_dir) {
        eprintln!(
            "quiz: cannot create {} ({e}): the replay pages will be missing",
            opts.replay_dir.display()
        );
    }

    println!("Predict, then see: in which order does Node run these callbacks?");
    println!("Each program comes from evloop's Node test suites. Type the order you");
    println!("expect; the quiz then runs the program's Rust port on evloop, shows the");
    println!("real order (checked against what Node v20 printed), says which rule");
    println!("decided it, and records the run as a page you can step through.");

    let total = all.len();
    let chosen: Vec<usize> = match opts.question {
        Some(n) => vec![n],
        None => (1..=total).collect(),
    };
    let mut outcomes = Vec::new();
    for &n in &chosen {
        outcomes.push(pose(n, total, &all[n - 1], &mut answers, &opts.replay_dir));
    }

    let count = |o: Outcome| outcomes.iter().filter(|&&x| x == o).count();
    let answered = outcomes.len() - count(Outcome::Skipped);
    println!();
    println!(
        "Score: {} of {answered} answered right ({} skipped).",
        count(Outcome::Right),
        count(Outcome::Skipped)
    );
    let pages = match chosen[..] {
        [n] => format!("q{n}.html"),
        _ => format!("q1.html to q{total}.html"),
    };
    println!(
        "Replay pages: {} in {}: each steps through one run,",
        pages,
        opts.replay_dir.display()
    );
    println!("callback by callback, with the call stack, every queue and the phase.");
}
