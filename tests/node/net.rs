//! TCP in both styles: the callback API (`net::create_server`,
//! `net::connect`, `Socket`) and the future API (`TcpListener`,
//! `TcpStream`). Loopback echo under load (in one loop, and against blocking
//! clients on other threads), backpressure, resets, refusals, half-close,
//! idle timeouts, keep-alive rules, `server.close`, and the order of socket
//! events against Node's (JS beside the tests in tests/node/net/).

use crate::common;

use crate::common::{node_expected, say};

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use evloop::net::{self, Server, Socket, TcpListener, TcpStream};
use evloop::{EventLoop, RunMode, next_tick, queue_microtask, set_immediate, set_timeout, spawn};

/// Node's default `highWaterMark` for sockets: `write` returns `false` once
/// this much is queued.
const HIGH_WATER: usize = 16 * 1024;

// ---------------------------------------------------------------------------
// Helpers

/// A fixed-seed xorshift64 generator: sizes and contents are random but the
/// same on every run.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // Never zero (a zero state stays zero); spread small seeds apart.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Largest echo message.
const MAX_MESSAGE: usize = 64 * 1024;
/// Random bytes that echo messages are cut from (at random offsets, so
/// every message has different contents and a misplaced byte shows).
const POOL: usize = 1024 * 1024 + MAX_MESSAGE;

fn random_pool() -> Vec<u8> {
    let mut pool = vec![0u8; POOL];
    XorShift::new(0xEC40).fill(&mut pool);
    pool
}

/// The `i`th message of the client whose generator is `rng`: a slice of
/// the pool, 1..=64 KiB long.
fn next_message<'a>(rng: &mut XorShift, pool: &'a [u8]) -> &'a [u8] {
    let len = 1 + rng.below(MAX_MESSAGE);
    let off = rng.below(POOL - MAX_MESSAGE);
    &pool[off..off + len]
}

/// Panics with the first differing byte, not with two 64 KiB dumps.
fn assert_same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: echoed bytes differ at offset {at} (got {} bytes, sent {})",
            got.len(),
            want.len()
        );
    }
}

/// The callback-API echo server used by several tests: every chunk goes
/// straight back, with backpressure (pause until `drain`). Counts the bytes
/// it echoed.
fn echo_server(echoed: Rc<Cell<u64>>) -> Server {
    net::create_server(move |socket| {
        let s = socket.clone();
        let echoed = echoed.clone();
        socket.on_data(move |chunk| {
            echoed.set(echoed.get() + chunk.len() as u64);
            if !s.write(chunk) {
                s.pause();
            }
        });
        let s = socket.clone();
        socket.on_drain(move || s.resume());
    })
}

/// Node's `err.code` from an evloop socket error (`connect ECONNREFUSED
/// 127.0.0.1:1` → `ECONNREFUSED`).
fn code(e: &io::Error) -> String {
    e.to_string()
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// A port on 127.0.0.1 that nobody listens on, and the socket that holds
/// it: bound but not listening, it refuses connections, and while it lives
/// no other test (they run in parallel) can start listening on that port,
/// as one could on a port bound and released at once.
fn closed_port() -> (socket2::Socket, SocketAddr) {
    let guard = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    guard.bind(&any.into()).unwrap();
    let addr = guard.local_addr().unwrap().as_socket().unwrap();
    (guard, addr)
}

/// How long a blocking socket on a helper thread may wait for one read:
/// a backstop that turns a lost byte into a failure rather than a hang, not
/// a measure of speed (the watchdog's limit, scaled the same way).
fn backstop() -> Duration {
    Duration::from_secs(60) * common::slowdown()
}

/// A value a callback needs but that exists only later
/// (`let server; ... server = net.createServer(...)`).
struct Slot<T>(Rc<RefCell<Option<T>>>);

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot(self.0.clone())
    }
}

impl<T: Clone> Slot<T> {
    fn new() -> Slot<T> {
        Slot(Rc::new(RefCell::new(None)))
    }
    fn set(&self, v: T) {
        *self.0.borrow_mut() = Some(v);
    }
    fn get(&self) -> T {
        self.0.borrow().clone().expect("slot is set")
    }
}

/// `await new Promise((r) => server.close(r))`.
async fn close_server(server: &Server) {
    let (done, closed) = evloop::deferred();
    let mut done = Some(done);
    server.close(move || done.take().expect("close callback runs once").resolve(()));
    closed.await.expect("server closed");
}

// ---------------------------------------------------------------------------
// Echo under load

/// Clients, and messages per client: 100 × 1,000 messages of 1 B..=64 KiB,
/// about 3.3 GB each way. This is fast enough in debug builds too (about
/// 2.5 s on 2 cores: the bytes are copied by the kernel and `memcmp`, not by
/// unoptimized code), so debug and release run the same size.
const CLIENTS: usize = 100;
const MESSAGES: usize = 1000;

/// One client on the future API: sends its messages one at a time, reads
/// each echo back completely and compares it, then half-closes and expects
/// the server's end. Returns the bytes it sent.
async fn echo_client(addr: SocketAddr, id: usize, pool: Rc<Vec<u8>>) -> u64 {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let mut rng = XorShift::new(id as u64 + 1);
    let mut back = vec![0u8; MAX_MESSAGE];
    let mut sent = 0u64;
    for i in 0..MESSAGES {
        let msg = next_message(&mut rng, &pool);
        stream.write_all(msg).await.expect("write");
        let mut got = 0;
        while got < msg.len() {
            let n = stream.read(&mut back[got..msg.len()]).await.expect("read");
            assert!(n > 0, "client {id}: server ended during message {i}");
            got += n;
        }
        assert_same(&back[..got], msg, &format!("client {id} message {i}"));
        sent += msg.len() as u64;
    }
    stream.shutdown().await.expect("shutdown");
    let n = stream.read(&mut back).await.expect("read end");
    assert_eq!(n, 0, "client {id}: bytes after the last echo");
    sent
}

#[test]
fn echo_100_clients_random_sizes_in_one_loop() {
    let _w = common::watchdog();
    let start = Instant::now();
    let echoed = Rc::new(Cell::new(0u64));
    let e = echoed.clone();
    let sent = evloop::run_async(async move {
        let pool = Rc::new(random_pool());
        let server = echo_server(e);
        let addr = server.listen("127.0.0.1:0").unwrap();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| spawn(echo_client(addr, id, pool.clone())))
            .collect();
        let mut sent = 0;
        for c in clients {
            sent += c.await;
        }
        close_server(&server).await;
        sent
    });
    assert_eq!(echoed.get(), sent, "the server echoed every byte sent");
    println!(
        "{CLIENTS} clients × {MESSAGES} messages: {} MB each way in {:?}",
        sent / 1_000_000,
        start.elapsed()
    );
}

