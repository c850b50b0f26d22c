//! A small HTTP/1.1 "hello world" server on evloop's callback API, parsing
//! with `httparse`: `cargo run --example http_hello [ADDR]` (default
//! `127.0.0.1:8080`; port 0 picks a free port, and the first line printed,
//! `listening on http://ADDR`, tells which), then `curl -v http://ADDR/`.
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

mod support;

use std::cell::{Cell, RefCell};

use evloop::net::{self, Socket};

/// Largest request head (request line and headers) accepted.
const MAX_HEAD: usize = 8 * 1024;
/// Largest request body accepted.
const MAX_BODY: u64 = 1024 * 1024;
/// A connection with no traffic for this long is ended.
const IDLE_MS: u64 = 5_000;
/// Most headers one request may have (more is answered with 431).
const MAX_HEADERS: usize = 64;

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
}

/// What [`Conn::feed`] wants done: send `bytes`, then end the connection if
/// `close`.
#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    close: bool,
}

impl Conn {
    /// Takes the bytes that just arrived and answers every request they
    /// complete, in order (pipelined requests included).
    fn feed(&mut self, data: &[u8]) -> Output {
        let mut out = Output::default();
        if self.done {
            return out;
        }
        self.buf.extend_from_slice(data);
        let mut pos = 0; // parsed up to here
        while !self.done {
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

    fn send(&mut self, out: &mut Output, reply: Reply) {
        reply.write_to(&mut out.bytes);
        if !reply.keep_alive {
            self.done = true;
            out.close = true;
        }
    }
}

/// Sets up one accepted connection.
fn on_connection(socket: Socket) {
    let conn = RefCell::new(Conn::default());
    let s = socket.clone();
    socket.on_data(move |chunk| {
        let out = conn.borrow_mut().feed(chunk);
        // `write` says `false` when 16 KiB are waiting for the kernel: stop
        // reading (and so parsing more pipelined requests) until `drain`.
        if !out.bytes.is_empty() && !s.write(out.bytes) {
            s.pause();
        }
        if out.close {
            // FIN once the reply is flushed; the socket closes when the
            // client closes its side.
            s.end();
        }
    });
    let s = socket.clone();
    socket.on_drain(move |()| s.resume());

    // Idle connections: after 5 s without traffic, end them (FIN; the
    // socket closes when the client closes its side); one whose client
    // still has not closed 5 s later is destroyed.
    socket.set_timeout(IDLE_MS);
    let ended = Cell::new(false);
    let s = socket.clone();
    socket.on_timeout(move |()| {
        if ended.replace(true) {
            s.destroy();
        } else {
            s.end();
            s.set_timeout(IDLE_MS);
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

fn main() {
    support::init();
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_string());
    // `--loops N`: N threads, each with its own loop accepting on the same
    // port (SO_REUSEPORT), like Node's `cluster` module.
    let loops = match (args.next().as_deref(), args.next()) {
        (Some("--loops"), Some(n)) => n.parse().unwrap_or(1),
        _ => 1,
    };
    if loops > 1 {
        let addr: std::net::SocketAddr = addr.parse().expect("an IP:port address");
        let cluster = net::cluster(loops, addr, |listener| {
            let server = net::create_server(on_connection);
            server.listen_on(listener).expect("listen");
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
    evloop::run(move || {
        let server = net::create_server(on_connection);
        match server.listen(addr.as_str()) {
            Ok(bound) => println!("listening on http://{bound}"),
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        }
    });
}
