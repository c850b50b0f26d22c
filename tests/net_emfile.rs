//! Out of file descriptors while accepting: the server sheds the pending
//! connections cleanly (the peers see a close, not a hang), says so, and
//! serves again once descriptors are free. Alone in its test binary because
//! it lowers the process's descriptor limit.

use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use evloop::EventLoop;

mod common;
use common::set_fd_limit;

/// How long a client read may wait before the test gives up: a backstop
/// against a hang, never a measure of speed (the watchdog's limit).
fn backstop() -> Duration {
    Duration::from_secs(60) * common::slowdown()
}

#[test]
fn accept_survives_running_out_of_descriptors() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let accepted = Rc::new(Cell::new(0));
    let errors = Rc::new(Cell::new(0));
    let echoed = Rc::new(Cell::new(0));
    let (a, e, ec) = (accepted.clone(), errors.clone(), echoed.clone());
    let addr = lp.enter(move || {
        let server = evloop::net::create_server(move |socket| {
            a.set(a.get() + 1);
            let (s, ec) = (socket.clone(), ec.clone());
            socket.on_data(move |d| {
                ec.set(ec.get() + d.len());
                s.write(d.to_vec());
            });
        });
        server.on_error(move |_| e.set(e.get() + 1));
        server.listen("127.0.0.1:0").unwrap()
    });
    // Three connections wait in the backlog (the kernel completed them).
    let mut pending: Vec<_> = (0..3)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    // A backstop only, against a connection never shed.
    for c in &pending {
        c.set_read_timeout(Some(backstop())).unwrap();
    }
    let handle = lp.handle();
    // Use up every descriptor the process may still open.
    let old = set_fd_limit(256);
    let mut hogs = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        hogs.push(f);
    }
    assert!(!hogs.is_empty());
    // Accept hits EMFILE and sheds the pending connections, while their
    // peers read on a thread: each must see its connection closed. The loop
    // runs until that thread says all three have, by a post, which itself
    // wakes the loop (so no blocking run can start after the last event);
    // not for a set number of turns, since the kernel may queue a
    // connection for `accept` after `connect` has returned (the handshake's
    // last ACK can be handled later on a busy machine).
    let peers_done = Arc::new(AtomicBool::new(false));
    let done = peers_done.clone();
    let peers = std::thread::spawn(move || {
        let reads: Vec<std::io::Result<usize>> =
            pending.iter_mut().map(|c| c.read(&mut [0u8; 1])).collect();
        handle
            .post(move || done.store(true, Ordering::SeqCst))
            .unwrap();
        reads
    });
    while !peers_done.load(Ordering::SeqCst) {
        assert!(lp.run(evloop::RunMode::Once), "the loop stopped");
    }
    for read in peers.join().unwrap() {
        // A clean close (EOF) or a reset: never a hang.
        match read {
            Ok(0) => {}
            Ok(n) => panic!("read {n} bytes from a shed connection"),
            Err(e) => assert_ne!(e.kind(), std::io::ErrorKind::WouldBlock, "hung: {e}"),
        }
    }
    assert_eq!(accepted.get(), 0);
    assert!(
        errors.get() >= 3,
        "the error handler heard of each ({})",
        errors.get()
    );
    // Free the descriptors: the server serves again.
    drop(hogs);
    set_fd_limit(old);
    let client = std::thread::spawn(move || {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(backstop())).unwrap();
        c.write_all(b"back").unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        buf
    });
    // Until the server has echoed the 4 bytes (they are then in the
    // client's kernel buffer): a condition on the loop's side, so no
    // blocking run starts after the last event. (Waiting for the client
    // thread to finish could: it may finish between the loop's last wake-up
    // and its next blocking run, which would then wait for ever.)
    while echoed.get() < 4 {
        assert!(lp.run(evloop::RunMode::Once), "the server stopped");
    }
    assert_eq!(&client.join().unwrap(), b"back");
    assert_eq!(accepted.get(), 1);
}
