//! Signals (`evloop::process::on_signal`): what a process-wide signal does
//! to loops. Alone in its test binary because signals are process-wide:
//! every test here holds [`one_at_a_time`], raises a signal only while
//! a listener catches it, and the scenarios that need a process to die
//! run in a child (this binary re-run with `SCENARIO` set). The Node
//! scenarios' ports are in `tests/node/signal.rs`.

mod common;

use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use evloop::process::{self, Signal, SignalError, SignalListener};
use evloop::{Check, EventLoop, HandleKind, Prepare, RunMode, next_tick, queue_microtask};

/// Held by every test here: a signal reaches every loop of the process
/// that listens for it, and one test's raise must not reach another's.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SIGNAL_TESTS: Mutex<()> = Mutex::new(());
    SIGNAL_TESTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends `signal` to this thread: the handler runs before this returns.
fn raise(signal: Signal) {
    // SAFETY: `raise` only sends a signal to this thread; every caller
    // listens for it, so the handler catches it.
    assert_eq!(unsafe { libc::raise(signal.as_raw()) }, 0);
}

/// Sends `signal` to the process: any of its threads may take it.
fn kill_self(signal: Signal) {
    // SAFETY: `kill` on our own pid with a signal some loop listens for.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signal.as_raw()) }, 0);
}

/// Whether `n`'s disposition is the default action.
fn is_default(n: i32) -> bool {
    // SAFETY: all-zero `sigaction` is valid; the call only reads the
    // disposition into it.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(n, std::ptr::null(), &mut old), 0);
        old.sa_sigaction == libc::SIG_DFL
    }
}

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn say(s: impl Into<String>) {
    LOG.with(|l| l.borrow_mut().push(s.into()));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// A listener that removes itself the first time it runs: `f` runs, and
/// the loop may end (the listener keeps it alive until then).
fn once_ref(signal: Signal, f: impl Fn(Signal) + 'static) -> Rc<RefCell<Option<SignalListener>>> {
    let slot: Rc<RefCell<Option<SignalListener>>> = Rc::default();
    let s = slot.clone();
    let l = process::on_signal(signal, move |sig| {
        f(sig);
        s.borrow_mut().take();
    })
    .unwrap();
    l.ref_();
    *slot.borrow_mut() = Some(l);
    slot
}

#[test]
fn a_listener_runs_in_the_poll_phase_with_the_drain_after_it() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    evloop::run(|| {
        let prepare = Prepare::new();
        prepare.start(|_| say("prepare"));
        let check = Check::new();
        check.start(|c| {
            say("check");
            c.stop();
        });
        let _keep = once_ref(Signal::Usr1, move |sig| {
            say(format!("listener {sig}"));
            next_tick(|| say("tick"));
            queue_microtask(|| say("microtask"));
            prepare.stop();
        });
        raise(Signal::Usr1);
    });
    assert_eq!(
        take_log(),
        ["prepare", "listener SIGUSR1", "tick", "microtask", "check"]
    );
    assert!(is_default(libc::SIGUSR1));
}

#[test]
fn loops_on_two_threads_both_get_a_signal_each_on_its_own_thread() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let (ready_tx, ready_rx) = mpsc::channel();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ready = ready_tx.clone();
            std::thread::spawn(move || {
                let me = std::thread::current().id();
                let got = Rc::new(Cell::new(None));
                let g = got.clone();
                evloop::run(move || {
                    let _keep = once_ref(Signal::Usr2, move |sig| {
                        assert_eq!(std::thread::current().id(), me);
                        g.set(Some(sig));
                    });
                    ready.send(()).unwrap();
                });
                got.get()
            })
        })
        .collect();
    for _ in 0..2 {
        ready_rx.recv().unwrap();
    }
    // Both loops listen: whichever thread the kernel picks runs the
    // handler, which writes to both loops' pipes.
    kill_self(Signal::Usr2);
    for t in threads {
        assert_eq!(t.join().unwrap(), Some(Signal::Usr2));
    }
    assert!(is_default(libc::SIGUSR2));
}

