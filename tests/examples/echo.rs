//! The `echo_futures` example, run as a child process (built once, as
//! http.rs builds `http_hello`), here out of file descriptors: started
//! through `sh -c 'ulimit -n 16; exec ...'` so that only the child's limit
//! is lowered, not this test binary's.

use crate::common;
use crate::http::example_exe;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Backstop for a read: a hang becomes a failure, not a measure of speed.
fn backstop() -> Duration {
    Duration::from_secs(60) * common::slowdown()
}

/// Out of descriptors, `accept` fails with `EMFILE`: the server logs it
/// once for the whole spell (it retries every 100 ms meanwhile) and, once
/// connections close, serves again; it does not exit.
#[test]
fn echo_futures_survives_running_out_of_descriptors() {
    let _w = common::watchdog();
    let exe = example_exe("echo_futures");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 16 && exec \"$0\" 127.0.0.1:0")
        .arg(&exe)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from echo_futures: {line:?}"))
        .parse()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // More connections than the child has descriptors: the kernel queues
    // them all in the backlog; the server's accepts fail once it is out.
    let mut held: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(backstop())).unwrap();
            c.write_all(b"x").unwrap();
            c
        })
        .collect();
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(
        first.contains("Too many open files"),
        "expected the EMFILE line first, got {first:?}"
    );
    // The first connection was accepted before the descriptors ran out.
    let mut b = [0u8; 1];
    held[0].read_exact(&mut b).unwrap();
    assert_eq!(&b, b"x");
    // sleep: keeps the server out of descriptors across several of its
    // 100 ms retries; the log below must still say so once. Any length
    // would do: it is not a race.
    std::thread::sleep(Duration::from_millis(500));
    held.clear();
    // Served again once the connections above have closed (the server
    // accepts and ends the rest of them first).
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(backstop())).unwrap();
    c.write_all(b"ping").unwrap();
    let mut back = [0u8; 4];
    c.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"ping");
    drop(c);
    assert_eq!(child.try_wait().unwrap(), None, "the server exited");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    // Each spell without descriptors is logged once, then its end once.
    let mut out = false;
    for l in std::iter::once(first.as_str()).chain(rest.lines()) {
        if l.contains("Too many open files") {
            assert!(!out, "logged twice in one spell:\n{first}{rest}");
            out = true;
        } else if l.contains("descriptors are free again") {
            assert!(out, "{first}{rest}");
            out = false;
        }
    }
}
