//! A small HTTP/1.1 "hello world" server on evloop's callback API, parsing
//! with `httparse`: `cargo run --example http_hello [ADDR] [OPTIONS]`
//! (default `127.0.0.1:8080`; port 0 picks a free port, and the first line
//! printed, `listening on http://ADDR`, tells which), then
//! `curl -v http://ADDR/`.
//!
//! What it does:
//! - keep-alive: an HTTP/1.1 connection stays open for further requests
//!   unless the request says `Connection: close` (HTTP/1.0: only with
//!   `Connection: keep-alive`);
//! - pipelining: each connection parses incrementally from its own buffer,
//!   so several requests arriving at once are answered in order
//!   ([`Conn::feed`]);
//! - bodies: a `Content-Length` body is read and discarded, and the reply
//!   says how many bytes came; over 1 MiB is `413 Payload Too Large`;
//! - limits: a request head over 8 KiB is `431 Request Header Fields Too
//!   Large`, a malformed request `400 Bad Request`; a chunked body (not
//!   supported here) `501 Not Implemented`; each of these closes the
//!   connection after the reply;
//! - a connection idle for 5 s is ended.
//!
//! What it withstands (the limits a server open to the Internet needs):
//! - slow clients (slowloris): a request head must arrive within 60 s of
//!   its first byte (Node's `headersTimeout`) and the whole request within
//!   300 s (Node's `requestTimeout`), however steadily its bytes trickle
//!   in; past either, the reply is `408 Request Timeout` and the connection
//!   is destroyed;
//! - too many clients: past 1,000 open connections, new ones are closed at
//!   once (Node's `server.maxConnections`,
//!   [`Server::set_max_connections`](evloop::net::Server::set_max_connections));
//! - clients that send and never read (pipelining without reading the
//!   replies): a connection answers requests only while less than 16 KiB
//!   of its replies wait to be sent (Node's `highWaterMark`); past that it
//!   stops reading until the client reads (`drain`). So each connection
//!   holds at most 16 KiB of replies plus one, one read's worth (64 KiB)
//!   of requests not yet answered, and what the paused socket reads ahead
//!   (under 16 KiB plus one read): about 160 KiB, whatever the client
//!   sends (400 such clients: 65 MB of RSS; 180 MB before this bound).
//!
//! Options (after ADDR), for tests and tuning: `--idle-timeout MS`,
//! `--headers-timeout MS`, `--request-timeout MS`, `--max-connections N`,
//! `--loops N` (N threads, each with its own loop, sharing the port).

#[path = "../support/mod.rs"]
mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use evloop::net::{self, Socket};

/// Largest request head (request line and headers) accepted.
const MAX_HEAD: usize = 8 * 1024;
/// Largest request body accepted.
const MAX_BODY: u64 = 1024 * 1024;
/// A connection with no traffic for this long is ended.
const IDLE_MS: u64 = 5_000;
/// Most headers one request may have (more is answered with 431).
const MAX_HEADERS: usize = 64;
/// Node's `server.headersTimeout` (Node 20): a request head must be
/// complete this long after its first byte.
const HEADERS_TIMEOUT_MS: u64 = 60_000;
/// Node's `server.requestTimeout` (Node 20): the whole request (head and
/// body) must be in this long after its first byte.
const REQUEST_TIMEOUT_MS: u64 = 300_000;
/// Node's `server.maxConnections` (unlimited in Node): past it, new
/// connections are closed at once.
const MAX_CONNECTIONS: usize = 1_000;
/// Node's socket `highWaterMark`: a connection answers no more requests
/// while this much of its replies waits to be sent.
const HIGH_WATER: usize = 16 * 1024;

/// The limits of one server (the constants above, or the command line's).
#[derive(Clone, Copy)]
struct Limits {
    idle_ms: u64,
    headers_timeout_ms: u64,
    request_timeout_ms: u64,
    max_connections: usize,
}