#[test]
fn a_listener_does_not_keep_the_loop_alive_unless_referenced() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let lp = EventLoop::new().unwrap();
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    let listener =
        lp.enter(|| process::on_signal(Signal::Hup, move |_| r.set(r.get() + 1)).unwrap());
    assert!(!is_default(libc::SIGHUP));
    assert!(!listener.has_ref());
    let kinds: Vec<_> = lp
        .walk()
        .into_iter()
        .map(|h| (h.kind, h.referenced))
        .collect();
    assert_eq!(kinds, [(HandleKind::Signal, false)]);
    // Unreferenced: the loop has nothing to wait for and returns.
    assert!(!lp.run(RunMode::Default));
    // A loop without a listener exits while another loop's handler is in.
    let other = EventLoop::new().unwrap();
    assert!(!other.run(RunMode::Default));
    listener.ref_();
    assert!(listener.has_ref());
    assert!(lp.walk()[0].referenced);
    raise(Signal::Hup);
    // Referenced: a turn waits for it and runs it.
    assert!(lp.run(RunMode::Once));
    assert_eq!(ran.get(), 1);
    listener.unref();
    assert!(!lp.run(RunMode::Default));
    drop(listener);
    assert!(lp.walk().is_empty());
    assert!(is_default(libc::SIGHUP));
}

#[test]
fn a_signal_that_comes_while_the_loop_sleeps_in_the_poll_wakes_it() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let got = Rc::new(Cell::new(None));
    let g = got.clone();
    evloop::run(move || {
        let _keep = once_ref(Signal::Term, move |sig| g.set(Some(sig)));
        std::thread::spawn(|| {
            // sleep: only so that the loop is likely asleep in epoll_wait
            // when the signal comes; any order delivers it the same way.
            std::thread::sleep(Duration::from_millis(50));
            kill_self(Signal::Term);
        });
    });
    assert_eq!(got.get(), Some(Signal::Term));
    assert!(is_default(libc::SIGTERM));
}

#[test]
fn the_stream_form_yields_each_signal_caught() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let got = evloop::run_async(async {
        let mut winch = process::signals(Signal::Winch).unwrap();
        winch.ref_();
        assert!(winch.has_ref());
        raise(Signal::Winch);
        raise(Signal::Winch);
        let first = winch.next().await;
        let second = winch.next().await;
        (first, second)
    });
    assert_eq!(got, (Signal::Winch, Signal::Winch));
    assert!(is_default(libc::SIGWINCH));
}

#[test]
fn an_unreferenced_stream_lets_the_loop_end_while_it_waits() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    // `await once(process, 'SIGUSR1')` alone: Node exits with the promise
    // unsettled; `run_async` says its main can never finish.
    let err = std::panic::catch_unwind(|| {
        evloop::run_async(async {
            let mut usr1 = process::signals(Signal::Usr1).unwrap();
            assert!(!usr1.has_ref());
            usr1.next().await
        })
    })
    .unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(msg.contains("nothing can wake it"), "{msg}");
    assert!(is_default(libc::SIGUSR1));
}

#[test]
fn a_panicking_listener_does_not_lose_the_signals_caught_after_it() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let panics = Rc::new(Cell::new(0));
    let p = panics.clone();
    let lp = EventLoop::builder()
        .on_uncaught_panic(move |_| p.set(p.get() + 1))
        .build()
        .unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let listener = lp.enter(|| {
        let l = process::on_signal(Signal::Usr1, move |_| {
            c.set(c.get() + 1);
            if c.get() == 1 {
                panic!("first signal");
            }
        })
        .unwrap();
        l.ref_(); // so that `NoWait` polls (an unreferenced loop does not)
        raise(Signal::Usr1);
        raise(Signal::Usr1);
        l
    });
    // One turn: the poll phase reads both, the first panics into the
    // handler, and the second runs in the next turn's pending phase.
    lp.run(RunMode::NoWait);
    lp.run(RunMode::NoWait);
    assert_eq!((calls.get(), panics.get()), (2, 1));
    drop(listener);
}

