//! The standard streams (`evloop::process::{stdin, stdout, stderr}`).
//! Alone in its test binary because they are process-wide: every scenario
//! runs in a child (this binary re-run with `SCENARIO` set) whose stdin,
//! stdout and stderr are pipes held by the test.
//!
//! The child is a libtest run, which prints `test NAME ... ` before the
//! scenario's output and `ok` after it: the parent reads past the first
//! and stops at the second.

mod common;

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::rc::Rc;

use evloop::process::{self, StdWriter};
use evloop::{next_tick, queue_microtask, set_immediate, set_timeout};

/// Selects the child's scenario.
const SCENARIO: &str = "EVLOOP_STDIO_SCENARIO";

fn scenario() -> Option<String> {
    std::env::var(SCENARIO).ok()
}

/// Runs test `name` of this binary alone in a child with `SCENARIO` set
/// and its three standard streams piped.
fn spawn_child(name: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env(SCENARIO, name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn say(out: &StdWriter, line: impl std::fmt::Display) {
    out.write(format!("{line}\n"));
}

/// Reads `child`'s lines until one ends with `last` (libtest's prefix is
/// cut off the first); pushes them onto `seen`.
fn read_until(lines: &mut impl Iterator<Item = String>, last: &str, seen: &mut Vec<String>) {
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the child ended before printing {last:?}: {seen:?}"));
        let line = line.rsplit(" ... ").next().unwrap().to_owned();
        if line.is_empty() || line == "running 1 test" {
            continue; // libtest's
        }
        let done = line == last;
        seen.push(line);
        if done {
            return;
        }
    }
}

/// The lines before libtest's `ok`, reading to the end (a pipe closed
/// early would make libtest's last lines fail with `EPIPE`).
fn until_ok(lines: impl Iterator<Item = String>) -> Vec<String> {
    let rest: Vec<String> = lines.collect();
    rest.into_iter().take_while(|l| l != "ok").collect()
}

fn lines_of(out: ChildStdout) -> impl Iterator<Item = String> {
    BufReader::new(out).lines().map(Result::unwrap)
}

/// Feeds tests/node/stdin/data_end_order.js's input to `child` (evloop's
/// port or Node itself): "a\nb", then "\nc" once the first chunk's
/// immediate ran, then EOF once the second's did; returns its lines up
/// to `ok` or its end.
fn feed_data_end_order(mut child: Child) -> String {
    let mut input = child.stdin.take().unwrap();
    let mut lines = lines_of(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    read_until(&mut lines, "main", &mut seen);
    input.write_all(b"a\nb").unwrap();
    read_until(&mut lines, "immediate after data", &mut seen);
    input.write_all(b"\nc").unwrap();
    read_until(&mut lines, "immediate after data", &mut seen);
    drop(input);
    seen.extend(until_ok(lines));
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}: {seen:?}");
    seen.iter().map(|l| format!("{l}\n")).collect()
}

/// Node: tests/node/stdin/data_end_order.js (the port's expected output is
/// its `.out`; Node itself is fed the same way when it is on PATH).
#[test]
fn stdin_data_end_order() {
    let _w = common::watchdog();
    if scenario().is_some() {
        evloop::run(|| {
            let out = process::stdout();
            let partial = Rc::new(RefCell::new(String::new()));
            let (o, p) = (out.clone(), partial.clone());
            process::stdin()
                .on_data(move |chunk| {
                    let text = p.borrow().clone() + &String::from_utf8_lossy(chunk);
                    let mut lines: Vec<&str> = text.split('\n').collect();
                    *p.borrow_mut() = lines.pop().unwrap().to_owned();
                    for line in lines {
                        say(&o, format!("line {line}"));
                    }
                    let o1 = o.clone();
                    next_tick(move || say(&o1, "tick after data"));
                    let o2 = o.clone();
                    queue_microtask(move || say(&o2, "microtask after data"));
                    let o3 = o.clone();
                    let _ = set_immediate(move || say(&o3, "immediate after data"));
                })
                .on_end({
                    let o = out.clone();
                    move || {
                        if !partial.borrow().is_empty() {
                            say(&o, format!("last {}", partial.borrow()));
                        }
                        say(&o, "end");
                        let o1 = o.clone();
                        next_tick(move || say(&o1, "tick after end"));
                        let o2 = o.clone();
                        let _ = set_immediate(move || say(&o2, "immediate after end"));
                    }
                });
            say(&out, "main");
        });
        return;
    }
    let expected = include_str!("node/stdin/data_end_order.out");
    let child = spawn_child("stdin_data_end_order");
    assert_eq!(feed_data_end_order(child), expected);
    // The reference itself, when node is here.
    let dir = common::node_dir("stdin");
    if let Ok(node) = Command::new("node")
        .arg("data_end_order.js")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        assert_eq!(feed_data_end_order(node), expected, "Node's own output");
    }
}