#[test]
fn echo_100_blocking_clients_on_threads_against_a_loop_thread() {
    let _w = common::watchdog();
    let start = Instant::now();
    thread_local! {
        static SERVER: RefCell<Option<Server>> = const { RefCell::new(None) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let server_thread = std::thread::spawn(move || {
        let echoed = Rc::new(Cell::new(0u64));
        let e = echoed.clone();
        evloop::run(move || {
            let server = echo_server(e);
            let addr = server.listen("127.0.0.1:0").unwrap();
            SERVER.with(|s| *s.borrow_mut() = Some(server));
            tx.send((addr, evloop::handle())).unwrap();
        });
        echoed.get()
    });
    let (addr, handle) = rx.recv().unwrap();
    let pool = std::sync::Arc::new(random_pool());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                // A lost byte fails the test instead of hanging it.
                stream.set_read_timeout(Some(backstop())).unwrap();
                let mut rng = XorShift::new(id as u64 + 1);
                let mut back = vec![0u8; MAX_MESSAGE];
                let mut sent = 0u64;
                for i in 0..MESSAGES {
                    let msg = next_message(&mut rng, &pool);
                    stream.write_all(msg).unwrap();
                    stream.read_exact(&mut back[..msg.len()]).unwrap();
                    assert_same(&back[..msg.len()], msg, &format!("client {id} message {i}"));
                    sent += msg.len() as u64;
                }
                stream.shutdown(std::net::Shutdown::Write).unwrap();
                assert_eq!(stream.read(&mut back).unwrap(), 0);
                sent
            })
        })
        .collect();
    let results: Vec<_> = clients.into_iter().map(|c| c.join()).collect();
    // Stop the server whatever happened, so the loop thread ends.
    handle
        .post(|| SERVER.with(|s| s.borrow_mut().take().unwrap().close(|| {})))
        .unwrap();
    drop(handle);
    let echoed = server_thread.join().expect("the loop thread panicked");
    let sent: u64 = results
        .into_iter()
        .map(|r| r.expect("a client thread panicked"))
        .sum();
    assert_eq!(echoed, sent);
    println!(
        "{CLIENTS} threads × {MESSAGES} messages: {} MB each way in {:?}",
        sent / 1_000_000,
        start.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Backpressure

/// `write` says `false` once 16 KiB are queued, and `drain` comes once the
/// queue is empty, which needs the peer to read. The kernel buffers between
/// the two are made small and fixed, so that they cannot take the queue
/// whatever the timing: the writer is accepted from a listener with a small
/// `SO_SNDBUF` (accepted sockets inherit it), the peer is a plain socket
/// with a small `SO_RCVBUF` set before it connects (setting them also turns
/// off Linux's autotuning). They hold a few KiB in all, less than the
/// 16 KiB queued when `write` says wait, and the peer's thread starts
/// reading only then, a little at a time: by `drain` it has read some.
#[test]
fn backpressure_write_false_then_drain_after_the_peer_reads() {
    let _w = common::watchdog();
    #[derive(Default)]
    struct State {
        written: u64,
        false_at: Option<u64>,
        peer_reading: bool,
        drains: u32,
        received_at_drain: Option<u64>,
        closed: bool,
    }
    // The kernel makes each buffer about twice this (for its bookkeeping).
    const KERNEL_BUF: usize = 2048;
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    listener.set_send_buffer_size(KERNEL_BUF).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    listener.bind(&any.into()).unwrap();
    listener.listen(1).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let peer = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    peer.set_recv_buffer_size(KERNEL_BUF).unwrap();
    // Blocking: the kernel completes the handshake, the loop accepts later.
    peer.connect(&addr.into()).unwrap();
    let peer: std::net::TcpStream = peer.into();
    peer.set_read_timeout(Some(backstop())).unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let reader: Rc<RefCell<Option<std::thread::JoinHandle<u64>>>> = Rc::default();
    let st = Rc::new(RefCell::new(State::default()));
    let (st2, received2, reader2) = (st.clone(), received.clone(), reader.clone());
    evloop::run(move || {
        let server_slot: Slot<Server> = Slot::new();
        let srv = server_slot.clone();
        let mut peer = Some(peer);
        let server = net::create_server(move |writer| {
            let mut rng = XorShift::new(7);
            let mut next = 0u8;
            loop {
                let size = 1 + rng.below(MAX_MESSAGE);
                let chunk: Vec<u8> = (0..size)
                    .map(|_| {
                        let b = next;
                        next = next.wrapping_add(1) % 251;
                        b
                    })
                    .collect();
                let ok = writer.write(chunk);
                let buffered = writer.buffered();
                let mut st = st2.borrow_mut();
                st.written += size as u64;
                assert!(
                    buffered <= HIGH_WATER + size,
                    "buffered {buffered} > high-water mark + this write ({size})"
                );
                if ok {
                    assert!(buffered < HIGH_WATER, "true with {buffered} queued");
                } else {
                    assert!(buffered >= HIGH_WATER, "false with {buffered} queued");
                    st.false_at = Some(st.written);
                    break;
                }
                assert!(st.written < 1 << 30, "write never returned false");
            }
            // Now the peer reads, in small pieces, checking the order, until
            // the writer ends.
            let mut peer = peer.take().expect("one connection");
            st2.borrow_mut().peer_reading = true;
            let r = received2.clone();
            *reader2.borrow_mut() = Some(std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                let mut expect = 0u8;
                loop {
                    let n = peer.read(&mut buf).expect("the peer reads");
                    if n == 0 {
                        return r.load(Ordering::SeqCst);
                    }
                    for &b in &buf[..n] {
                        assert_eq!(b, expect, "bytes arrive in order");
                        expect = expect.wrapping_add(1) % 251;
                    }
                    r.fetch_add(n as u64, Ordering::SeqCst);
                }
            }));
            let (s, w, r) = (st2.clone(), writer.clone(), received2.clone());
            writer.on_drain(move || {
                {
                    let mut st = s.borrow_mut();
                    assert!(st.peer_reading, "drain before the peer could read");
                    st.drains += 1;
                    st.received_at_drain = Some(r.load(Ordering::SeqCst));
                }
                assert_eq!(w.buffered(), 0, "drain means the queue is empty");
                w.end();
            });
            writer.on_data(|_| {});
            let (s, srv) = (st2.clone(), srv.clone());
            writer.on_close(move |had_error| {
                assert!(!had_error);
                s.borrow_mut().closed = true;
                srv.get().close(|| {});
            });
        });
        server.listen_on(listener.into()).unwrap();
        server_slot.set(server);
    });
    let total = reader
        .borrow_mut()
        .take()
        .expect("the peer was reading")
        .join()
        .expect("the peer's thread panicked");
    let st = st.borrow();
    assert!(st.false_at.is_some());
    assert_eq!(st.drains, 1);
    assert!(
        st.received_at_drain.unwrap() > 0,
        "drain before the peer had read anything"
    );
    assert_eq!(total, st.written, "every byte arrived");
    assert!(st.closed);
}