/// A response to send.
struct Reply {
    status: u16,
    body: String,
    /// Keep the connection open after this reply.
    keep_alive: bool,
    /// A `HEAD` request: headers only.
    head_only: bool,
}

impl Reply {
    /// An error reply: the connection closes after it.
    fn error(status: u16) -> Reply {
        Reply {
            status,
            body: format!("{status} {}\n", reason(status)),
            keep_alive: false,
            head_only: false,
        }
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        let connection = if self.keep_alive {
            "keep-alive"
        } else {
            "close"
        };
        let head = format!(
            "HTTP/1.1 {} {}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\n\
             Connection: {connection}\r\n\
             \r\n",
            self.status,
            reason(self.status),
            self.body.len(),
        );
        out.extend_from_slice(head.as_bytes());
        if !self.head_only {
            out.extend_from_slice(self.body.as_bytes());
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        _ => "Unknown",
    }
}

/// What parsing the front of the buffer found.
enum Step {
    /// Not a whole request head yet: wait for more bytes.
    Incomplete,
    /// A valid request head of `head_len` bytes, followed by a body of
    /// `body_len` bytes; `reply` goes out once the body has been read.
    Request {
        head_len: usize,
        body_len: u64,
        reply: Reply,
    },
    /// An unacceptable request: send this and close.
    Reject(Reply),
}

/// Parses one request head at the start of `buf`.
fn parse(buf: &[u8]) -> Step {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
        Ok(httparse::Status::Complete(_)) => return Step::Reject(Reply::error(431)),
        // Everything buffered belongs to this head: past the limit, give up.
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Step::Reject(Reply::error(431));
        }
        Ok(httparse::Status::Partial) => return Step::Incomplete,
        Err(httparse::Error::TooManyHeaders) => return Step::Reject(Reply::error(431)),
        Err(_) => return Step::Reject(Reply::error(400)),
    };
    let http11 = req.version == Some(1);
    let mut keep_alive = http11;
    let mut body_len: Option<u64> = None;
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            for token in String::from_utf8_lossy(h.value).split(',') {
                let token = token.trim();
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            // Digits only; repeated headers must agree (RFC 9112 §6.3).
            let n = std::str::from_utf8(h.value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match (n, body_len) {
                (Some(n), None) => body_len = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Step::Reject(Reply::error(400)),
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Step::Reject(Reply::error(501));
        }
    }
    let body_len = body_len.unwrap_or(0);
    if body_len > MAX_BODY {
        return Step::Reject(Reply::error(413));
    }
    let body = if body_len > 0 {
        format!("Hello, world! (received {body_len} bytes)\n")
    } else {
        "Hello, world!\n".to_string()
    };
    Step::Request {
        head_len,
        body_len,
        reply: Reply {
            status: 200,
            body,
            keep_alive,
            head_only: req.method == Some("HEAD"),
        },
    }
}

/// One connection's parsing state.
#[derive(Default)]
struct Conn {
    /// Bytes received and not parsed yet.
    buf: Vec<u8>,
    /// Inside a request body: bytes of it still to skip, and the reply to
    /// send once they have come.
    body: Option<(u64, Reply)>,
    /// A reply closed the connection: whatever arrives next is ignored.
    done: bool,
    /// Requests answered so far: a new value means a new request began.
    answered: u64,
}

/// What [`Conn::feed`] wants done: send `bytes`, then end the connection if
/// `close`; `more`: requests are waiting that did not fit in the room
/// given.
#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    close: bool,
    more: bool,
}

/// Where a connection is in its current request, for the deadlines.
#[derive(Debug, PartialEq)]
enum Stage {
    /// Between requests: no byte of the next one yet.
    Idle,
    /// Receiving a request head.
    Head,
    /// Head complete, receiving its body.
    Body,
}