/// Lines are cut across chunk boundaries (`\r\n` too); the last line
/// without a newline comes before `end`; a paused stdin holds its chunk
/// until `resume`; none of the three streams is a TTY on a pipe.
#[test]
fn stdin_lines_across_chunks_pause_and_tty() {
    let _w = common::watchdog();
    if scenario().is_some() {
        evloop::run(|| {
            let out = process::stdout();
            let stdin = process::stdin();
            say(
                &out,
                format!(
                    "tty {} {} {} {:?}",
                    stdin.is_tty(),
                    out.is_tty(),
                    process::stderr().is_tty(),
                    out.window_size()
                ),
            );
            let (o, s) = (out.clone(), stdin.clone());
            stdin
                .on_line(move |line| {
                    say(&o, format!("line {line}"));
                    if line == "yz" {
                        // The parent sends the next chunk on seeing this;
                        // it must wait for the resume.
                        s.pause();
                        let (o, s) = (o.clone(), s.clone());
                        set_timeout(30, move || {
                            say(&o, "resume");
                            s.resume();
                        });
                    }
                })
                .on_end({
                    let o = out.clone();
                    move || say(&o, "end")
                });
            say(&out, "main");
        });
        return;
    }
    let mut child = spawn_child("stdin_lines_across_chunks_pause_and_tty");
    let mut input = child.stdin.take().unwrap();
    let mut lines = lines_of(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    read_until(&mut lines, "main", &mut seen);
    input.write_all(b"x\r\ny").unwrap();
    read_until(&mut lines, "line x", &mut seen);
    input.write_all(b"z\n").unwrap();
    read_until(&mut lines, "line yz", &mut seen);
    input.write_all(b"w\nlast").unwrap();
    drop(input);
    seen.extend(until_ok(lines));
    assert!(child.wait().unwrap().success());
    assert_eq!(
        seen,
        [
            "tty false false false None",
            "main",
            "line x",
            "line yz",
            "resume",
            "line w",
            "line last",
            "end"
        ]
    );
}

/// 256 KiB to a stdout pipe nobody reads yet: `write` returns `false`
/// (Node, writing synchronously, would block until the reader read it and
/// then return `true`: a known difference), a 10 ms timer fires while the
/// writer thread waits, `drain` comes once the parent reads, and a write
/// from `drain`, the last thing the loop does, still comes out, after
/// every byte before it, in order.
#[test]
fn stdout_to_a_slow_reader_does_not_block_the_loop() {
    let _w = common::watchdog();
    let big: Vec<u8> = (0..256 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    if scenario().is_some() {
        evloop::run(move || {
            let (out, err) = (process::stdout(), process::stderr());
            let ok = out.write(big);
            say(
                &err,
                format!("write returned {ok}, {} buffered", out.buffered()),
            );
            let (o, e) = (out.clone(), err.clone());
            out.on_drain(move || {
                say(&e, "drain");
                o.write("<tail>\n");
            });
            let e = err.clone();
            let _ = set_timeout(10, move || say(&e, "timer"));
        });
        return;
    }
    let mut child = spawn_child("stdout_to_a_slow_reader_does_not_block_the_loop");
    let mut errs = lines_of_err(&mut child);
    let mut seen = Vec::new();
    // Stdout is not read until the timer has fired.
    read_until(&mut errs, "timer", &mut seen);
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    seen.extend(errs);
    assert!(child.wait().unwrap().success());
    assert_eq!(
        seen,
        ["write returned false, 262144 buffered", "timer", "drain"]
    );
    let start = stdout.windows(26).position(|w| w == &big[..26]).unwrap();
    let body = &stdout[start..];
    assert!(body.starts_with(&big), "the bytes in order");
    assert!(body[big.len()..].starts_with(b"<tail>\n"), "the tail after");
}

/// `process::stdout()` as a `futures-io` writer: `copy` of more than the
/// 16 KiB mark waits for room and delivers every byte in order; `flush`
/// waits until the thread wrote them.
#[test]
fn stdout_as_a_futures_io_writer() {
    let _w = common::watchdog();
    let big: Vec<u8> = (0..512 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    if scenario().is_some() {
        evloop::run_async(async move {
            let mut out = process::stdout();
            // One write takes at most 16 KiB: the queue stays bounded.
            let first = futures_util::io::AsyncWriteExt::write(&mut out, &big)
                .await
                .unwrap();
            let rest = futures_util::io::Cursor::new(big[first..].to_vec());
            let n = futures_util::io::copy(rest, &mut out)
                .await
                .map(|n| n as usize + first);
            futures_util::io::AsyncWriteExt::flush(&mut out)
                .await
                .unwrap();
            let left = out.buffered();
            futures_util::io::AsyncWriteExt::write_all(&mut out, b"<tail>\n")
                .await
                .unwrap();
            eprintln!("first {first} copied {} flushed {left}", n.unwrap());
        });
        return;
    }
    let mut child = spawn_child("stdout_as_a_futures_io_writer");
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let errs: Vec<String> = lines_of_err(&mut child).collect();
    assert!(child.wait().unwrap().success());
    assert_eq!(errs, ["first 16384 copied 524288 flushed 0"]);
    let start = stdout.windows(26).position(|w| w == &big[..26]).unwrap();
    let body = &stdout[start..];
    assert!(body.starts_with(&big), "the bytes in order");
    assert!(body[big.len()..].starts_with(b"<tail>\n"), "the tail after");
}

fn lines_of_err(child: &mut Child) -> impl Iterator<Item = String> + use<> {
    BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(Result::unwrap)
}

/// A stdout pipe whose reader is gone: an `error` event (`write EPIPE`),
/// not a dead process (`SIGPIPE` is ignored); later writes return `false`.
#[test]
fn a_broken_stdout_pipe_is_an_error_event() {
    let _w = common::watchdog();
    if scenario().is_some() {
        // Fd 1 becomes a pipe whose read end is closed, for the loop only
        // (libtest writes to the real one after).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        // SAFETY: plain descriptor calls on descriptors this process owns;
        // the saved fd 1 is put back below.
        let saved = unsafe { libc::dup(1) };
        assert!(saved >= 0);
        // SAFETY: as above.
        assert_eq!(
            unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&writer), 1) },
            1
        );
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        evloop::run(move || {
            let out = process::stdout();
            let l2 = l.clone();
            out.on_error(move |e| l2.borrow_mut().push(format!("error {e}")));
            out.write("lost\n");
            let (o, l) = (out.clone(), l.clone());
            let _ = set_timeout(50, move || {
                l.borrow_mut()
                    .push(format!("write after {}", o.write("more")));
            });
        });
        // SAFETY: as above.
        assert_eq!(unsafe { libc::dup2(saved, 1) }, 1);
        eprintln!("{}", log.borrow().join("|"));
        return;
    }
    let child = spawn_child("a_broken_stdout_pipe_is_an_error_event");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error write EPIPE|write after false"),
        "{stderr}"
    );
}