/// Node never emits `drain` from inside `write()`: it comes from the write
/// completion, asynchronously. Here the kernel buffer has room again (the
/// peer, a thread, read everything while the loop was busy), so `write`
/// flushes the whole queue itself; `drain` must still not run inside it.
#[test]
fn drain_is_never_emitted_inside_write() {
    let _w = common::watchdog();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Bytes the reader thread has read so far.
    let progress = Arc::new((Mutex::new(0u64), Condvar::new()));
    let p = progress.clone();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let (count, read_more) = &*p;
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return *count.lock().unwrap(),
                Ok(k) => {
                    *count.lock().unwrap() += k as u64;
                    read_more.notify_all();
                }
            }
        }
    });
    let inside_write = Rc::new(Cell::new(false));
    let drained_inside = Rc::new(Cell::new(false));
    let drains = Rc::new(Cell::new(0));
    let (iw, di, dr) = (inside_write.clone(), drained_inside.clone(), drains.clone());
    evloop::run(move || {
        let w: Slot<Socket> = Slot::new();
        let w2 = w.clone();
        let iw2 = iw.clone();
        let sock = net::connect(addr, move || {
            let s = w2.get();
            // Fill the kernel buffers and the queue: `write` says wait.
            while s.write(vec![1u8; MAX_MESSAGE]) {}
            // Hold the loop (as a long computation would) until the reader
            // thread has read every byte the kernel took: the kernel
            // buffers are then empty, and the next `write` can flush the
            // whole queue itself. (A condition, not a sleep: however the
            // threads are scheduled, the kernel buffers are empty here.)
            let (count, read_more) = &*progress;
            let taken = s.bytes_written();
            let mut read = count.lock().unwrap();
            while *read < taken {
                read = read_more.wait(read).unwrap();
            }
            drop(read);
            iw2.set(true);
            s.write(&b"x"[..]);
            iw2.set(false);
            s.end();
        })
        .unwrap();
        w.set(sock.clone());
        sock.on_data(|_| {});
        sock.on_drain(move || {
            dr.set(dr.get() + 1);
            if iw.get() {
                di.set(true);
            }
        });
    });
    reader.join().unwrap();
    assert_eq!(drains.get(), 1, "one drain after write returned false");
    assert!(
        !drained_inside.get(),
        "drain ran synchronously inside write()"
    );
}

// ---------------------------------------------------------------------------
// Errors

#[test]
fn peer_reset_mid_write_is_error_then_close_and_the_loop_serves_on() {
    let _w = common::watchdog();
    // The peer: reads a little, then closes with SO_LINGER 0, which sends a
    // RST while our writes are still coming.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(backstop())).unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0;
        while n < 1 << 20 {
            n += s.read(&mut buf).unwrap();
        }
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(s);
    });
    let events = Rc::new(RefCell::new(Vec::<String>::new()));
    let ev = events.clone();
    evloop::run(move || {
        let w: Slot<Socket> = Slot::new();
        let written = Rc::new(Cell::new(0u64));
        // Write until told to wait, again after each drain.
        let pump = {
            let w = w.clone();
            let written = written.clone();
            move || {
                let s = w.get();
                while !s.destroyed() {
                    written.set(written.get() + MAX_MESSAGE as u64);
                    assert!(written.get() < 1 << 32, "4 GB written and no error");
                    if !s.write(vec![0u8; MAX_MESSAGE]) {
                        break;
                    }
                }
            }
        };
        let p = pump.clone();
        let sock = net::connect(addr, p).unwrap();
        w.set(sock.clone());
        sock.on_drain(pump);
        let e = ev.clone();
        sock.on_error(move |err| {
            let code = code(&err);
            assert!(
                code == "ECONNRESET" || code == "EPIPE",
                "unexpected error {err}"
            );
            e.borrow_mut().push("error".into());
        });
        let e = ev.clone();
        sock.on_close(move |had_error| {
            e.borrow_mut().push(format!("close {had_error}"));
            // The loop goes on: serve another connection.
            let echoed = Rc::new(Cell::new(0));
            let server = echo_server(echoed);
            let addr = server.listen("127.0.0.1:0").unwrap();
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || c2.get().end_with("ping")).unwrap();
            c.set(client.clone());
            // The echo may come in pieces: logged whole, at close.
            let echo = Rc::new(RefCell::new(String::new()));
            let got = echo.clone();
            client.on_data(move |d| got.borrow_mut().push_str(&String::from_utf8_lossy(d)));
            let e = e.clone();
            client.on_close(move |_| {
                e.borrow_mut().push(echo.take());
                server.close(|| {});
            });
        });
    });
    peer.join().unwrap();
    assert_eq!(*events.borrow(), ["error", "close true", "ping"]);
}

#[test]
fn connect_to_a_closed_port_is_error_then_close_true() {
    let _w = common::watchdog();
    let (_port_held, addr) = closed_port();
    let events = Rc::new(RefCell::new(Vec::<String>::new()));
    let ev = events.clone();
    evloop::run(move || {
        let s = net::connect(addr, || panic!("connected to a closed port")).unwrap();
        let e = ev.clone();
        s.on_error(move |err| {
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
            e.borrow_mut().push(err.to_string());
        });
        s.on_close(move |had_error| ev.borrow_mut().push(format!("close {had_error}")));
    });
    assert_eq!(
        *events.borrow(),
        [format!("connect ECONNREFUSED {addr}"), "close true".into()]
    );
}

#[test]
fn future_connect_to_a_closed_port_is_econnrefused() {
    let _w = common::watchdog();
    let (_port_held, addr) = closed_port();
    let lp = EventLoop::new().unwrap();
    let failed: Rc<RefCell<Option<io::Error>>> = Rc::default();
    let f = failed.clone();
    lp.enter(|| {
        spawn(async move {
            *f.borrow_mut() = Some(TcpStream::connect(addr).await.unwrap_err());
        })
        .detach();
    });
    // Until the connect has failed (the loop wakes for that), then one more
    // turn that never blocks: nothing may be left to keep the loop alive.
    // (No timer decides how long "left" is: a condition, not a race.)
    loop {
        let alive = lp.run(RunMode::Once);
        if failed.borrow().is_some() {
            break;
        }
        assert!(alive, "the connect neither failed nor kept the loop alive");
    }
    assert!(
        !lp.run(RunMode::NoWait),
        "the failed connect still keeps the loop alive"
    );
    let err = failed.take().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert!(err.to_string().contains("ECONNREFUSED"), "{err}");
    assert_eq!(err.to_string(), format!("connect ECONNREFUSED {addr}"));
}

/// Dropping a `TcpStream::connect` future before it completes (an aborted
/// task, a `timeout` that elapsed) must release its socket: nothing is left
/// that could keep the loop alive.
#[test]
fn aborted_connect_does_not_keep_the_loop_alive() {
    let _w = common::watchdog();
    // A listener outside the loop: the kernel completes the handshake.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let lp = EventLoop::new().unwrap();
    lp.enter(|| {
        // The first poll runs inside `spawn` and waits for the connection;
        // the abort drops the future there.
        let task = spawn(async move {
            TcpStream::connect(addr).await.unwrap();
            panic!("the aborted task went on");
        });
        task.abort();
    });
    // One turn that never blocks: nothing may be left to keep the loop
    // alive (a condition checked at once, not a timer racing the loop).
    assert!(
        !lp.run(RunMode::NoWait),
        "the aborted connect still keeps the loop alive"
    );
    drop(listener);
}

// ---------------------------------------------------------------------------
// Half-close

#[test]
fn half_open_server_gets_end_and_can_still_reply() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    let reply = evloop::run_async(async move {
        let l2 = l.clone();
        let server = net::create_server(move |socket| {
            socket.set_allow_half_open(true);
            // The request may come in pieces: what came before `end` is
            // logged whole.
            let request = Rc::new(Cell::new(0));
            let r = request.clone();
            socket.on_data(move |d| r.set(r.get() + d.len()));
            let (l, s) = (l2.clone(), socket.clone());
            socket.on_end(move || {
                l.borrow_mut().push(format!("data {}", request.get()));
                l.borrow_mut().push("end".into());
                // Still writable after the peer's FIN, even later on.
                let s = s.clone();
                set_timeout(20, move || {
                    assert!(s.write(&b"reply"[..]));
                    s.end();
                });
            });
            let l = l2.clone();
            socket.on_close(move |e| l.borrow_mut().push(format!("close {e}")));
        });
        let addr = server.listen("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"request").await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            let n = client.read(&mut buf).await.unwrap();
            if n == 0 {
                break; // end of stream after the reply
            }
            got.extend_from_slice(&buf[..n]);
        }
        drop(client);
        close_server(&server).await;
        got
    });
    assert_eq!(reply, b"reply");
    assert_eq!(*log.borrow(), ["data 7", "end", "close false"]);
}

