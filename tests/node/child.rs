//! Child processes (`child_process`): the order of `spawn`, `exit` and
//! `close` against Node's (JS beside the tests in tests/node/child/), the
//! pipes in both styles, `exec` with `maxBuffer`, bad input, ref/unref,
//! and that no child is left a zombie (reaped once, through the loop's
//! pidfd, or by the reaper when the loop is dropped first).

use crate::common;

use crate::common::{node_expected, say};

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use evloop::child_process::{
    self, ChildProcess, ExecOptions, ExitStatus, SpawnOptions, Stdio, promises,
};
use evloop::{EventLoop, next_tick, set_immediate, spawn};

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn sh(script: &str) -> ChildProcess {
    child_process::spawn("sh", ["-c", script], SpawnOptions::default()).unwrap()
}

/// Whether `pid` is gone or at least not our zombie: after a child's
/// `exit`, the loop has reaped it, so `/proc/PID` is gone (or, if the pid
/// was reused at once, belongs to a process that is not a zombie).
fn not_a_zombie(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            // `pid (comm) S ...`: the state follows the last ')'.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        }
    }
}

// ---------------------------------------------------------------------------
// Node's order (tests/node/child/)

/// libuv gives a child's piped output one end of a socket pair, not a
/// pipe; so does evloop (its buffer is also why `pipe_throughput` is fast).
#[test]
fn stdout_is_a_socket_pair() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "stdout_is_a_socket_pair");
    common::check(name, out, || {
        let child = sh(
            "for f in /dev/stdout /dev/stderr; do if [ -S $f ]; then echo \"$f: socket\"; \
             elif [ -p $f ]; then echo \"$f: pipe\"; else echo \"$f: other\"; fi; done",
        );
        child.stdout().unwrap().on_line(|line| say(line));
        child.on_close(|status| say(format!("close {}", status.code.unwrap())));
    });
}

#[test]
fn spawn_exit_close_order() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "spawn_exit_close_order");
    common::check(name, out, || {
        let child = sh("echo hi; echo err >&2; exit 3");
        #[derive(Default)]
        struct Seen {
            out: String,
            err: String,
            out_ended: bool,
            err_ended: bool,
            exited: bool,
        }
        let seen = Rc::new(RefCell::new(Seen::default()));
        child.on_spawn(|| say("spawn"));
        next_tick(|| say("tick after spawn()"));
        let s = seen.clone();
        let stdout = child.stdout().unwrap();
        stdout.on_data(move |d| s.borrow_mut().out += &String::from_utf8_lossy(d));
        let s = seen.clone();
        let stderr = child.stderr().unwrap();
        stderr.on_data(move |d| s.borrow_mut().err += &String::from_utf8_lossy(d));
        let s = seen.clone();
        stdout.on_end(move || s.borrow_mut().out_ended = true);
        let s = seen.clone();
        stderr.on_end(move || s.borrow_mut().err_ended = true);
        let s = seen.clone();
        child.on_exit(move |status| {
            s.borrow_mut().exited = true;
            say(format!("exit {status}"));
        });
        child.on_close(move |status| {
            let s = seen.borrow();
            say(format!("stdout {} ended {}", json(&s.out), s.out_ended));
            say(format!("stderr {} ended {}", json(&s.err), s.err_ended));
            say(format!("close {status} after exit {}", s.exited));
        });
        say("main done");
    });
}

#[test]
fn enoent_error() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "enoent_error");
    common::check(name, out, || {
        let child =
            child_process::spawn("nope-not-a-program", ["a"], SpawnOptions::default()).unwrap();
        say(format!(
            "pid {}",
            child.pid().map_or("undefined".into(), |p| p.to_string())
        ));
        child.on_spawn(|| say("spawn"));
        child.on_exit(|status| say(format!("exit {status}")));
        child.on_error(|e| {
            let code = evloop::fs::error_code(&e).unwrap_or("?");
            say(format!("error {e} code {code}"));
        });
        child.on_close(|status| say(format!("close {status}")));
        next_tick(|| say("tick"));
        set_immediate(|| say("immediate"));
    });
}