impl Conn {
    /// Takes the bytes that just arrived and answers the requests they
    /// complete, in order (pipelined requests included), until the replies
    /// reach `room` bytes; the rest waits in the buffer (`more`) for the
    /// next call (`feed(&[], room)`).
    fn feed(&mut self, data: &[u8], room: usize) -> Output {
        let mut out = Output::default();
        if self.done {
            return out;
        }
        self.buf.extend_from_slice(data);
        let mut pos = 0; // parsed up to here
        while !self.done {
            if out.bytes.len() >= room {
                out.more = pos < self.buf.len() || self.body.is_some();
                break;
            }
            if let Some((left, _)) = &mut self.body {
                // Skip what has arrived of the body.
                let n = (*left).min((self.buf.len() - pos) as u64);
                *left -= n;
                pos += n as usize;
                if *left > 0 {
                    break;
                }
                let (_, reply) = self.body.take().expect("in a body");
                self.send(&mut out, reply);
                continue;
            }
            match parse(&self.buf[pos..]) {
                Step::Incomplete => break,
                Step::Request {
                    head_len,
                    body_len,
                    reply,
                } => {
                    pos += head_len;
                    self.body = Some((body_len, reply));
                }
                Step::Reject(reply) => self.send(&mut out, reply),
            }
        }
        if self.done {
            self.buf = Vec::new();
        } else {
            self.buf.drain(..pos);
        }
        out
    }

    /// Where the current request is.
    fn stage(&self) -> Stage {
        if self.body.is_some() {
            Stage::Body
        } else if self.buf.is_empty() || self.done {
            Stage::Idle
        } else {
            Stage::Head
        }
    }

    fn send(&mut self, out: &mut Output, reply: Reply) {
        self.answered += 1;
        reply.write_to(&mut out.bytes);
        if !reply.keep_alive {
            self.done = true;
            out.close = true;
        }
    }
}

/// One connection's handlers' shared state.
struct Connection {
    socket: Socket,
    conn: RefCell<Conn>,
    limits: Limits,
    /// The deadlines of the current request (head, whole request), and
    /// which request (`Conn::answered` when it began) they are for.
    head_timer: Cell<Option<evloop::Timer>>,
    request_timer: Cell<Option<evloop::Timer>>,
    timed_request: Cell<Option<u64>>,
}

impl Connection {
    /// Answers what `data` (and what waited) completes, as far as the
    /// reply queue has room; stops reading while requests wait for room.
    fn pump(self: &Rc<Self>, data: &[u8]) {
        let mut data = data;
        loop {
            let room = HIGH_WATER.saturating_sub(self.socket.buffered());
            let out = self.conn.borrow_mut().feed(data, room);
            data = &[];
            // `write` says `false` when 16 KiB are waiting for the kernel:
            // `drain` will come.
            let flowing = out.bytes.is_empty() || self.socket.write(out.bytes);
            if out.close {
                // FIN once the reply is flushed; the socket closes when the
                // client closes its side.
                self.socket.end();
            }
            if !out.more {
                self.socket.resume();
                break;
            }
            if !flowing || self.socket.buffered() >= HIGH_WATER {
                // Requests wait for room: read no more until `drain`.
                self.socket.pause();
                break;
            }
            // The kernel took everything: there is room again.
        }
        self.arm_deadlines();
    }

    /// Starts the deadlines when a request begins, stops the head's once
    /// the head is in, and both once it is answered.
    fn arm_deadlines(self: &Rc<Self>) {
        let (stage, answered) = {
            let c = self.conn.borrow();
            (c.stage(), c.answered)
        };
        if stage == Stage::Idle {
            self.clear_deadlines();
            return;
        }
        if self.timed_request.get() != Some(answered) {
            self.clear_deadlines();
            self.timed_request.set(Some(answered));
            let me = Rc::downgrade(self);
            self.head_timer.set(Some(evloop::set_timeout(
                self.limits.headers_timeout_ms,
                move || {
                    if let Some(me) = me.upgrade() {
                        me.time_out();
                    }
                },
            )));
            let me = Rc::downgrade(self);
            self.request_timer.set(Some(evloop::set_timeout(
                self.limits.request_timeout_ms,
                move || {
                    if let Some(me) = me.upgrade() {
                        me.time_out();
                    }
                },
            )));
        }
        if stage == Stage::Body
            && let Some(t) = self.head_timer.take()
        {
            t.clear();
        }
    }