#[test]
fn without_half_open_the_socket_ends_itself_after_end() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    let reply = evloop::run_async(async move {
        let l2 = l.clone();
        let server = net::create_server(move |socket| {
            socket.on_data(|_| {});
            let l = l2.clone();
            socket.on_end(move || l.borrow_mut().push("end".into()));
            let l = l2.clone();
            socket.on_close(move |e| l.borrow_mut().push(format!("close {e}")));
        });
        let addr = server.listen("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"request").await.unwrap();
        client.shutdown().await.unwrap();
        let mut buf = [0u8; 64];
        let n = client.read(&mut buf).await.unwrap();
        drop(client);
        close_server(&server).await;
        n
    });
    assert_eq!(reply, 0, "the server ended its side with no reply");
    assert_eq!(*log.borrow(), ["end", "close false"]);
}

// ---------------------------------------------------------------------------
// Timeouts, keep-alive, server.close

#[test]
fn idle_socket_fires_timeout() {
    let _w = common::watchdog();
    const IDLE: u64 = 60;
    // (Loop time in ms, real time since before the loop was made.)
    let fired = Rc::new(Cell::new(None::<(u64, Duration)>));
    let f = fired.clone();
    let start = Instant::now();
    evloop::run(move || {
        let f = f.clone();
        let server = net::create_server(move |socket| {
            socket.on_data(|_| {});
            // Measured on the loop's clock, which the timer counts on: the
            // real time here can be later than the loop's cached time the
            // countdown starts from.
            let armed_at = evloop::now();
            socket.set_timeout(Duration::from_millis(IDLE));
            let (f, s) = (f.clone(), socket.clone());
            socket.on_timeout(move || {
                f.set(Some((evloop::now() - armed_at, start.elapsed())));
                // `timeout` only notifies.
                assert!(!s.destroyed());
                s.destroy();
            });
        });
        let addr = server.listen("127.0.0.1:0").unwrap();
        let client = net::connect(addr, || {}).unwrap();
        client.on_data(|_| {});
        client.on_close(move |_| server.close(|| {}));
    });
    // Lower bounds only: a busy machine makes it later, never earlier.
    let (idle_ms, elapsed) = fired.get().expect("timeout fired");
    assert!(idle_ms >= IDLE, "timeout after {idle_ms} ms of loop time");
    assert!(
        elapsed >= Duration::from_millis(IDLE),
        "timeout {elapsed:?} after the loop was made"
    );
}

#[test]
fn unrefed_server_does_not_keep_the_loop_alive() {
    let _w = common::watchdog();
    // Whether anything keeps a loop alive once `main` has run, which is
    // what decides whether `run` returns at once (no clock involved).
    fn alive_after(main: impl FnOnce()) -> bool {
        let lp = EventLoop::new().unwrap();
        lp.enter(main);
        lp.is_alive()
    }
    let accepted = Rc::new(Cell::new(false));
    let a = accepted.clone();
    let alive = alive_after(move || {
        let server = net::create_server(move |_| a.set(true));
        server.listen("127.0.0.1:0").unwrap();
        server.unref();
    });
    assert!(!alive, "an unref'd server keeps the loop alive");
    assert!(!accepted.get());

    // The same with the future API's listener.
    let alive = alive_after(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.unref();
        spawn(async move {
            let _ = listener.accept().await;
            panic!("nobody connects");
        })
        .detach();
    });
    assert!(!alive, "an unref'd listener keeps the loop alive");

    // And an unref'd client socket (its peer is outside the loop).
    let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = outside.local_addr().unwrap();
    let alive = alive_after(move || {
        let s = net::connect(addr, || {}).unwrap();
        s.on_data(|_| {});
        s.unref();
    });
    assert!(!alive, "an unref'd socket keeps the loop alive");
}

#[test]
fn unrefed_server_still_serves_while_something_else_keeps_the_loop_alive() {
    let _w = common::watchdog();
    let got = evloop::run_async(async {
        let server = echo_server(Rc::new(Cell::new(0)));
        let addr = server.listen("127.0.0.1:0").unwrap();
        server.unref();
        // The client keeps the loop alive.
        let c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"still here").await.unwrap();
        let mut buf = [0u8; 10];
        let mut n = 0;
        while n < 10 {
            n += c.read(&mut buf[n..]).await.unwrap();
        }
        buf
    });
    assert_eq!(&got, b"still here");
}

#[test]
fn referenced_server_keeps_the_loop_alive_until_closed() {
    let _w = common::watchdog();
    let start = Instant::now();
    let closed = Rc::new(Cell::new(false));
    let c = closed.clone();
    evloop::run(move || {
        let server = net::create_server(|_| {});
        server.listen("127.0.0.1:0").unwrap();
        set_timeout(50, move || server.close(move || c.set(true)));
    });
    assert!(closed.get());
    assert!(start.elapsed() >= Duration::from_millis(50));
}

#[test]
fn server_close_callback_runs_after_the_last_connection_closes() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    evloop::run(move || {
        let server_slot: Slot<Server> = Slot::new();
        let addr_slot: Slot<SocketAddr> = Slot::new();
        let (srv, a, l2) = (server_slot.clone(), addr_slot.clone(), l.clone());
        let accepted: Rc<RefCell<Vec<Socket>>> = Rc::default();
        let server = net::create_server(move |socket| {
            socket.on_data(|_| {});
            accepted.borrow_mut().push(socket);
            if accepted.borrow().len() < 2 {
                return;
            }
            // Both connected: stop accepting.
            let srv2 = srv.clone();
            let l = l2.clone();
            srv.get().close(move || {
                l.borrow_mut()
                    .push(format!("close callback, {} open", srv2.get().connections()));
            });
            l2.borrow_mut().push("server.close called".into());
            // A third connection is refused now. Once it has been, end the
            // two connections at different times: timers started together,
            // so their order is fixed however long the refusal took.
            let (l, open) = (l2.clone(), accepted.borrow().clone());
            let third = net::connect(a.get(), || panic!("accepted after close"));
            let third = third.unwrap();
            third.on_error(move |e| {
                l.borrow_mut().push(format!("third: {}", code(&e)));
                for (i, s) in open.iter().enumerate() {
                    let (s, l, n) = (s.clone(), l.clone(), i + 1);
                    set_timeout(20 * n as u64, move || {
                        l.borrow_mut().push(format!("destroy {n}"));
                        s.destroy();
                    });
                }
            });
        });
        let addr = server.listen("127.0.0.1:0").unwrap();
        server_slot.set(server);
        addr_slot.set(addr);
        for _ in 0..2 {
            let c = net::connect(addr, || {}).unwrap();
            c.on_data(|_| {});
        }
    });
    assert_eq!(
        *log.borrow(),
        [
            "server.close called",
            "third: ECONNREFUSED",
            "destroy 1",
            "destroy 2",
            "close callback, 0 open"
        ]
    );
}

