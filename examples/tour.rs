//! A first tour of the event loop: `cargo run --release --example tour`.
//!
//! Each stop runs a tiny program on a fresh loop and prints, as each callback
//! runs, the phase the loop is in, what ran and why it ran then, and at key
//! moments what waits in each queue. Pass `--quick` to skip the pauses.
//! Every line fits an 80-column terminal. Each stop's Rust code does what
//! the JavaScript it shows does, with a `log` (`step`) where the JavaScript
//! logs.

mod support;

use std::cell::OnceCell;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::time::Duration;

use evloop::{
    Builder, EventLoop, Thenable, next_tick, set_immediate, set_interval, set_timeout, sleep,
    spawn, yield_now,
};

fn pause(quick: bool) {
    if !quick {
        std::thread::sleep(Duration::from_millis(700));
    }
}

fn heading(title: &str, js: &str) {
    println!();
    println!("== {title}");
    for line in js.lines() {
        println!("   | {line}");
    }
    println!();
}

/// Prints one step: the phase running it, what ran, and the rule that put
/// it there. "main" is the call stack of the main script.
fn step(what: &str, why: &str) {
    let phase = evloop::snapshot().phase.name();
    if what.chars().count() > 18 {
        // Too long for its column: the rule goes on the next line.
        println!("  {phase:<7} {what}");
        println!("  {:<7} {:<18} {why}", "", "");
    } else {
        println!("  {phase:<7} {what:<18} {why}");
    }
}

/// Prints what waits in each queue right now (the call stack is the line
/// that calls this).
fn queues() {
    let s = evloop::snapshot();
    println!(
        "  {:<7} queues: next-tick {}, microtask {}, timers {}, immediates {}, I/O {}",
        "",
        s.next_ticks,
        s.microtasks,
        s.timers.referenced + s.timers.unreferenced,
        s.immediates.referenced + s.immediates.unreferenced,
        s.pool_queued + s.pool_running + s.pending
    );
}

/// `Promise.resolve()`: a promise that has already settled; its `.then`
/// callback runs in the microtask queue.
fn resolved() -> Ready<Result<(), ()>> {
    ready(Ok(()))
}

/// `__filename`: the file of the running program.
fn this_file() -> std::path::PathBuf {
    std::env::current_exe().expect("the running program's path")
}