/// A closed fd 0 is an input that ends at once: the child is started with
/// fd 0 closed, which Rust's runtime (as Node's) reopens on /dev/null
/// before `main`, so stdin reads EOF: `end`, no error, and the loop exits.
#[test]
fn a_closed_stdin_just_ends() {
    let _w = common::watchdog();
    if scenario().is_some() {
        evloop::run(|| {
            let err = process::stderr();
            let e = err.clone();
            process::stdin()
                .on_data(|_| panic!("no data from a closed stdin"))
                .on_error(|e| panic!("no error from a closed stdin: {e}"))
                .on_end(move || say(&e, "end"));
        });
        return;
    }
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "a_closed_stdin_just_ends",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(SCENARIO, "closed")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: `close` is async-signal-safe; the child closes its own fd 0
    // just before exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            libc::close(0);
            Ok(())
        });
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("end"));
}

/// On a terminal (a pty as fd 1): `is_tty`, the window size, and `resize`
/// with the new size after `SIGWINCH`.
#[test]
fn a_terminal_has_a_size_and_a_resize_event() {
    let _w = common::watchdog();
    if scenario().is_some() {
        let (mut master, mut slave) = (-1, -1);
        let size = |cols: u16, rows: u16| libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: `openpty` writes two descriptors into the locals; the
        // name, termios and size pointers may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0);
        let set_size = move |cols, rows| {
            let ws = size(cols, rows);
            // SAFETY: TIOCSWINSZ reads one `winsize` from a live local.
            assert_eq!(unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) }, 0);
        };
        set_size(80, 24);
        // SAFETY: descriptors this process owns; fd 1 is put back below.
        let saved = unsafe { libc::dup(1) };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::dup2(slave, 1) }, 1);
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        evloop::run(move || {
            let out = process::stdout();
            l.borrow_mut()
                .push(format!("tty {} {:?}", out.is_tty(), out.window_size()));
            let l2 = l.clone();
            let listener = Rc::new(RefCell::new(None));
            let keep = listener.clone();
            let resize = out
                .on_resize(move |size| {
                    l2.borrow_mut().push(format!("resize {size:?}"));
                    drop(keep.borrow_mut().take()); // once: the loop may end
                })
                .unwrap();
            // Unref'd by default, as signal listeners: this one keeps the
            // loop up until the signal came.
            resize.ref_();
            *listener.borrow_mut() = Some(resize);
            set_size(100, 30);
            // The kernel signals the pty's foreground group, which this
            // test is not: send the signal itself.
            // SAFETY: a listener for SIGWINCH is in place.
            assert_eq!(unsafe { libc::raise(libc::SIGWINCH) }, 0);
        });
        // SAFETY: as above.
        assert_eq!(unsafe { libc::dup2(saved, 1) }, 1);
        eprintln!("{}", log.borrow().join("|"));
        return;
    }
    let child = spawn_child("a_terminal_has_a_size_and_a_resize_event");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tty true Some((80, 24))|resize (100, 30)"),
        "{stderr}"
    );
}