/// Node's `server.maxConnections`: at the cap, a new connection is closed
/// at once (the peer reads the end) without reaching the `connection`
/// handler; once an open one closes, the next is served.
#[test]
fn max_connections_closes_new_connections_at_the_cap() {
    let _w = common::watchdog();
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let l = log.clone();
    evloop::run_async(async move {
        let kept = Rc::new(RefCell::new(Vec::<Socket>::new()));
        let (k, l2) = (kept.clone(), l.clone());
        let server = net::create_server(move |socket| {
            l2.borrow_mut().push("connection".into());
            socket.write(&b"hi"[..]);
            k.borrow_mut().push(socket);
        });
        assert_eq!(server.max_connections(), None);
        server.set_max_connections(Some(1));
        assert_eq!(server.max_connections(), Some(1));
        let addr = server.listen("127.0.0.1:0").unwrap();
        let mut buf = [0u8; 2];
        let first = TcpStream::connect(addr).await.unwrap();
        assert_eq!(first.read(&mut buf).await.unwrap(), 2, "first served");
        let second = TcpStream::connect(addr).await.unwrap();
        let got = second.read(&mut buf).await;
        assert!(
            matches!(got, Ok(0)) || got.is_err(),
            "second connection was not closed: {got:?}"
        );
        l.borrow_mut().push("second closed".into());
        assert_eq!(server.connections(), 1);
        // The first one ends (the server's side ends too and closes):
        // then there is room again. (A condition, polled: not a race.)
        drop(first);
        while server.connections() > 0 {
            evloop::sleep(1).await;
        }
        let third = TcpStream::connect(addr).await.unwrap();
        assert_eq!(third.read(&mut buf).await.unwrap(), 2, "third served");
        l.borrow_mut().push("third served".into());
        drop(third);
        kept.borrow_mut().clear();
        close_server(&server).await;
    });
    assert_eq!(
        *log.borrow(),
        ["connection", "second closed", "connection", "third served"]
    );
}

// ---------------------------------------------------------------------------
// The future API

#[test]
fn future_accept_loop_serves_clients_concurrently() {
    let _w = common::watchdog();
    const N: usize = 5;
    let replies = evloop::run_async(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Each handler waits until all N requests are in: this only
        // finishes if the connections are served at the same time.
        let waiting: Rc<RefCell<Vec<evloop::Resolver<()>>>> = Rc::default();
        let server = spawn(async move {
            for _ in 0..N {
                let (stream, _) = listener.accept().await.unwrap();
                let waiting = waiting.clone();
                spawn(async move {
                    // "client I": 8 bytes, which may come in pieces.
                    let mut buf = [0u8; 8];
                    let mut n = 0;
                    while n < buf.len() {
                        let k = stream.read(&mut buf[n..]).await.unwrap();
                        assert!(k > 0, "the client ended early");
                        n += k;
                    }
                    let (resolver, all_in) = evloop::deferred();
                    waiting.borrow_mut().push(resolver);
                    if waiting.borrow().len() == N {
                        for r in waiting.borrow_mut().drain(..) {
                            r.resolve(());
                        }
                    }
                    all_in.await.unwrap();
                    let reply = String::from_utf8_lossy(&buf[..n]).to_uppercase();
                    stream.write_all(reply.as_bytes()).await.unwrap();
                })
                .detach();
            }
            // The listener drops here: no more connections.
        });
        let clients: Vec<_> = (0..N)
            .map(|i| {
                spawn(async move {
                    let s = TcpStream::connect(addr).await.unwrap();
                    s.write_all(format!("client {i}").as_bytes()).await.unwrap();
                    let mut out = Vec::new();
                    let mut buf = [0u8; 64];
                    loop {
                        let n = s.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        out.extend_from_slice(&buf[..n]);
                    }
                    String::from_utf8(out).unwrap()
                })
            })
            .collect();
        server.await;
        let mut replies = Vec::new();
        for c in clients {
            replies.push(c.await);
        }
        replies
    });
    let want: Vec<String> = (0..N).map(|i| format!("CLIENT {i}")).collect();
    assert_eq!(replies, want);
}

// ---------------------------------------------------------------------------
// Ordering against Node

/// Runs `main` as the main script of a fresh loop on virtual time
/// (`common::check`) and asserts the recorded lines equal Node's
/// (`tests/node/net/NAME.out`).
///
/// No timer stands guard against a hang (the test's watchdog does): on
/// virtual time, a poll that finds nothing ready moves the clock to the next
/// timer at once, so an unref'd 10 s guard would fire, and fail the test,
/// whenever a loopback packet came a moment late (the kernel may hand it on
/// a little later on a busy machine). With no timer pending, the loop waits
/// for the packet in real time.
fn check(name: &str, expected: &str, main: impl FnOnce() + 'static) {
    common::check(name, expected, main);
}

/// `server.listen(0, '127.0.0.1', cb)`: Node calls `cb` on the next tick.
fn listen(server: &Server, cb: impl FnOnce(SocketAddr) + 'static) {
    let addr = server.listen("127.0.0.1:0").unwrap();
    next_tick(move || cb(addr));
}

#[test]
fn connection_callback_queues() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "connection_callback_queues");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            say("connection");
            socket.on_data(|_| {});
            let s = s.clone();
            set_timeout(0, move || {
                say("timeout 0");
                socket.destroy();
                s.get().close(|| {});
            });
            set_immediate(|| say("immediate"));
            queue_microtask(|| say("microtask"));
            next_tick(|| say("tick"));
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let client = net::connect(addr, || {}).unwrap();
            client.on_data(|_| {});
        });
    });
}

#[test]
fn connect_callback_queues() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "connect_callback_queues");
    check(name, out, || {
        let server = net::create_server(|socket| {
            socket.on_data(|_| {});
        });
        let srv = server.clone();
        listen(&server, move |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || {
                say("connect");
                let (c, srv) = (c2.clone(), srv.clone());
                set_timeout(0, move || {
                    say("timeout 0");
                    c.get().end();
                    srv.close(|| {});
                });
                set_immediate(|| say("immediate"));
                queue_microtask(|| say("microtask"));
                next_tick(|| say("tick"));
            })
            .unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
        });
    });
}

#[test]
fn data_handler_queues() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "data_handler_queues");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            let (sock, s) = (socket.clone(), s.clone());
            socket.on_data(move |chunk| {
                say(format!("data {}", String::from_utf8_lossy(chunk)));
                let (sock, s) = (sock.clone(), s.clone());
                set_timeout(0, move || {
                    say("timeout 0");
                    sock.end();
                    s.get().close(|| {});
                });
                set_immediate(|| say("immediate"));
                queue_microtask(|| say("microtask"));
                next_tick(|| say("tick"));
            });
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || {
                c2.get().write("hello");
            })
            .unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
        });
    });
}

#[test]
fn drain_between_data_chunks() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "drain_between_data_chunks");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            let n = Cell::new(0);
            socket.on_data(move |_| {
                n.set(n.get() + 1);
                if n.get() > 2 {
                    return;
                }
                let i = n.get();
                say(format!("data {i}"));
                next_tick(move || say(format!("tick after data {i}")));
                queue_microtask(move || say(format!("microtask after data {i}")));
            });
            let s = s.clone();
            socket.on_end(move || s.get().close(|| {}));
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || {
                c2.get().end_with(vec![120u8; 200 * 1024]);
            })
            .unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
        });
    });
}