#[test]
fn kill_sigterm() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "kill_sigterm");
    common::check(name, out, || {
        let child = child_process::spawn("sleep", ["10"], SpawnOptions::default()).unwrap();
        let c = child.clone();
        child.on_spawn(move || {
            say(format!("kill {}", c.kill()));
            say(format!("killed {}", c.killed()));
        });
        child.on_exit(|status| say(format!("exit {status}")));
        let c = child.clone();
        child.on_close(move |status| {
            let s = c.exit_status().unwrap();
            let code = s.code.map_or("null".into(), |c| c.to_string());
            let signal = s.signal_name().unwrap_or("null");
            say(format!(
                "close {status} exitCode {code} signalCode {signal}"
            ));
        });
    });
}

#[test]
fn detached_group_kill() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "detached_group_kill");
    common::check(name, out, || {
        let options = SpawnOptions {
            detached: true,
            ..SpawnOptions::default()
        };
        let script = "sleep 300 & echo ready; wait";
        let child = child_process::spawn("sh", ["-c", script], options).unwrap();
        let c = child.clone();
        let first = Cell::new(true);
        child.stdout().unwrap().on_data(move |d| {
            if first.replace(false) {
                say(format!("stdout {}", String::from_utf8_lossy(d).trim()));
                say(format!("kill {}", c.kill_group(libc::SIGTERM)));
                say(format!("killed {}", c.killed()));
            }
        });
        child.on_exit(|status| say(format!("exit {status}")));
        child.on_close(|status| say(format!("close {status}")));
    });
}

#[test]
fn stdin_cat_round_trip() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "stdin_cat_round_trip");
    common::check(name, out, || {
        let child = child_process::spawn("cat", [""; 0], SpawnOptions::default()).unwrap();
        let out = Rc::new(RefCell::new(String::new()));
        let o = out.clone();
        let stdout = child.stdout().unwrap();
        stdout.on_data(move |d| o.borrow_mut().push_str(&String::from_utf8_lossy(d)));
        stdout.on_end(move || say(format!("stdout end {}", json(&out.borrow()))));
        let stdin = child.stdin().unwrap();
        say(format!("write {}", stdin.write("one\n")));
        stdin.write("two\n");
        stdin.end_with("three\n");
        child.on_exit(|status| say(format!("exit {status}")));
        child.on_close(|status| say(format!("close {status}")));
    });
}

fn err_line(e: Option<&child_process::ExecError>) -> String {
    e.map_or("null".into(), |e| format!("Error: {e}"))
}

#[test]
fn exec_collects_output() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "exec_collects_output");
    common::check(name, out, || {
        child_process::exec("echo out; echo err >&2", ExecOptions::default(), |r| {
            let o = r.unwrap();
            say(format!(
                "exec ok err {} stdout {} stderr {}",
                err_line(None),
                json(&o.stdout),
                json(&o.stderr)
            ));
            let cmd = "echo partial; echo bad >&2; exit 4";
            child_process::exec(cmd, ExecOptions::default(), |r| {
                let e = r.unwrap_err();
                say(format!(
                    "exec fail code {} killed {} signal {} cmd {}",
                    e.exit_code.unwrap(),
                    e.killed,
                    e.signal.map_or("null", child_process::signal_name),
                    e.cmd
                ));
                say(format!("message {}", json(&e.to_string())));
                say(format!(
                    "stdout {} stderr {}",
                    json(&e.stdout),
                    json(&e.stderr)
                ));
                child_process::exec_file("echo", ["a b", "c"], ExecOptions::default(), |r| {
                    let o = r.unwrap();
                    say(format!("execFile err null stdout {}", json(&o.stdout)));
                })
                .unwrap();
            })
            .unwrap();
        })
        .unwrap();
    });
}