/// `Stdin::lines` as a stream: every line, across chunks, then the end.
#[test]
fn stdin_lines_as_a_stream() {
    let _w = common::watchdog();
    if scenario().is_some() {
        evloop::run_async(async {
            use evloop::StreamNext;
            let out = process::stdout();
            let mut lines = process::stdin().lines();
            while let Some(line) = lines.next().await {
                say(&out, format!("got {line}"));
            }
            say(&out, "done");
        });
        return;
    }
    let mut child = spawn_child("stdin_lines_as_a_stream");
    let mut input = child.stdin.take().unwrap();
    // 200 lines, more than the stream's high-water mark, in odd chunks.
    let text: String = (0..200).map(|i| format!("l{i}\n")).collect();
    for chunk in text.as_bytes().chunks(37) {
        input.write_all(chunk).unwrap();
    }
    input.write_all(b"tail").unwrap();
    drop(input);
    let seen = until_ok(lines_of(child.stdout.take().unwrap()));
    assert!(child.wait().unwrap().success());
    let mut expected: Vec<String> = vec![];
    expected.extend((0..200).map(|i| format!("got l{i}")));
    expected.push("got tail".into());
    expected.push("done".into());
    let seen: Vec<String> = seen
        .into_iter()
        .map(|l| l.rsplit(" ... ").next().unwrap().to_owned())
        .filter(|l| !l.is_empty() && l != "running 1 test")
        .collect();
    assert_eq!(seen, expected);
}

/// A `cat` of futures-io parts: `copy` from `stdin().chunks()` (an
/// `AsyncRead`) into `stdout()` (an `AsyncWrite`) passes every byte in
/// order, more than the pipes and both high-water marks hold.
#[test]
fn stdin_chunks_copied_to_stdout_with_futures_io() {
    let _w = common::watchdog();
    let big: Vec<u8> = (0..1024 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    if scenario().is_some() {
        evloop::run_async(async {
            let mut out = process::stdout();
            let n = futures_util::io::copy(process::stdin().chunks(), &mut out).await;
            futures_util::io::AsyncWriteExt::flush(&mut out)
                .await
                .unwrap();
            eprintln!("copied {}", n.unwrap());
        });
        return;
    }
    let mut child = spawn_child("stdin_chunks_copied_to_stdout_with_futures_io");
    let mut input = child.stdin.take().unwrap();
    let data = big.clone();
    // Written from a thread: the child's stdout fills while it is fed.
    let feeder = std::thread::spawn(move || input.write_all(&data).unwrap());
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    feeder.join().unwrap();
    let errs: Vec<String> = lines_of_err(&mut child).collect();
    assert!(child.wait().unwrap().success());
    assert_eq!(errs, [format!("copied {}", big.len())]);
    let start = stdout.windows(26).position(|w| w == &big[..26]).unwrap();
    assert!(stdout[start..].starts_with(&big), "every byte, in order");
}

/// An unref'd stdin lets the loop exit though the input stays open; a
/// referenced one keeps it up until the end.
#[test]
fn an_unrefd_stdin_lets_the_loop_exit() {
    let _w = common::watchdog();
    if scenario().is_some() {
        evloop::run(|| {
            let stdin = process::stdin();
            stdin.on_data(|_| {});
            stdin.unref();
        });
        eprintln!("exited with stdin open");
        return;
    }
    let mut child = spawn_child("an_unrefd_stdin_lets_the_loop_exit");
    let input = child.stdin.take().unwrap();
    let mut errs = lines_of_err(&mut child);
    let mut seen = Vec::new();
    read_until(&mut errs, "exited with stdin open", &mut seen);
    assert!(child.wait().unwrap().success());
    drop(input); // held open until the child had exited
}