#[test]
fn data_then_end_ticks() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "data_then_end_ticks");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            socket.on_data(|chunk| {
                say(format!("data {}", String::from_utf8_lossy(chunk)));
                next_tick(|| say("tick after data"));
                queue_microtask(|| say("microtask after data"));
            });
            let s = s.clone();
            socket.on_end(move || {
                say("end");
                s.get().close(|| {});
            });
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || c2.get().end_with("x")).unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
        });
    });
}

#[test]
fn end_then_close() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "end_then_close");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            socket.on_data(|_| {});
            socket.on_end(|| {
                say("end");
                set_immediate(|| say("immediate"));
                next_tick(|| say("tick"));
            });
            let s = s.clone();
            socket.on_close(move |had_error| {
                say(format!("close {had_error}"));
                s.get().close(|| {});
            });
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || c2.get().end_with("bye")).unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
        });
    });
}

#[test]
fn half_open_timer_then_close() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "half_open_timer_then_close");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        // net.createServer({ allowHalfOpen: true }, ...)
        let server = net::create_server(move |socket| {
            socket.set_allow_half_open(true);
            socket.on_data(|chunk| say(format!("data {}", String::from_utf8_lossy(chunk))));
            let sock = socket.clone();
            socket.on_end(move || {
                say("end");
                let sock = sock.clone();
                set_timeout(10, move || {
                    say("timer: reply and end");
                    sock.end_with("reply");
                });
            });
            let s = s.clone();
            socket.on_close(move |had_error| {
                say(format!("close {had_error}"));
                s.get().close(|| {});
            });
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || c2.get().end_with("request")).unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
        });
    });
}

#[test]
fn destroy_close_after_immediate() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "destroy_close_after_immediate");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            let sock = socket.clone();
            socket.on_data(move |_| {
                say("data");
                sock.destroy();
                set_immediate(|| say("immediate"));
                next_tick(|| say("tick"));
            });
            let s = s.clone();
            socket.on_close(move |had_error| {
                say(format!("close {had_error}"));
                s.get().close(|| {});
            });
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || {
                c2.get().write("hi");
            })
            .unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
            client.on_error(|_| {});
        });
    });
}

#[test]
fn destroy_three_close_newest_first() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "destroy_three_close_newest_first");
    check(name, out, || {
        let server = net::create_server(|_| {});
        let srv = server.clone();
        listen(&server, move |addr| {
            let all: Rc<RefCell<Vec<(&'static str, Socket)>>> = Rc::default();
            let connected = Rc::new(Cell::new(0));
            for name in ["a", "b", "c"] {
                let (all2, connected, srv) = (all.clone(), connected.clone(), srv.clone());
                let socket = net::connect(addr, move || {
                    connected.set(connected.get() + 1);
                    if connected.get() < 3 {
                        return;
                    }
                    let sockets = all2.borrow().clone();
                    for (name, s) in &sockets {
                        let name = *name;
                        s.on_close(move |_| say(format!("{name} closed")));
                    }
                    say("destroy a, b, c");
                    for (_, s) in &sockets {
                        s.destroy();
                    }
                    srv.close(|| {});
                    srv.unref();
                })
                .unwrap();
                socket.on_error(|_| {});
                all.borrow_mut().push((name, socket));
            }
        });
    });
}

#[test]
fn connect_refused_error_then_close() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "connect_refused_error_then_close");
    check(name, out, || {
        let probe = net::create_server(|_| {});
        let p = probe.clone();
        listen(&probe, move |addr| {
            p.close(move || {
                let client = net::connect(addr, || say("connected?!")).expect("connect starts");
                client.on_error(|err| {
                    say(format!("error {}", code(&err)));
                    set_immediate(|| say("immediate"));
                    next_tick(|| say("tick"));
                });
                client.on_close(|had_error| say(format!("close {had_error}")));
            });
        });
    });
}

#[test]
fn socket_timeout_after_timer() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "socket_timeout_after_timer");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            socket.on_data(|_| {});
            socket.set_timeout(Duration::from_millis(40));
            set_timeout(10, || say("timer 10"));
            set_timeout(80, || say("timer 80"));
            let sock = socket.clone();
            socket.on_timeout(move || {
                say("timeout");
                let sock = sock.clone();
                set_timeout(60, move || sock.destroy());
            });
            let s = s.clone();
            socket.on_close(move |had_error| {
                say(format!("close {had_error}"));
                s.get().close(|| {});
            });
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let client = net::connect(addr, || {}).unwrap();
            client.on_data(|_| {});
            client.on_error(|_| {});
        });
    });
}

#[test]
fn server_close_no_connections() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "server_close_no_connections");
    check(name, out, || {
        let server = net::create_server(|_| {});
        let s = server.clone();
        listen(&server, move |_| {
            say("listening");
            s.close(|| say("server close callback"));
            next_tick(|| say("tick"));
            set_immediate(|| say("immediate"));
        });
    });
}

#[test]
fn server_close_after_last_connection() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "server_close_after_last_connection");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            say("connection");
            socket.on_data(|_| {});
            socket.on_close(|_| say("socket close"));
            s.get().close(|| say("server close callback"));
            set_timeout(20, move || {
                say("timer: destroy");
                socket.destroy();
                next_tick(|| say("tick"));
                set_immediate(|| say("immediate"));
            });
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let client = net::connect(addr, || {}).unwrap();
            client.on_data(|_| {});
            client.on_error(|_| {});
        });
    });
}

#[test]
fn end_without_data_listener() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "end_without_data_listener");
    check(name, out, || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let server = net::create_server(move |socket| {
            socket.end();
            s.get().close(|| {});
        });
        srv.set(server.clone());
        listen(&server, |addr| {
            let client = net::connect(addr, || {}).unwrap();
            client.on_end(|| say("client end"));
            client.on_close(|had_error| say(format!("client close {had_error}")));
        });
        // The script's unref'd 2 s watchdog is left out: on virtual time it
        // would fire as soon as a poll found nothing ready (see `check`). A
        // socket left open hangs the loop, which the test's watchdog
        // reports.
    });
}

#[test]
fn write_after_end_errors_and_destroys() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "write_after_end_errors_and_destroys");
    check(name, out, || {
        let server = net::create_server(|socket| {
            socket.on_data(|_| {});
        });
        let srv = server.clone();
        listen(&server, move |addr| {
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect(addr, move || {
                let client = c2.get();
                client.end();
                say(format!("write returned {}", client.write("x")));
                next_tick(|| say("tick"));
            })
            .unwrap();
            c.set(client.clone());
            client.on_data(|_| {});
            client.on_error(|_| say("error"));
            client.on_close(move |had_error| {
                say(format!("close {had_error}"));
                srv.close(|| {});
            });
        });
    });
}

// ---------------------------------------------------------------------------
// Unix domain sockets