#[test]
fn exec_max_buffer() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("child", "exec_max_buffer");
    common::check(name, out, || {
        let options = ExecOptions {
            max_buffer: 4,
            ..ExecOptions::default()
        };
        let child = child_process::exec("echo 0123456789; sleep 10", options, |r| {
            let e = r.unwrap_err();
            say(format!(
                "code {} message {e} name {}",
                e.node_code.unwrap(),
                e.name()
            ));
            say(format!(
                "killed {} signal {} cmd {}",
                e.killed,
                e.signal.map_or("null", child_process::signal_name),
                e.cmd
            ));
            say(format!(
                "stdout {} stderr {}",
                json(&e.stdout),
                json(&e.stderr)
            ));
        })
        .unwrap();
        let c = child.clone();
        child.on_exit(move |status| say(format!("child exit {status} killed {}", c.killed())));
    });
}

// ---------------------------------------------------------------------------
// The futures, the lines helper, the pipes

#[test]
fn wait_and_promises_exec() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let child = sh("exit 7");
        let status = child.wait().await.unwrap();
        let out = promises::exec("printf 'a\\nb'", ExecOptions::default())
            .await
            .unwrap();
        let failed = promises::exec_file("sh", ["-c", "exit 1"], ExecOptions::default())
            .await
            .unwrap_err();
        let missing = child_process::spawn("nope-not-a-program", [""; 0], SpawnOptions::default())
            .unwrap()
            .wait()
            .await
            .unwrap_err();
        (status, out.stdout, failed.exit_code, missing.to_string())
    });
    assert_eq!(
        got,
        (
            ExitStatus {
                code: Some(7),
                signal: None
            },
            "a\nb".to_string(),
            Some(1),
            "spawn nope-not-a-program ENOENT".to_string()
        )
    );
}

#[test]
fn lines_stream_and_callback() {
    let _w = common::watchdog();
    let (streamed, called) = evloop::run_async(async {
        // 200 lines: more than the stream's 64-line high-water mark, so
        // reading pauses and resumes as the consumer catches up.
        let child = sh("i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done; printf tail");
        let mut lines = child.stdout().unwrap().lines();
        let mut streamed = Vec::new();
        while let Some(line) = evloop::StreamNext::next(&mut lines).await {
            streamed.push(line);
        }
        let called = Rc::new(RefCell::new(Vec::new()));
        let c = called.clone();
        let child = sh("printf 'x\\r\\ny\\n\\nz'");
        child
            .stdout()
            .unwrap()
            .on_line(move |l| c.borrow_mut().push(l.to_owned()));
        // `close` comes after the last line (the pipe's end).
        let (tx, rx) = evloop::deferred();
        let tx = RefCell::new(Some(tx));
        child.on_close(move |_| tx.borrow_mut().take().unwrap().resolve(()));
        rx.await.unwrap();
        let called = called.borrow().clone();
        (streamed, called)
    });
    assert_eq!(streamed.len(), 201);
    assert_eq!(streamed[0], "line 0");
    assert_eq!(streamed[199], "line 199");
    assert_eq!(streamed[200], "tail");
    assert_eq!(called, ["x", "y", "", "z"]);
}

#[test]
fn two_pipes_read_at_once_keep_their_own_bytes() {
    // The pipes share one read buffer per thread: each chunk must still be
    // its own child's bytes, whole, in order.
    let _w = common::watchdog();
    let got = Rc::new(RefCell::new([Vec::new(), Vec::new()]));
    let g = got.clone();
    evloop::run(move || {
        for (i, letter) in ["a", "b"].into_iter().enumerate() {
            let script =
                format!("head -c 400000 /dev/zero | tr '\\0' {letter}; printf END{letter}");
            let g = g.clone();
            sh(&script)
                .stdout()
                .unwrap()
                .on_data(move |chunk| g.borrow_mut()[i].extend_from_slice(chunk));
        }
    });
    for (i, letter) in [b'a', b'b'].into_iter().enumerate() {
        let bytes = &got.borrow()[i];
        assert_eq!(bytes.len(), 400_004, "child {i}");
        assert!(bytes[..400_000].iter().all(|&c| c == letter), "child {i}");
        assert_eq!(bytes[400_000..], [b'E', b'N', b'D', letter], "child {i}");
    }
}