fn main() {
    support::init();
    let quick = std::env::args().any(|a| a == "--quick");
    println!("evloop tour: how Node's event loop orders your callbacks");
    println!("(each program prints what Node v20 prints, in the same order)");

    heading(
        "1. The call stack runs to completion first",
        "setTimeout(() => log('timeout'), 0);\n\
         setImmediate(() => log('immediate'));\n\
         Promise.resolve().then(() => log('microtask'));\n\
         process.nextTick(() => log('next tick'));\n\
         log('sync');",
    );
    // From the main script, Node runs the timeout or the immediate first
    // depending on whether 1 ms passed before the loop's first turn. Virtual
    // time (the clock only moves when the loop is idle) makes it the
    // immediate every time.
    run(EventLoop::builder().virtual_time(true), || {
        set_timeout(0, || {
            step("timeout", "timers phase of the next turn (0 ms is 1 ms)")
        });
        set_immediate(|| step("immediate", "check phase, right after poll"));
        resolved()
            .then(|()| step("microtask", "microtasks drain after the next ticks"))
            .detach();
        next_tick(|| step("next tick", "next ticks drain first when the stack empties"));
        step("sync", "the main script is on the call stack");
        queues();
    });
    println!("  (in Node the timeout and the immediate may swap here: see design.md)");
    pause(quick);

    heading(
        "2. After EVERY callback: all next ticks, then all microtasks",
        "setTimeout(() => {\n\
         \x20 log('timer A');\n\
         \x20 process.nextTick(() => log('tick from A'));\n\
         \x20 Promise.resolve().then(() => log('microtask from A'));\n\
         }, 5);\n\
         setTimeout(() => log('timer B'), 5);",
    );
    run(EventLoop::builder(), || {
        set_timeout(5, || {
            step("timer A", "due at 5 ms, created first");
            next_tick(|| step("tick from A", "drained before timer B runs"));
            resolved()
                .then(|()| step("microtask from A", "then microtasks, still before B"))
                .detach();
            queues();
        });
        set_timeout(5, || step("timer B", "same deadline, created second"));
    });
    pause(quick);

    heading(
        "3. Timers run by deadline, then by creation order",
        "setTimeout(() => log('30 ms'), 30);\n\
         setTimeout(() => log('10 ms (first)'), 10);\n\
         setTimeout(() => log('20 ms'), 20);\n\
         setTimeout(() => log('10 ms (second)'), 10);",
    );
    run(EventLoop::builder(), || {
        set_timeout(30, || step("30 ms", "latest deadline runs last"));
        set_timeout(10, || {
            step("10 ms (first)", "earliest deadline, created first")
        });
        set_timeout(20, || step("20 ms", "next deadline"));
        set_timeout(10, || {
            step("10 ms (second)", "same deadline, created later")
        });
    });
    pause(quick);

    heading(
        "4. Inside an I/O callback, setImmediate beats setTimeout(0)",
        "fs.readFile(__filename, () => {\n\
         \x20 setTimeout(() => log('timeout'), 0);\n\
         \x20 setImmediate(() => log('immediate'));\n\
         });",
    );
    run(EventLoop::builder(), || {
        evloop::fs::read_file(this_file(), |_| {
            step("I/O callback", "poll phase: the pool's read is done");
            set_timeout(0, || step("timeout", "timers phase of the NEXT turn"));
            set_immediate(|| step("immediate", "check phase comes right after poll"));
        });
    });
    pause(quick);

    heading(
        "5. An immediate queued by an immediate waits a turn; ticks never do",
        "setImmediate(() => {\n\
         \x20 log('immediate 1');\n\
         \x20 setImmediate(() => log('immediate 3'));\n\
         \x20 process.nextTick(() => log('tick'));\n\
         });\n\
         setImmediate(() => log('immediate 2'));",
    );
    run(EventLoop::builder(), || {
        set_immediate(|| {
            step("immediate 1", "check phase");
            set_immediate(|| step("immediate 3", "queued during check: next turn"));
            next_tick(|| step("tick", "drains before immediate 2"));
        });
        set_immediate(|| step("immediate 2", "was queued before the phase began"));
    });
    pause(quick);

    heading(
        "6. An interval re-arms from when its run began",
        "let n = 0;\n\
         const t = setInterval(() => {\n\
         \x20 log('interval run ' + ++n);\n\
         \x20 if (n === 3) clearInterval(t);\n\
         }, 10);",
    );
    run(EventLoop::builder().virtual_time(true), || {
        let start = evloop::now();
        let mut n = 0;
        let t = std::rc::Rc::new(std::cell::Cell::new(None));
        let t2 = t.clone();
        t.set(Some(set_interval(10, move || {
            n += 1;
            let at = format!("interval run {n}");
            step(
                &at,
                &format!("at {} ms (virtual time)", evloop::now() - start),
            );
            if n == 3 {
                evloop::clear_interval(t2.get().expect("set below"));
            }
        })));
    });

    pause(quick);

    heading(
        "7. await resumes like a promise reaction: in the microtask queue",
        "async function main() {\n\
         \x20 log('main start');\n\
         \x20 await null;\n\
         \x20 log('after await');\n\
         }\n\
         main();\n\
         process.nextTick(() => log('tick'));\n\
         Promise.resolve().then(() => log('then'));\n\
         log('sync end');",
    );
    run(EventLoop::builder(), || {
        spawn(async {
            step("main start", "spawn runs the body at once, like a call");
            yield_now().await;
            step("after await", "a woken task runs as a microtask");
        })
        .detach();
        next_tick(|| step("tick", "next ticks still go first"));
        resolved()
            .then(|()| step("then", "queued after the task's wake-up"))
            .detach();
        step("sync end", "the rest of the main script");
    });
    pause(quick);

    heading(
        "8. Sequential awaits add up; parallel ones overlap",
        "await sleep(100); await sleep(100); await sleep(100);   // ~300 ms\n\
         await Promise.all([sleep(100), sleep(100), sleep(100)]); // ~100 ms",
    );
    run(EventLoop::builder().virtual_time(true), || {
        spawn(async {
            let start = evloop::now();
            for _ in 0..3 {
                sleep(100).await;
            }
            let seq = evloop::now() - start;
            step(
                "sequential",
                &format!("done at {seq} ms: each sleep waits for the last"),
            );
            let start = evloop::now();
            evloop::join!(sleep(100), sleep(100), sleep(100));
            let par = evloop::now() - start;
            step(
                "parallel",
                &format!("done at {par} ms: all three timers ran at once"),
            );
        })
        .detach();
    });

    pause(quick);

    heading(
        "9. Blocking work goes to the thread pool; callbacks come in poll",
        "fs.readFile('missing.txt', (err) => log(err.message));\n\
         fs.readFile(__filename, (err, data) => {\n\
         \x20 log('read ' + data.length + ' bytes');\n\
         \x20 setTimeout(() => log('timeout'), 0);\n\
         \x20 setImmediate(() => log('immediate'));\n\
         });",
    );
    run(EventLoop::builder(), || {
        evloop::fs::read_file("missing.txt", |r| {
            let e = r.expect_err("there is no such file");
            step("error callback", "an io::Error with Node's message:");
            println!("  {:<7} {e}", "");
        });
        evloop::fs::read_file(this_file(), |r| {
            let n = r.map(|d| d.len()).unwrap_or(0);
            step(
                &format!("read {n} bytes"),
                "a pool thread read it; the loop was free",
            );
            set_timeout(0, || step("timeout", "the next turn's timers phase"));
            set_immediate(|| step("immediate", "check phase: right after this poll phase"));
        });
    });
    pause(quick);

    heading(
        "10. CPU-heavy work belongs on a worker thread",
        "const ticker = setInterval(() => ticks++, 10);\n\
         runWorker(400000).then((primes) => {   // counts primes on a worker\n\
         \x20 log('primes ' + primes); log('ticks ' + ticks);\n\
         \x20 clearInterval(ticker);\n\
         });",
    );
    run(EventLoop::builder(), || {
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0));
        let t = ticks.clone();
        let ticker = set_interval(10, move || t.set(t.get() + 1));
        evloop::run_worker(400_000u64, |n, port| {
            let is_prime = |k: u64| {
                k > 1
                    && (2..)
                        .take_while(|d| d * d <= k)
                        .all(|d| !k.is_multiple_of(d))
            };
            let _ = port.post_message((2..n).filter(|&k| is_prime(k)).count());
        })
        .then(move |primes| {
            step(&format!("primes {primes}"), "counted on another thread...");
            let why = "...while the loop's 10 ms ticker ran";
            step(&format!("ticks {}", ticks.get()), why);
            evloop::clear_interval(ticker);
        })
        .catch(|err| step("worker error", &err.to_string()))
        .detach();
    });
    pause(quick);

    heading(
        "11. Sockets: readiness from the OS, callbacks in the poll phase",
        "const server = net.createServer((s) => {\n\
         \x20 log('connection');\n\
         \x20 s.on('data', (d) => s.end(d));\n\
         });\n\
         server.listen(0, () => {\n\
         \x20 const c = net.connect(server.address().port, () => {\n\
         \x20   log('connect');\n\
         \x20   c.write('hi');\n\
         \x20 });\n\
         \x20 c.on('data', (d) => log('echo ' + d));\n\
         \x20 c.on('close', () => { log('close'); server.close(); });\n\
         });",
    );
    run(EventLoop::builder(), || {
        let server = evloop::net::create_server(|socket| {
            step("connection", "the listener was readable (poll phase)");
            let s = socket.clone();
            socket.on_data(move |d| s.end_with(d.to_vec()));
        });
        let addr = server.listen("127.0.0.1:0").expect("a free port");
        // Node calls the listen callback on the next tick.
        next_tick(move || {
            let c: Rc<OnceCell<evloop::net::Socket>> = Rc::new(OnceCell::new());
            let c2 = c.clone();
            let client = evloop::net::connect(addr, move || {
                step("connect", "the socket became writable");
                c2.get().expect("connecting takes a turn").write("hi");
            })
            .expect("connect");
            client.on_data(|d| {
                step(
                    &format!("echo {}", String::from_utf8_lossy(d)),
                    "data handler",
                )
            });
            client.on_close(move |_| {
                step("close", "close phase: both sides ended");
                server.close(|| {});
            });
            let _ = c.set(client);
        });
    });

    println!();
    println!("The loop ran each program until nothing was left to do, then exited.");
    println!();
    println!("Next: the article's 24 snippets, each a runnable example printing what");
    println!("Node prints (examples/README.md maps them to its sections), e.g.");
    println!("  cargo run --example sequential_timing");
    println!("Add `-- --explain` to narrate each step and the phase it runs in:");
    println!("  cargo run --example promise_chain -- --explain");
    println!("Put EVLOOP_TRACE=1 in front to see every phase and callback as it runs,");
    println!("or EVLOOP_WATCHDOG_MS=100 to be warned when something blocks the loop:");
    println!("  EVLOOP_TRACE=1 cargo run --example set_timeout_order");
    println!("  EVLOOP_WATCHDOG_MS=100 cargo run --example primes_blocking_vs_worker");
    println!("To step through a real run in your browser (stack, queues, phases):");
    println!("  EVLOOP_REPLAY=run.html cargo run --example callback_hell");
    println!("and to test your intuition first: cargo run --example quiz");
    println!("`cargo run --example trace_demo` writes a trace you can open in");
    println!("Perfetto. The tests compare over 100 small programs with Node v20.");
}

fn run(builder: Builder, main: impl FnOnce()) {
    builder
        .build()
        .expect("cannot create an event loop")
        .run_main(main);
}