/// A socket path under the temp folder, unique to this process and test,
/// removed first (as the JS scenarios do).
fn sock_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("evloop-{name}-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn unix_socket_order() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "unix_socket_order");
    let path = sock_path("unix-order");
    check(name, out, move || {
        let srv: Slot<Server> = Slot::new();
        let s = srv.clone();
        let p = path.clone();
        let server = net::create_server(move |socket| {
            say("connection");
            let sock = socket.clone();
            socket.on_data(move |d| {
                say(format!("server data {}", String::from_utf8_lossy(d)));
                sock.end_with("pong");
            });
            socket.on_end(|| say("server end"));
            let s = s.clone();
            let p = p.clone();
            socket.on_close(move |had_error| {
                say(format!("server close {had_error}"));
                let p = p.clone();
                s.get().close(move || {
                    say(format!("server closed, file exists {}", p.exists()));
                });
            });
        });
        srv.set(server.clone());
        server.listen_path(&path).unwrap();
        let p = path.clone();
        next_tick(move || {
            say(format!("listening, file exists {}", p.exists()));
            let second = net::create_server(|_| {});
            let e = second.listen_path(&p).unwrap_err();
            say(format!(
                "second listen {}",
                e.to_string().split(' ').nth(1).unwrap()
            ));
            let c: Slot<Socket> = Slot::new();
            let c2 = c.clone();
            let client = net::connect_path(&p, move || {
                say("connect");
                c2.get().write("ping");
            })
            .unwrap();
            c.set(client.clone());
            client.on_data(|d| say(format!("client data {}", String::from_utf8_lossy(d))));
            client.on_end(|| say("client end"));
            client.on_close(|had_error| say(format!("client close {had_error}")));
        });
    });
}

/// Backpressure works over a Unix socket as over TCP: `write` turns
/// `false` at 16 KiB queued, `drain` follows, and every byte arrives.
#[test]
fn unix_socket_backpressure_and_drain() {
    let _w = common::watchdog();
    let path = sock_path("unix-drain");
    const TOTAL: usize = 4 << 20;
    let drains = Rc::new(Cell::new(0));
    let got = Rc::new(Cell::new(0));
    let (d, g, p) = (drains.clone(), got.clone(), path.clone());
    EventLoop::new().unwrap().run_main(move || {
        let server = net::create_server(move |socket| {
            let s = socket.clone();
            let d = d.clone();
            let mut sent = 0;
            let mut pump = move || {
                while sent < TOTAL {
                    sent += 64 * 1024;
                    if !s.write(vec![7u8; 64 * 1024]) {
                        return;
                    }
                }
                s.end();
            };
            pump();
            assert!(socket.buffered() >= HIGH_WATER, "the first write queued");
            socket.on_drain(move || {
                d.set(d.get() + 1);
                pump();
            });
        });
        server.listen_path(&p).unwrap();
        let client = net::connect_path(&p, || {}).unwrap();
        let g = g.clone();
        client.on_data(move |chunk| g.set(g.get() + chunk.len()));
        client.on_close(move |_| server.close(|| {}));
    });
    assert_eq!(got.get(), TOTAL);
    assert!(drains.get() > 0, "write returned false and drain followed");
    assert!(!path.exists());
}

/// The futures types round trip, the listener's path, and the file is gone
/// once the listener drops.
#[test]
fn unix_futures_round_trip() {
    let _w = common::watchdog();
    let path = sock_path("unix-futures");
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let p = path.clone();
    EventLoop::new().unwrap().run_main(move || {
        let listener = net::UnixListener::bind(&p).unwrap();
        assert_eq!(listener.local_path(), p);
        assert!(p.exists());
        let p2 = p.clone();
        spawn(async move {
            let client = net::UnixStream::connect(&p2).await.unwrap();
            client.write_all(b"ping").await.unwrap();
            client.shutdown().await.unwrap();
            let mut buf = [0; 16];
            let n = client.read(&mut buf).await.unwrap();
            g.borrow_mut().extend_from_slice(&buf[..n]);
            assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        })
        .detach();
        spawn(async move {
            let conn = listener.accept().await.unwrap();
            let mut all = Vec::new();
            let mut buf = [0; 16];
            loop {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
            }
            assert_eq!(all, b"ping");
            conn.write_all(b"pong").await.unwrap();
            drop(listener);
            assert!(!p.exists(), "dropping the listener removes the file");
        })
        .detach();
    });
    assert_eq!(&*got.borrow(), b"pong");
}

/// Listening on a path that exists is `EADDRINUSE` in both styles (a stale
/// file too), and the file is left alone.
#[test]
fn unix_listen_on_existing_path_is_eaddrinuse() {
    let _w = common::watchdog();
    let path = sock_path("unix-inuse");
    std::fs::write(&path, b"not a socket").unwrap();
    let p = path.clone();
    EventLoop::new().unwrap().run_main(move || {
        let e = net::create_server(|_| {}).listen_path(&p).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(e.to_string(), format!("listen EADDRINUSE {}", p.display()));
        let e = net::UnixListener::bind(&p).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
    std::fs::remove_file(&path).unwrap();
}

/// A listening server's file is removed when the loop is dropped without
/// `close`, and `local_path` reports it while listening.
#[test]
fn unix_socket_file_removed_when_loop_drops() {
    let _w = common::watchdog();
    let path = sock_path("unix-drop");
    let lp = EventLoop::new().unwrap();
    let p = path.clone();
    lp.run_main(move || {
        let server = net::create_server(|_| {});
        server.listen_path(&p).unwrap();
        assert_eq!(server.local_path(), Some(p.clone()));
        assert_eq!(server.local_addr(), None);
        server.unref();
        let l = net::UnixListener::bind(p.with_extension("fut")).unwrap();
        l.unref();
        spawn(async move {
            let _ = l.accept().await;
        })
        .detach();
    });
    assert!(path.exists(), "still listening while the loop lives");
    // Node's `process._getActiveHandles()` names: `PipeServerWrap`.
    let kinds: Vec<&str> = lp.walk().iter().map(|h| h.kind.name()).collect();
    assert_eq!(kinds, ["PipeServerWrap", "PipeServerWrap"]);
    drop(lp);
    assert!(!path.exists());
    assert!(!path.with_extension("fut").exists());
}

/// Connecting to a missing path or one nobody listens on is an `error`
/// event then `close` (as Node), not a synchronous failure.
#[test]
fn unix_connect_errors_are_events() {
    let _w = common::watchdog();
    let missing = sock_path("unix-missing");
    let stale = sock_path("unix-stale");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let events = Rc::new(RefCell::new(Vec::new()));
    let ev = events.clone();
    let (m, st) = (missing.clone(), stale.clone());
    EventLoop::new().unwrap().run_main(move || {
        // The callback style reports both on the next tick, in order.
        for p in [&m, &st] {
            let client = net::connect_path(p, || panic!("connected")).unwrap();
            let ev1 = ev.clone();
            client.on_error(move |e| ev1.borrow_mut().push(e.to_string()));
            let ev2 = ev.clone();
            client.on_close(move |had_error| ev2.borrow_mut().push(format!("close {had_error}")));
        }
        let ev = ev.clone();
        let m = m.clone();
        spawn(async move {
            let e = net::UnixStream::connect(&m).await.unwrap_err();
            ev.borrow_mut().push(format!("future {e}"));
        })
        .detach();
    });
    std::fs::remove_file(&stale).unwrap();
    let future = format!("future connect ENOENT {}", missing.display());
    let at = events.borrow().iter().position(|e| *e == future);
    events
        .borrow_mut()
        .remove(at.expect("the future's connect failed"));
    assert_eq!(
        *events.borrow(),
        [
            format!("connect ENOENT {}", missing.display()),
            format!("connect ECONNREFUSED {}", stale.display()),
            "close true".to_string(),
            "close true".to_string(),
        ]
    );
}

/// A path longer than a socket address holds (107 bytes) is a clear error
/// in both styles, at once, and creates no file.
#[test]
fn unix_path_too_long_is_a_clear_error() {
    let _w = common::watchdog();
    let long = std::env::temp_dir().join("x".repeat(120));
    let l = long.clone();
    EventLoop::new().unwrap().run_main(move || {
        let e = net::create_server(|_| {}).listen_path(&l).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().starts_with("listen ENAMETOOLONG"), "{e}");
        let e = net::connect_path(&l, || {}).unwrap_err();
        assert!(e.to_string().starts_with("connect ENAMETOOLONG"), "{e}");
        let e = net::UnixListener::bind(&l).unwrap_err();
        assert!(e.to_string().contains("at most 107 bytes"), "{e}");
    });
    let cut: String = long.to_string_lossy().chars().take(107).collect();
    assert!(!std::path::Path::new(&cut).exists());
}

/// Every scenario in tests/node/net/ has its port above.
/// A name that does not resolve: `ENOTFOUND`, or `EAI_AGAIN` when the
/// resolver cannot be reached (no network); the scripts print either as
/// `true`.
fn unresolved(e: &io::Error) -> bool {
    let text = e.to_string();
    text.starts_with("getaddrinfo ENOTFOUND ") || text.starts_with("getaddrinfo EAI_AGAIN ")
}

/// Node's `(err, address, family, host)` of a `lookup` event.
fn lookup_line(found: Result<std::net::IpAddr, &io::Error>, host: &str) -> String {
    match found {
        Ok(ip) => format!(
            "lookup null {ip} {} {host}",
            if ip.is_ipv4() { 4 } else { 6 }
        ),
        Err(e) => format!("lookup {} undefined undefined {host}", unresolved(e)),
    }
}

#[test]
fn connect_host_lookup_then_connect() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "connect_host_lookup_then_connect");
    check(name, out, || {
        let server = net::create_server(|socket| socket.end_with("hi"));
        let srv = server.clone();
        listen(&server, move |addr| {
            let port = addr.port();
            let client = net::connect(("localhost", port), || say("connect")).unwrap();
            client.on_lookup(|found, host| {
                say(lookup_line(found, host));
                next_tick(|| say("tick after lookup"));
            });
            client.on_data(|d| say(format!("data {}", String::from_utf8_lossy(d))));
            client.on_close(move |had_error| {
                say(format!("close {had_error}"));
                let literal = net::connect(("127.0.0.1", port), || say("literal connect")).unwrap();
                literal.on_lookup(|_, _| say("literal lookup?!"));
                literal.on_data(|_| {});
                let srv = srv.clone();
                literal.on_close(move |_| {
                    say("literal close");
                    srv.close(|| {});
                });
            });
            next_tick(|| say("tick after connect call"));
            say("connect called");
        });
    });
}