#[test]
fn chunks_stream_and_a_dropped_stream() {
    let _w = common::watchdog();
    let file = std::env::temp_dir().join(format!("evloop-chunks-{}", std::process::id()));
    std::fs::write(&file, vec![b'x'; 1 << 20]).unwrap();
    let path = file.to_str().unwrap().to_owned();
    let (bytes, status) = evloop::run_async(async move {
        // 1 MiB through the chunk stream.
        let child = child_process::spawn("cat", [path], SpawnOptions::default()).unwrap();
        let mut chunks = child.stdout().unwrap().chunks();
        let mut bytes = 0;
        while let Some(chunk) = evloop::StreamNext::next(&mut chunks).await {
            bytes += chunk.len();
        }
        // A stream dropped after one line: the rest is discarded, so the
        // child is not blocked on a full pipe and `close` comes.
        let child = sh("i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done; exit 3");
        let mut lines = child.stdout().unwrap().lines();
        assert_eq!(
            evloop::StreamNext::next(&mut lines).await.as_deref(),
            Some("line 0")
        );
        drop(lines);
        let (tx, rx) = evloop::deferred();
        let tx = RefCell::new(Some(tx));
        child.on_close(move |s| tx.borrow_mut().take().unwrap().resolve(s));
        (bytes, rx.await.unwrap())
    });
    std::fs::remove_file(&file).unwrap();
    assert_eq!(bytes, 1 << 20);
    assert_eq!(status.code, Some(3));
}

#[test]
fn stdin_backpressure_round_trip() {
    let _w = common::watchdog();
    const TOTAL: usize = 1024 * 1024;
    let (first_refused, drains, echoed) = {
        let refused = Rc::new(Cell::new(None));
        let drains = Rc::new(Cell::new(0));
        let echoed = Rc::new(Cell::new(0usize));
        let (r, d, e) = (refused.clone(), drains.clone(), echoed.clone());
        evloop::run(move || {
            let child = child_process::spawn("cat", [""; 0], SpawnOptions::default()).unwrap();
            let e = e.clone();
            child
                .stdout()
                .unwrap()
                .on_data(move |chunk| e.set(e.get() + chunk.len()));
            let stdin = child.stdin().unwrap().clone();
            let written = Rc::new(Cell::new(0usize));
            // Write 64 KiB chunks until `write` refuses, then wait for
            // `drain`: Node's backpressure loop.
            let pump: Rc<dyn Fn()> = {
                let stdin = stdin.clone();
                let written = written.clone();
                let r = r.clone();
                Rc::new(move || {
                    while written.get() < TOTAL {
                        written.set(written.get() + 64 * 1024);
                        if !stdin.write(vec![b'x'; 64 * 1024]) {
                            if r.get().is_none() {
                                r.set(Some(written.get()));
                            }
                            return;
                        }
                    }
                    stdin.end();
                })
            };
            let p = pump.clone();
            stdin.on_drain(move || {
                d.set(d.get() + 1);
                p();
            });
            pump();
        });
        (refused.get(), drains.get(), echoed.get())
    };
    assert!(first_refused.is_some(), "write never asked to wait");
    assert!(drains >= 1, "no drain");
    assert_eq!(echoed, TOTAL);
}