#[test]
fn dropping_the_loop_removes_its_listeners_and_restores_the_default() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    let lp = EventLoop::new().unwrap();
    let (a, b) = lp.enter(|| {
        (
            process::on_signal(Signal::Int, |_| {}).unwrap(),
            process::on_signal(Signal::Term, |_| {}).unwrap(),
        )
    });
    assert!(!is_default(libc::SIGINT) && !is_default(libc::SIGTERM));
    drop(lp);
    assert!(is_default(libc::SIGINT) && is_default(libc::SIGTERM));
    // Handles that outlived their loop: no-ops.
    assert!(!a.has_ref());
    a.ref_();
    a.remove();
    drop(b);
    // A new loop listens again from scratch.
    let got = Rc::new(Cell::new(None));
    let g = got.clone();
    evloop::run(move || {
        let _keep = once_ref(Signal::Int, move |sig| g.set(Some(sig)));
        raise(Signal::Int);
    });
    assert_eq!(got.get(), Some(Signal::Int));
    assert!(is_default(libc::SIGINT));
}

#[test]
fn signals_that_cannot_be_listened_for_are_clear_errors() {
    let _w = common::watchdog();
    for (name, err) in [
        ("SIGKILL", SignalError::Uncatchable("SIGKILL".into())),
        ("STOP", SignalError::Uncatchable("SIGSTOP".into())),
        ("SIGPIPE", SignalError::Unsupported("SIGPIPE".into())),
        ("SIGCHLD", SignalError::Unsupported("SIGCHLD".into())),
        ("SIGFOO", SignalError::Unknown("SIGFOO".into())),
        ("", SignalError::Unknown("".into())),
    ] {
        assert_eq!(Signal::from_name(name), Err(err), "{name}");
    }
    assert_eq!(
        Signal::from_raw(libc::SIGKILL).unwrap_err().to_string(),
        "SIGKILL cannot be caught or ignored"
    );
    assert_eq!(
        Signal::from_raw(libc::SIGSEGV).unwrap_err().to_string(),
        format!("evloop does not listen for signal {}", libc::SIGSEGV)
    );
    assert_eq!(
        Signal::from_raw(-1).unwrap_err().to_string(),
        "Unknown signal: -1"
    );
    assert_eq!("SIGUSR2".parse::<Signal>(), Ok(Signal::Usr2));
    assert_eq!(Signal::from_raw(libc::SIGHUP), Ok(Signal::Hup));
}

// ---- Scenarios run in a child process (this binary, re-run). ----

/// Selects the child's scenario.
const SCENARIO: &str = "EVLOOP_SIGNAL_SCENARIO";

/// Runs test `name` of this binary alone in a child with `SCENARIO` set;
/// returns it once it printed `ready`, with what it printed before.
fn spawn_child(name: &str, scenario: &str) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env(SCENARIO, scenario)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.as_mut().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        let line = lines.next().expect("the child prints ready").unwrap();
        // libtest prints the test's name on the same line first.
        if line.ends_with("ready") {
            break;
        }
    }
    child
}

fn ready() {
    let mut out = std::io::stdout();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
}