    fn clear_deadlines(&self) {
        let timers = [self.head_timer.take(), self.request_timer.take()];
        for t in timers.into_iter().flatten() {
            t.clear();
        }
        self.timed_request.set(None);
    }

    /// A deadline passed: `408`, then close at once (as Node does: the
    /// client may still be sending, and would keep an ended connection
    /// open).
    fn time_out(&self) {
        self.clear_deadlines();
        let mut conn = self.conn.borrow_mut();
        if conn.done {
            return;
        }
        let mut out = Output::default();
        conn.send(&mut out, Reply::error(408));
        conn.buf = Vec::new();
        conn.body = None;
        drop(conn);
        self.socket.write(out.bytes);
        self.socket.destroy();
    }
}

/// Sets up one accepted connection.
fn on_connection(socket: Socket, limits: Limits) {
    let c = Rc::new(Connection {
        socket: socket.clone(),
        conn: RefCell::new(Conn::default()),
        limits,
        head_timer: Cell::new(None),
        request_timer: Cell::new(None),
        timed_request: Cell::new(None),
    });
    // The handlers hold the connection, and it the socket: a cycle, broken
    // when the socket closes and drops its handlers.
    let me = c.clone();
    socket.on_data(move |chunk| me.pump(chunk));
    let me = c.clone();
    socket.on_drain(move || me.pump(&[]));
    let me = c.clone();
    socket.on_close(move |_| me.clear_deadlines());

    // Idle connections: after 5 s without traffic, end them (FIN; the
    // socket closes when the client closes its side); one whose client
    // still has not closed 5 s later is destroyed.
    socket.set_timeout(std::time::Duration::from_millis(limits.idle_ms));
    let ended = Cell::new(false);
    let me = c.clone();
    socket.on_timeout(move || {
        if ended.replace(true) {
            me.socket.destroy();
        } else {
            // Nothing more is answered (it would be a write after `end`).
            me.conn.borrow_mut().done = true;
            me.socket.end();
            me.socket
                .set_timeout(std::time::Duration::from_millis(limits.idle_ms));
        }
    });
    // Resets by clients are routine; `close` follows by itself.
    socket.on_error(|e| {
        // A client that drops its connection (as load generators do at the
        // end of a run) is not worth a line.
        let gone = matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        );
        if !gone {
            eprintln!("connection error: {e}");
        }
    });
}

/// A server with `limits`.
fn server(limits: Limits) -> net::Server {
    let server = net::create_server(move |socket| on_connection(socket, limits));
    server.set_max_connections(Some(limits.max_connections));
    server
}

/// The command line: `[ADDR] [--loops N] [--idle-timeout MS]
/// [--headers-timeout MS] [--request-timeout MS] [--max-connections N]`.
fn parse_args() -> (String, usize, Limits) {
    let mut args = std::env::args().skip(1).peekable();
    let addr = match args.peek() {
        Some(a) if !a.starts_with("--") => args.next().unwrap(),
        _ => "127.0.0.1:8080".to_string(),
    };
    let mut loops = 1;
    let mut limits = Limits {
        idle_ms: IDLE_MS,
        headers_timeout_ms: HEADERS_TIMEOUT_MS,
        request_timeout_ms: REQUEST_TIMEOUT_MS,
        max_connections: MAX_CONNECTIONS,
    };
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        let Some(value) = value.filter(|_| flag.starts_with("--")) else {
            eprintln!(
                "usage: http_hello [ADDR] [--loops N] [--idle-timeout MS] \
                 [--headers-timeout MS] [--request-timeout MS] [--max-connections N] \
                 ({flag:?}: expected a number after it)"
            );
            std::process::exit(2);
        };
        match flag.as_str() {
            "--loops" => loops = value as usize,
            "--idle-timeout" => limits.idle_ms = value,
            "--headers-timeout" => limits.headers_timeout_ms = value,
            "--request-timeout" => limits.request_timeout_ms = value,
            "--max-connections" => limits.max_connections = value as usize,
            _ => {
                eprintln!("http_hello: unknown option {flag}");
                std::process::exit(2);
            }
        }
    }
    (addr, loops, limits)
}