#[test]
fn write_all_waits_for_the_pipe_and_fails_on_a_closed_stdin() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let child = child_process::spawn("cat", [""; 0], SpawnOptions::default()).unwrap();
        // Read what `cat` echoes, or it blocks and stops reading.
        child.stdout().unwrap().on_data(|_| {});
        let stdin = child.stdin().unwrap();
        // 4 MiB: far more than a pipe holds, so the future must wait.
        for _ in 0..4 {
            stdin.write_all(vec![b'x'; 1 << 20]).await.unwrap();
        }
        stdin.write_all(Vec::new()).await.unwrap();
        stdin.end();
        let after_end = stdin.write_all("late").await.unwrap_err().to_string();
        child.wait().await.unwrap();
        // A child that closes its stdin: the pending write fails.
        let child = sh("exec 0<&-; sleep 0.3");
        let broken = child
            .stdin()
            .unwrap()
            .write_all(vec![0u8; 1 << 20])
            .await
            .unwrap_err()
            .to_string();
        (after_end, broken)
    });
    assert_eq!(got.0, "ERR_STREAM_WRITE_AFTER_END: write after end");
    assert_eq!(got.1, "write EPIPE");
}

#[test]
fn writing_to_a_dead_childs_stdin_is_epipe() {
    let _w = common::watchdog();
    // As Node (checked with the same child): `write false`, `error write
    // EPIPE` once the child closes its stdin; after `exit` stdin is
    // destroyed, and a write fails with ERR_STREAM_DESTROYED (Node hands
    // that to the write's callback; evloop's `write` has none, so it is an
    // `error` event).
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    evloop::run(move || {
        let child = sh("exec 0<&-; sleep 0.3");
        let stdin = child.stdin().unwrap().clone();
        let l2 = l.clone();
        stdin.on_error(move |e| l2.borrow_mut().push(format!("error {e}")));
        l.borrow_mut()
            .push(format!("write {}", stdin.write(vec![0u8; 1 << 20])));
        let l2 = l.clone();
        child.on_exit(move |_| {
            l2.borrow_mut().push("exit".to_string());
            stdin.write("x");
        });
    });
    assert_eq!(
        *log.borrow(),
        [
            "write false",
            "error write EPIPE",
            "exit",
            "error ERR_STREAM_DESTROYED: Cannot call write after a stream was destroyed"
        ]
    );
}

#[test]
fn inherit_and_ignore_have_no_pipes_and_close_after_exit() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    evloop::run(move || {
        let options = SpawnOptions {
            stdio: [Stdio::Ignore, Stdio::Ignore, Stdio::Inherit],
            env: Some(vec![("GREETING".into(), "hello".into())]),
            cwd: Some("/".into()),
            detached: false,
        };
        let child = child_process::spawn(
            "sh",
            [
                "-c",
                "test \"$GREETING\" = hello && test \"$(pwd)\" = / && test -z \"$HOME\"",
            ],
            options,
        )
        .unwrap();
        assert!(child.stdin().is_none() && child.stdout().is_none() && child.stderr().is_none());
        let l2 = l.clone();
        child.on_exit(move |s| l2.borrow_mut().push(format!("exit {s}")));
        let l2 = l.clone();
        child.on_close(move |s| l2.borrow_mut().push(format!("close {s}")));
    });
    assert_eq!(*log.borrow(), ["exit 0 null", "close 0 null"]);
}

/// Known difference (design.md): `max_buffer` counts bytes, where Node
/// counts the characters of the decoded text. "ééé" is 6 bytes, 3
/// characters: Node accepts it under `maxBuffer: 4`; evloop refuses it.
#[test]
fn max_buffer_counts_bytes() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let options = ExecOptions {
            max_buffer: 4,
            ..ExecOptions::default()
        };
        let e = promises::exec("printf ééé", options).await.unwrap_err();
        (e.node_code, e.stdout)
    });
    assert_eq!(got.0, Some("ERR_CHILD_PROCESS_STDIO_MAXBUFFER"));
    assert_eq!(got.1, "éé");
}