#[test]
fn connect_host_not_found() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "connect_host_not_found");
    check(name, out, || {
        let client = net::connect("nonexistent.invalid:80", || say("connected?!")).unwrap();
        client.on_lookup(|found, host| {
            say(lookup_line(found, host));
            next_tick(|| say("tick after lookup"));
            set_immediate(|| say("immediate after lookup"));
        });
        client.on_error(|e| {
            assert!(e.to_string().ends_with(" nonexistent.invalid"), "{e}");
            say(format!(
                "error {} getaddrinfo nonexistent.invalid",
                unresolved(&e)
            ));
        });
        client.on_close(|had_error| say(format!("close {had_error}")));
        next_tick(|| say("main tick"));
        say("main end");
    });
}

#[test]
fn listen_host() {
    let _w = common::watchdog();
    let (name, out) = node_expected!("net", "listen_host");
    check(name, out, || {
        let server = net::create_server(|_| {});
        let srv = server.clone();
        server.listen_host(("localhost", 0), move |bound| {
            let bound = bound.unwrap();
            assert_eq!(Some(bound), srv.local_addr());
            say(format!("listening {}", bound.ip()));
            srv.close(|| say("closed"));
            let bad = net::create_server(|_| {});
            bad.listen_host(("nonexistent.invalid", 0), |r| {
                let e = r.unwrap_err();
                say(format!(
                    "error {} getaddrinfo nonexistent.invalid",
                    unresolved(&e)
                ));
            });
        });
        next_tick(|| say("main tick"));
        say("main end");
    });
}

/// The futures form: a name is looked up, then connected; one that does
/// not resolve is Node's `getaddrinfo` error; and `listen`/`bind` refuse a
/// name (they cannot wait for the pool) with an error naming what can.
#[test]
fn futures_connect_to_a_host_name() {
    let _w = common::watchdog();
    evloop::run_async(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            s.write_all(b"hi").await.unwrap();
        });
        let client = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        assert!(client.peer_addr().unwrap().ip().is_loopback());
        let mut buf = [0u8; 8];
        assert_eq!(client.read(&mut buf).await.unwrap(), 2);
        server.await;
        let e = TcpStream::connect(("nonexistent.invalid", 80))
            .await
            .unwrap_err();
        assert!(unresolved(&e), "{e}");
        let e = TcpStream::connect("no port").await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
        let e = TcpListener::bind(("localhost", 0)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("dns::promises::lookup"), "{e}");
        let e = net::create_server(|_| {})
            .listen("localhost:0")
            .unwrap_err();
        assert!(e.to_string().contains("Server::listen_host"), "{e}");
    });
}

/// Writes and `end` made while a name is looked up are queued and sent
/// once connected, as with an address.
#[test]
fn writes_before_a_name_is_looked_up_are_sent() {
    let _w = common::watchdog();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    evloop::run(move || {
        let server = net::create_server(|socket| {
            let s = socket.clone();
            socket.on_data(move |d| {
                s.write(d.to_vec());
            });
        });
        let port = server.listen("127.0.0.1:0").unwrap().port();
        let client = net::connect(("localhost", port), || {}).unwrap();
        assert_eq!(client.remote_addr(), None, "not looked up yet");
        assert!(client.write("ping"));
        client.end();
        let g2 = g.clone();
        client.on_data(move |d| g2.borrow_mut().extend_from_slice(d));
        client.on_close(move |_| server.close(|| {}));
    });
    assert_eq!(*got.borrow(), b"ping");
}

/// A socket destroyed while its name is looked up ignores the answer (no
/// `lookup`, no connect), and an unref'd one stays unref'd once connected.
#[test]
fn destroyed_during_lookup_ignores_the_answer() {
    let _w = common::watchdog();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    evloop::run(move || {
        let client = net::connect(("localhost", 9), || panic!("connected")).unwrap();
        let l = g.clone();
        client.on_lookup(move |_, _| l.borrow_mut().push("lookup"));
        let c = g.clone();
        client.on_close(move |had_error| {
            c.borrow_mut()
                .push(if had_error { "close error" } else { "close" })
        });
        client.destroy();
    });
    assert_eq!(*got.borrow(), ["close"]);
}

#[test]
fn every_node_scenario_is_ported() {
    let _w = common::watchdog();
    common::check_every_scenario_ported("net", include_str!("net.rs"));
}

/// Re-runs every JS scenario with `node` (when on PATH) and checks the
/// recorded `.out` files are still what it prints.
#[test]
fn node_outputs_are_current() {
    let _w = common::watchdog();
    common::check_node_outputs("net", 10);
}