fn main() {
    support::init();
    let (addr, loops, limits) = parse_args();
    // `--loops N`: N threads, each with its own loop accepting on the same
    // port (SO_REUSEPORT), like Node's `cluster` module.
    if loops > 1 {
        let addr: std::net::SocketAddr = addr.parse().expect("an IP:port address");
        let cluster = net::cluster(loops, addr, move |listener| {
            server(limits).listen_on(listener).expect("listen");
        })
        .unwrap_or_else(|e| {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        });
        println!(
            "listening on http://{} ({loops} loops)",
            cluster.local_addr()
        );
        let _ = cluster.join();
        return;
    }
    evloop::run(move || match server(limits).listen(addr.as_str()) {
        Ok(bound) => println!("listening on http://{bound}"),
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    /// A client that pipelines a whole read's worth of requests (64 KiB,
    /// about 2,400 of them) gets at most 16 KiB of replies plus one per
    /// call: the rest waits, unparsed, until there is room; every request
    /// is answered in the end, in order.
    #[test]
    fn pipelined_requests_are_answered_only_as_far_as_the_room() {
        let chunk: Vec<u8> = GET.repeat(64 * 1024 / GET.len());
        let requests = chunk.len() / GET.len();
        let mut conn = Conn::default();
        let reply_len = {
            let mut one = Conn::default();
            one.feed(GET, usize::MAX).bytes.len()
        };
        let out = conn.feed(&chunk, HIGH_WATER);
        assert!(out.more, "requests wait");
        assert!(
            out.bytes.len() < HIGH_WATER + reply_len,
            "{} bytes of replies at once",
            out.bytes.len()
        );
        assert_eq!(conn.stage(), Stage::Head);
        let mut answered = out.bytes.len() / reply_len;
        while conn.stage() != Stage::Idle {
            let out = conn.feed(&[], HIGH_WATER);
            assert!(out.bytes.len() < HIGH_WATER + reply_len);
            answered += out.bytes.len() / reply_len;
        }
        assert_eq!(answered, requests);
        assert_eq!(conn.answered, requests as u64);
        assert!(!conn.feed(&[], HIGH_WATER).more);
    }

    /// No room: nothing is answered, nothing is lost.
    #[test]
    fn no_room_answers_nothing() {
        let mut conn = Conn::default();
        let out = conn.feed(GET, 0);
        assert!(out.bytes.is_empty() && out.more);
        let out = conn.feed(&[], HIGH_WATER);
        assert!(out.bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(!out.more);
    }

    /// The stages the deadlines follow.
    #[test]
    fn stages_follow_the_request() {
        let mut conn = Conn::default();
        assert_eq!(conn.stage(), Stage::Idle);
        conn.feed(b"POST / HTTP/1.1\r\nContent-", HIGH_WATER);
        assert_eq!(conn.stage(), Stage::Head);
        conn.feed(b"Length: 3\r\n\r\nab", HIGH_WATER);
        assert_eq!(conn.stage(), Stage::Body);
        let out = conn.feed(b"c", HIGH_WATER);
        assert!(out.bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert_eq!(conn.stage(), Stage::Idle);
        assert_eq!(conn.answered, 1);
    }
}