#[test]
fn a_child_that_closes_stdout_and_runs_on_closes_after_its_exit() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    evloop::run(move || {
        let child = sh("echo early; exec >&- 2>&-; sleep 0.1; exit 5");
        let l2 = l.clone();
        let stdout = child.stdout().unwrap();
        stdout.on_data(move |d| {
            l2.borrow_mut()
                .push(format!("data {}", String::from_utf8_lossy(d).trim()))
        });
        let l2 = l.clone();
        stdout.on_end(move || l2.borrow_mut().push("end".to_string()));
        let l2 = l.clone();
        child.on_exit(move |s| l2.borrow_mut().push(format!("exit {s}")));
        let l2 = l.clone();
        child.on_close(move |s| l2.borrow_mut().push(format!("close {s}")));
    });
    assert_eq!(
        *log.borrow(),
        ["data early", "end", "exit 5 null", "close 5 null"]
    );
}

#[test]
fn panics_in_child_handlers_follow_the_loop_policy_and_close_still_comes() {
    let _w = common::watchdog();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let r = reports.clone();
    let lp = EventLoop::builder()
        .on_uncaught_panic(move |p| r.borrow_mut().push(p.message().unwrap_or("?").to_string()))
        .build()
        .unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    lp.run_main(move || {
        // Three chunks in the pipe at once: the first chunk's handler
        // panics, the rest is still read.
        let child = sh("printf a; printf b; printf c; exit 2");
        let l2 = l.clone();
        let first = Cell::new(true);
        child.stdout().unwrap().on_data(move |d| {
            l2.borrow_mut().push(String::from_utf8_lossy(d).to_string());
            if first.replace(false) {
                panic!("data panics");
            }
        });
        let l2 = l.clone();
        child.stdout().unwrap().on_end(move || {
            l2.borrow_mut().push("end".into());
            panic!("end panics");
        });
        child.on_exit(|_| panic!("exit panics"));
        let l2 = l.clone();
        child.on_close(move |s| l2.borrow_mut().push(format!("close {s}")));
    });
    let mut reports = reports.borrow().clone();
    reports.sort();
    assert_eq!(reports, ["data panics", "end panics", "exit panics"]);
    let log = log.borrow();
    assert_eq!(
        log.concat().replace("end", "").replace("close 2 null", ""),
        "abc"
    );
    assert_eq!(log.last().map(String::as_str), Some("close 2 null"));
    assert!(log.contains(&"end".to_string()));
}

// ---------------------------------------------------------------------------
// Bad input (docs/reliability.md)

#[test]
fn bad_input_is_refused_as_node_throws() {
    let _w = common::watchdog();
    evloop::run(|| {
        let e = child_process::spawn("", [""; 0], SpawnOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ERR_INVALID_ARG_VALUE: The argument 'file' cannot be empty. Received ''"
        );
        let e = child_process::spawn("sh\0x", [""; 0], SpawnOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ERR_INVALID_ARG_VALUE: The argument 'file' must be a string without null bytes. Received 'sh\\x00x'"
        );
        let e = child_process::spawn("sh", ["a\0b"], SpawnOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ERR_INVALID_ARG_VALUE: The argument 'args[0]' must be a string without null bytes. Received 'a\\x00b'"
        );
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(child_process::exec("", ExecOptions::default(), |_| {}).is_err());
    });
}

#[test]
fn a_cwd_that_does_not_exist_is_an_error_event() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    evloop::run(move || {
        let options = SpawnOptions {
            cwd: Some("/nonexistent/dir".into()),
            ..SpawnOptions::default()
        };
        let child = child_process::spawn("sh", ["-c", "true"], options).unwrap();
        let l2 = l.clone();
        child.on_error(move |e| l2.borrow_mut().push(format!("error {e}")));
        let l2 = l.clone();
        child.on_close(move |s| l2.borrow_mut().push(format!("close {s}")));
    });
    // Node's text (libuv reports the failed chdir as the spawn's ENOENT).
    assert_eq!(*log.borrow(), ["error spawn sh ENOENT", "close -2 null"]);
}

