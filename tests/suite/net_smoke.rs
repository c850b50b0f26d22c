use crate::common;

use std::cell::RefCell;
use std::rc::Rc;

use evloop::net::{self, TcpListener, TcpStream};

#[test]
fn callback_echo_server_with_future_client() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let server = net::create_server(|socket| {
            let s = socket.clone();
            socket.on_data(move |chunk| {
                s.write(chunk.to_vec());
            });
        });
        let addr = server.listen("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        let mut n = 0;
        while n < 5 {
            n += client.read(&mut buf[n..]).await.unwrap();
        }
        drop(client);
        server.close(|| {});
        buf
    });
    assert_eq!(&got, b"hello");
}

#[test]
fn future_echo_server_with_callback_client() {
    let _w = common::watchdog();
    let out = Rc::new(RefCell::new(Vec::new()));
    let o = out.clone();
    evloop::run(move || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        evloop::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        })
        .detach();
        let o2 = o.clone();
        let sock = net::connect(addr, || {}).unwrap();
        sock.write("ping");
        let s2 = sock.clone();
        sock.on_data(move |d| {
            o2.borrow_mut().extend_from_slice(d);
            s2.end();
        });
        let o3 = o.clone();
        sock.on_close(move |had_error| {
            o3.borrow_mut()
                .extend_from_slice(if had_error { b"!err" } else { b"!closed" })
        });
    });
    assert_eq!(
        String::from_utf8(out.borrow().clone()).unwrap(),
        "ping!closed"
    );
}

#[test]
fn connect_refused_is_an_error_event_then_close() {
    let _w = common::watchdog();
    let out = Rc::new(RefCell::new(Vec::new()));
    let o = out.clone();
    evloop::run(move || {
        // A port nobody listens on: a socket bound to it but not listening
        // refuses connections, and holds the port until the connection has
        // failed, so that no test running beside this one can listen there
        // in between (as it could on a port bound and released at once).
        let guard =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        guard.bind(&any.into()).unwrap();
        let port = guard.local_addr().unwrap().as_socket().unwrap().port();
        let s = net::connect(("127.0.0.1", port), || panic!("must not connect")).unwrap();
        let o1 = o.clone();
        s.on_error(move |e| o1.borrow_mut().push(e.to_string()));
        let o2 = o.clone();
        let guard = std::cell::Cell::new(Some(guard));
        s.on_close(move |had_error| {
            o2.borrow_mut().push(format!("close {had_error}"));
            drop(guard.take());
        });
    });
    let out = out.borrow();
    assert!(
        out[0].starts_with("connect ECONNREFUSED 127.0.0.1:"),
        "{out:?}"
    );
    assert_eq!(out[1], "close true");
}

/// Issue 21: `Socket::set_timeout` takes a `Duration`, as timers do; under
/// 1 ms is a timer's 1 ms (not "off", which truncating to whole
/// milliseconds would make it), and `Duration::ZERO` turns it off.
#[test]
fn socket_idle_timeouts_are_durations() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    evloop::run(move || {
        let server = net::create_server(|socket| {
            socket.on_data(|_| {});
        });
        let addr = server.listen("127.0.0.1:0").unwrap();
        let sock = net::connect(addr, || {}).unwrap();
        let (s, l2) = (sock.clone(), l.clone());
        sock.on_timeout(move || {
            l2.borrow_mut().push("timeout");
            s.set_timeout(std::time::Duration::ZERO);
            s.destroy();
            server.close(|| {});
        });
        sock.set_timeout(std::time::Duration::from_micros(500));
        // Off, then on again: only the last setting counts.
        sock.set_timeout(std::time::Duration::ZERO);
        sock.set_timeout(std::time::Duration::from_micros(500));
    });
    assert_eq!(*log.borrow(), ["timeout"]);
}
