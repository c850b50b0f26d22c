//! Out of file descriptors while accepting: the server sheds the pending
//! connections cleanly (the peers see a close, not a hang), says so, and
//! serves again once descriptors are free. Alone in its test binary because
//! it lowers the process's descriptor limit.

use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::time::Duration;

use evloop::EventLoop;

mod common;
use common::set_fd_limit;

#[test]
fn accept_survives_running_out_of_descriptors() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    let accepted = Rc::new(Cell::new(0));
    let errors = Rc::new(Cell::new(0));
    let (a, e) = (accepted.clone(), errors.clone());
    let addr = lp.enter(move || {
        let server = evloop::net::create_server(move |socket| {
            a.set(a.get() + 1);
            let s = socket.clone();
            socket.on_data(move |d| {
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
    for c in &pending {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    // Use up every descriptor the process may still open.
    let old = set_fd_limit(256);
    let mut hogs = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        hogs.push(f);
    }
    assert!(!hogs.is_empty());
    // One turn: accept hits EMFILE and sheds the pending connections.
    lp.run(evloop::RunMode::NoWait);
    lp.run(evloop::RunMode::NoWait);
    for c in &mut pending {
        let mut buf = [0u8; 1];
        // A clean close (EOF) or a reset: never a hang.
        match c.read(&mut buf) {
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
        c.write_all(b"back").unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        buf
    });
    while !client.is_finished() {
        lp.run(evloop::RunMode::Once);
    }
    assert_eq!(&client.join().unwrap(), b"back");
    assert_eq!(accepted.get(), 1);
}