/// `(state, process group, session)` of `pid`, from `/proc/PID/stat`;
/// `None` once it is gone.
fn proc_stat(pid: u32) -> Option<(char, u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) S ppid pgrp session ...`: the fields follow the last ')'.
    let mut f = stat.rsplit(')').next()?.split_whitespace();
    let state = f.next()?.chars().next()?;
    let _ppid = f.next()?;
    Some((state, f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

/// Known difference: `detached` makes a new process group in this
/// session (Node's `setsid` makes a new session too). `kill_group`
/// reaches the shell's background command, and refuses a child not
/// detached, and a detached one after its `close`.
#[test]
fn a_detached_child_leads_a_new_group_in_this_session() {
    let _w = common::watchdog();
    let (_, _, my_session) = proc_stat(std::process::id()).unwrap();
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let sleeper = Rc::new(Cell::new(0u32));
    let (l, s) = (seen.clone(), sleeper.clone());
    evloop::run(move || {
        let plain = child_process::spawn(
            "true",
            [] as [&str; 0],
            SpawnOptions {
                stdio: [Stdio::Ignore; 3],
                ..SpawnOptions::default()
            },
        )
        .unwrap();
        l.borrow_mut().push(format!(
            "plain kill_group {}",
            plain.kill_group(libc::SIGTERM)
        ));
        let options = SpawnOptions {
            detached: true,
            ..SpawnOptions::default()
        };
        let missing =
            child_process::spawn("evloop-no-such-program", [] as [&str; 0], options.clone())
                .unwrap();
        l.borrow_mut().push(format!(
            "never started kill_group {}",
            missing.kill_group(libc::SIGTERM)
        ));
        let script = "sleep 300 & echo $$ $!; wait";
        let child = child_process::spawn("sh", ["-c", script], options).unwrap();
        let (c, l2) = (child.clone(), l.clone());
        child.stdout().unwrap().on_line(move |line| {
            let pids: Vec<u32> = line.split(' ').map(|p| p.parse().unwrap()).collect();
            let (sh, sleep) = (pids[0], pids[1]);
            assert_eq!(Some(sh), c.pid());
            s.set(sleep);
            for (who, pid) in [("sh", sh), ("sleep", sleep)] {
                let (_, group, session) = proc_stat(pid).unwrap();
                l2.borrow_mut().push(format!(
                    "{who} group is sh {} session is ours {}",
                    group == sh,
                    session == my_session
                ));
            }
            l2.borrow_mut()
                .push(format!("kill_group {}", c.kill_group(libc::SIGTERM)));
        });
        let c = child.clone();
        child.on_close(move |status| {
            l.borrow_mut().push(format!("close {status}"));
            let again = c.kill_group(libc::SIGTERM);
            l.borrow_mut()
                .push(format!("kill_group after close {again}"));
        });
    });
    assert_eq!(
        *seen.borrow(),
        [
            "plain kill_group false",
            "never started kill_group false",
            "sh group is sh true session is ours true",
            "sleep group is sh true session is ours true",
            "kill_group true",
            "close null SIGTERM",
            "kill_group after close false",
        ]
    );
    // The background sleep got the signal too: it is dead (gone, or a
    // zombie until whoever inherited it reaps it).
    let pid = sleeper.get();
    let backstop = std::time::Instant::now() + Duration::from_secs(60) * common::slowdown();
    while proc_stat(pid).is_some_and(|(state, ..)| state != 'Z') {
        assert!(
            std::time::Instant::now() < backstop,
            "the background sleep {pid} outlived its group's SIGTERM"
        );
        // sleep: the pause between two looks at /proc; it ends only by the
        // process dying (or the backstop): no race.
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// ref/unref, reaping, teardown

#[test]
fn a_running_child_keeps_the_loop_alive_unless_unrefd() {
    let _w = common::watchdog();
    // Referenced: the loop waits for `sleep 0.2`.
    let exited = Rc::new(Cell::new(false));
    let e = exited.clone();
    evloop::run(move || {
        let child = child_process::spawn(
            "sleep",
            ["0.2"],
            SpawnOptions {
                stdio: [Stdio::Ignore; 3],
                ..SpawnOptions::default()
            },
        )
        .unwrap();
        child.on_exit(move |_| e.set(true));
    });
    assert!(exited.get());
    // Unref'd (and no pipes): the loop exits at once; dropping it hands
    // the child to the reaper, which reaps it once we kill it.
    let pid = Rc::new(Cell::new(0));
    let p = pid.clone();
    let lp = EventLoop::new().unwrap();
    lp.run_main(move || {
        let child = child_process::spawn(
            "sleep",
            ["30"],
            SpawnOptions {
                stdio: [Stdio::Ignore; 3],
                ..SpawnOptions::default()
            },
        )
        .unwrap();
        child.unref();
        p.set(child.pid().unwrap());
    });
    let pid = pid.get();
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the child was killed"
    );
    drop(lp);
    // Not killed by the drop (Node's children outlive their parent)...
    assert!(not_a_zombie(pid));
    std::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .unwrap();
    // ...and reaped by the reaper once it ends: wait for it to go.
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        // sleep: polling for the reaper thread to reap; no order depends on it.
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn dropping_the_loop_closes_the_pipes_drops_the_handlers_and_the_child_is_reaped() {
    let _w = common::watchdog();
    struct Counted(Rc<Cell<u32>>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let dropped = Rc::new(Cell::new(0));
    let lp = EventLoop::new().unwrap();
    let d = dropped.clone();
    let pid = lp.enter(move || {
        // `cat` runs until its stdin closes.
        let child = child_process::spawn("cat", [""; 0], SpawnOptions::default()).unwrap();
        // Handlers that hold the child itself: a cycle only teardown breaks.
        let (c, held) = (child.clone(), Counted(d.clone()));
        child.on_exit(move |_| {
            let _ = (&c, &held);
        });
        let (c, held) = (child.clone(), Counted(d.clone()));
        child.stdout().unwrap().on_data(move |_| {
            let _ = (&c, &held);
        });
        child.pid().unwrap()
    });
    drop(lp);
    assert_eq!(dropped.get(), 2, "the handlers were not dropped");
    // Its stdin closed with the loop, so `cat` ends, and the reaper reaps it.
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        // sleep: polling for the reaper thread to reap; no order depends on it.
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn children_are_reaped_once_and_leave_no_zombie() {
    let _w = common::watchdog();
    let pids = Rc::new(RefCell::new(Vec::new()));
    let p = pids.clone();
    evloop::run(move || {
        for i in 0..20 {
            let child = sh(&format!("exit {i}"));
            p.borrow_mut().push(child.pid().unwrap());
            let p = p.clone();
            let pid = child.pid().unwrap();
            child.on_exit(move |s| {
                assert_eq!(s.code, Some(i));
                // Reaped before `exit` runs.
                assert!(not_a_zombie(pid));
                let _ = &p;
            });
        }
        // The future style too, with every child of this test awaited.
        spawn(async {
            let status = sh("exit 0").wait().await.unwrap();
            assert!(status.success());
        })
        .detach();
    });
    for pid in pids.borrow().iter() {
        assert!(not_a_zombie(*pid), "child {pid} is a zombie");
    }
}

#[test]
fn walk_lists_the_process_and_its_pipes() {
    let _w = common::watchdog();
    evloop::run(|| {
        let child = sh("exit 0");
        let kinds: Vec<&str> = evloop::walk().iter().map(|h| h.kind.name()).collect();
        assert!(kinds.contains(&"ProcessWrap"), "{kinds:?}");
        assert_eq!(
            kinds.iter().filter(|k| **k == "PipeWrap").count(),
            3,
            "{kinds:?}"
        );
        child.on_exit(|_| {});
    });
}

// ---------------------------------------------------------------------------
// The scenario folder

#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("child", include_str!("child.rs"));
}

/// Re-runs every JS scenario with `node` (when on PATH) and checks the
/// `.out` files are what it prints.
#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("child", 6);
}