/// The child waits here for the signal: its stdin never gets a byte.
fn wait_for_parent() {
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn removing_the_last_listener_gives_the_default_action_back() {
    let _w = common::watchdog();
    const NAME: &str = "removing_the_last_listener_gives_the_default_action_back";
    match std::env::var(SCENARIO).as_deref() {
        Ok("removed") => {
            evloop::run(|| {
                let a = process::on_signal(Signal::Term, |_| {}).unwrap();
                let b = process::on_signal(Signal::Term, |_| {}).unwrap();
                a.remove();
                drop(b);
            });
            ready();
            wait_for_parent();
            return;
        }
        Ok("loop_dropped") => {
            let lp = EventLoop::new().unwrap();
            let l = lp.enter(|| process::on_signal(Signal::Term, |_| {}).unwrap());
            drop(lp);
            ready();
            wait_for_parent();
            drop(l);
            return;
        }
        Ok("listening") => {
            evloop::run(|| {
                let _keep = once_ref(Signal::Term, |sig| println!("caught {sig}"));
                ready();
            });
            return;
        }
        _ => {}
    }
    for scenario in ["removed", "loop_dropped"] {
        let mut child = spawn_child(NAME, scenario);
        kill_child(&child, libc::SIGTERM);
        let status = child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(libc::SIGTERM),
            "{scenario}: {status:?}"
        );
    }
    // The control: with the listener in place, SIGTERM is only an event.
    let child = spawn_child(NAME, "listening");
    kill_child(&child, libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("caught SIGTERM"), "{stdout}");
}

fn kill_child(child: &std::process::Child, n: i32) {
    // SAFETY: `kill` of a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, n) }, 0);
}

#[test]
fn sigpipe_is_ignored_so_writing_to_a_closed_pipe_is_epipe() {
    let _w = common::watchdog();
    const NAME: &str = "sigpipe_is_ignored_so_writing_to_a_closed_pipe_is_epipe";
    if std::env::var(SCENARIO).as_deref() == Ok("sigpipe") {
        // As a C host that left SIGPIPE at its default (Rust's `main`
        // ignores it before any test runs).
        // SAFETY: sets one signal's disposition; nothing else runs here.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        let _lp = EventLoop::new().unwrap();
        let (reader, mut writer) = std::io::pipe().unwrap();
        drop(reader);
        let err = writer.write_all(b"x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPIPE));
        println!("epipe");
        ready();
        return;
    }
    let child = spawn_child(NAME, "sigpipe");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "died: {:?}", out.status);
}

#[test]
fn out_of_descriptors_a_listener_is_an_error_and_works_once_freed() {
    let _w = common::watchdog();
    const NAME: &str = "out_of_descriptors_a_listener_is_an_error_and_works_once_freed";
    if std::env::var(SCENARIO).as_deref() == Ok("emfile") {
        // In a child: the descriptor limit is process-wide.
        let lp = EventLoop::new().unwrap();
        common::set_fd_limit(64);
        let mut hogs = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            hogs.push(f);
        }
        let err = lp
            .enter(|| process::on_signal(Signal::Usr1, |_| {}))
            .unwrap_err();
        assert!(
            matches!(&err, SignalError::Os(libc::EMFILE, _))
                && err
                    .to_string()
                    .starts_with("cannot listen for signals: Too many open files"),
            "{err:?}"
        );
        // Nothing was left half made: the loop has no handle, the signal
        // keeps its default action.
        assert!(lp.walk().is_empty());
        assert!(is_default(libc::SIGUSR1));
        drop(hogs);
        let l = lp.enter(|| process::on_signal(Signal::Usr1, |_| {}).unwrap());
        assert!(!is_default(libc::SIGUSR1));
        drop(l);
        ready();
        return;
    }
    let child = spawn_child(NAME, "emfile");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn listening_with_no_loop_running_panics_naming_the_function() {
    let _w = common::watchdog();
    let _one = one_at_a_time();
    for f in [
        (|| drop(process::on_signal(Signal::Usr1, |_| {}))) as fn(),
        || drop(process::signals(Signal::Usr1)),
    ] {
        let err = std::panic::catch_unwind(f).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(
            msg.starts_with("evloop: process::on_signal() called with no event loop running"),
            "{msg}"
        );
    }
    // Nothing was installed.
    assert!(is_default(libc::SIGUSR1));
}
