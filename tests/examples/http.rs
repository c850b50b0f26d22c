//! The `http_hello` example, run as a child process (built once with
//! `cargo build --example http_hello`, then started as `http_hello
//! 127.0.0.1:0`, its port read from the first line it prints) and requested
//! with `curl` when it is installed, and with raw `TcpStream`s for what curl
//! cannot send (malformed requests, oversized heads and bodies, pipelining,
//! idling).

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one read or one curl request may take before the test gives
/// up: a backstop that turns a hang into a failure, not a measure of speed
/// (the watchdog's limit, scaled the same way).
fn backstop() -> Duration {
    Duration::from_secs(60) * common::slowdown()
}

/// An example's executable, built once for all the tests of this binary.
/// (Each test running `cargo run` would take the shared target directory's
/// lock again, and wait there as long as another build holds it.)
pub(crate) fn example_exe(name: &str) -> PathBuf {
    static EXES: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let mut exes = EXES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, exe)) = exes.iter().find(|(n, _)| n == name) {
        return exe.clone();
    }
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "-q",
        "--example",
        name,
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    let out = cmd
        .current_dir(crate::common::root())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo build --example {name} failed");
    let exe = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["name"] == name
                && m["target"]["kind"][0] == "example"
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the example's executable");
    exes.push((name.to_string(), exe.clone()));
    exe
}

/// The example server, killed when dropped.
struct Hello {
    child: Child,
    addr: SocketAddr,
}

impl Hello {
    fn start() -> Hello {
        Hello::start_with(&[])
    }

    /// With options after the address (`--headers-timeout 1000`...).
    fn start_with(options: &[&str]) -> Hello {
        let mut child = Command::new(example_exe("http_hello"))
            .arg("127.0.0.1:0")
            .args(options)
            .current_dir(crate::common::root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cargo runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("unexpected first line from http_hello: {line:?}")
            })
            .parse()
            .expect("an address");
        Hello { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(backstop())).unwrap();
        s
    }
}

impl Drop for Hello {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `curl` can be run; says so when it cannot.
fn have_curl(test: &str) -> bool {
    let ok = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("{test}: curl is not installed, skipped the curl part (raw requests only)");
    }
    ok
}

fn curl(args: &[&str]) -> Output {
    let out = Command::new("curl")
        .args(["--max-time", &backstop().as_secs().to_string()])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {args:?} failed: {out:?}");
    out
}

/// A parsed response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn body(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Reads one response (head, then a `Content-Length` body) from `r`; `None`
/// at a clean end of stream.
fn read_response(r: &mut BufReader<TcpStream>) -> Option<Response> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).unwrap() == 0 {
            assert!(head.is_empty(), "connection ended inside a response head");
            return None;
        }
        head.extend_from_slice(&line);
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    assert!(resp.parse(&head).unwrap().is_complete());
    let headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut response = Response {
        status: resp.code.unwrap(),
        headers,
        body: Vec::new(),
    };
    let len: usize = response
        .header("content-length")
        .expect("every response has Content-Length")
        .parse()
        .unwrap();
    response.body = vec![0; len];
    r.read_exact(&mut response.body).unwrap();
    Some(response)
}

/// Sends `request` on a new connection and reads the responses until the
/// server closes it.
fn exchange(hello: &Hello, request: &[u8]) -> Vec<Response> {
    let mut s = hello.connect();
    s.write_all(request).unwrap();
    let mut r = BufReader::new(s);
    let mut out = Vec::new();
    while let Some(resp) = read_response(&mut r) {
        out.push(resp);
    }
    out
}

fn assert_hello(resp: &Response, keep_alive: bool) {
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.header("content-length"), Some("14"));
    assert_eq!(
        resp.header("connection"),
        Some(if keep_alive { "keep-alive" } else { "close" })
    );
    assert_eq!(resp.body(), "Hello, world!\n");
}

#[test]
fn get_returns_hello_world() {
    let _w = common::watchdog();
    let hello = Hello::start();
    if have_curl("get_returns_hello_world") {
        let out = curl(&["-s", "-i", &hello.url("/")]);
        let text = String::from_utf8(out.stdout).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
        let headers: Vec<&str> = lines.collect();
        assert!(headers.contains(&"Content-Type: text/plain; charset=utf-8"));
        assert!(headers.contains(&"Content-Length: 14"));
        assert!(headers.contains(&"Connection: keep-alive"));
        assert_eq!(body, "Hello, world!\n");
        // HEAD: the same headers, no body.
        let out = curl(&["-s", "-I", &hello.url("/")]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Length: 14\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n"), "{text}");
    }
    let resps = exchange(
        &hello,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(resps.len(), 1);
    assert_hello(&resps[0], false);
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let _w = common::watchdog();
    let hello = Hello::start();
    if have_curl("keep_alive_serves_two_requests_on_one_connection") {
        let out = curl(&["-sv", &hello.url("/a"), &hello.url("/b")]);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "Hello, world!\nHello, world!\n"
        );
        let log = String::from_utf8(out.stderr).unwrap();
        // curl 7: "Re-using existing connection"; curl 8: "Reusing existing".
        assert!(
            log.contains("e-using existing connection") || log.contains("Reusing existing"),
            "curl opened a second connection:\n{log}"
        );
        assert_eq!(log.matches("Connected to").count(), 1, "{log}");
    }
    // Raw: one request, its response, then another on the same connection.
    let mut s = hello.connect();
    let mut r = BufReader::new(s.try_clone().unwrap());
    s.write_all(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_hello(&read_response(&mut r).unwrap(), true);
    s.write_all(b"GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_hello(&read_response(&mut r).unwrap(), false);
    assert!(
        read_response(&mut r).is_none(),
        "closed after Connection: close"
    );
}

#[test]
fn http_1_0_closes_unless_keep_alive_is_asked() {
    let _w = common::watchdog();
    let hello = Hello::start();
    let resps = exchange(&hello, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(resps.len(), 1);
    assert_hello(&resps[0], false);
    let mut s = hello.connect();
    let mut r = BufReader::new(s.try_clone().unwrap());
    s.write_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    assert_hello(&read_response(&mut r).unwrap(), true);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let _w = common::watchdog();
    let hello = Hello::start();
    let resps = exchange(
        &hello,
        b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\
          GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n\
          GET /never HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(resps.len(), 3, "{resps:?}");
    assert_hello(&resps[0], true);
    assert_eq!(resps[1].status, 200);
    assert_eq!(resps[1].body(), "Hello, world! (received 5 bytes)\n");
    assert_hello(&resps[2], false);
}

#[test]
fn content_length_body_is_read_even_in_pieces() {
    let _w = common::watchdog();
    let hello = Hello::start();
    if have_curl("content_length_body_is_read_even_in_pieces") {
        let body = "x".repeat(100_000);
        let out = curl(&["-s", "--data-binary", &body, &hello.url("/upload")]);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "Hello, world! (received 100000 bytes)\n"
        );
    }
    // Raw: the head and a 1 MiB body (the limit) in small pieces with
    // pauses, then another request on the same connection.
    let mut s = hello.connect();
    s.set_nodelay(true).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let head = b"PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n";
    for piece in head.chunks(7) {
        s.write_all(piece).unwrap();
    }
    let body = vec![b'y'; 1 << 20];
    for (i, piece) in body.chunks(100_000).enumerate() {
        s.write_all(piece).unwrap();
        if i % 3 == 0 {
            // sleep: only spreads the body over more reads on the server's
            // side (what this test exercises); the reply checked below is
            // the same however the pieces arrive.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let resp = read_response(&mut r).unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body(), "Hello, world! (received 1048576 bytes)\n");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_hello(&read_response(&mut r).unwrap(), true);
}

#[test]
fn malformed_request_gets_400_then_the_server_serves_on() {
    let _w = common::watchdog();
    let hello = Hello::start();
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
    ] {
        let resps = exchange(&hello, bad);
        assert_eq!(resps.len(), 1, "{}", String::from_utf8_lossy(bad));
        assert_eq!(resps[0].status, 400);
        assert_eq!(resps[0].header("connection"), Some("close"));
        assert_eq!(resps[0].body(), "400 Bad Request\n");
    }
    // The next connection is served as usual.
    if have_curl("malformed_request_gets_400_then_the_server_serves_on") {
        let out = curl(&["-s", &hello.url("/")]);
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "Hello, world!\n");
    } else {
        let resps = exchange(
            &hello,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_hello(&resps[0], false);
    }
}

#[test]
fn request_head_over_8_kib_gets_431() {
    let _w = common::watchdog();
    let hello = Hello::start();
    // A complete head that is too large.
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    req.extend(std::iter::repeat_n(b'a', 9000));
    req.extend_from_slice(b"\r\n\r\n");
    let resps = exchange(&hello, &req);
    assert_eq!(resps.len(), 1);
    assert_eq!(resps[0].status, 431);
    assert_eq!(resps[0].header("connection"), Some("close"));
    // A head that never ends: refused once 8 KiB are in.
    let mut s = hello.connect();
    s.write_all(b"GET / HTTP/1.1\r\nX-Big: ").unwrap();
    s.write_all(&[b'a'; 9000]).unwrap();
    let mut r = BufReader::new(s);
    assert_eq!(read_response(&mut r).unwrap().status, 431);
    assert!(read_response(&mut r).is_none());
    // Too many headers.
    let mut req = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..100 {
        req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    assert_eq!(exchange(&hello, &req)[0].status, 431);
}

#[test]
fn body_over_1_mib_gets_413() {
    let _w = common::watchdog();
    let hello = Hello::start();
    let resps = exchange(
        &hello,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n",
    );
    assert_eq!(resps.len(), 1);
    assert_eq!(resps[0].status, 413);
    assert_eq!(resps[0].header("connection"), Some("close"));
    assert_eq!(resps[0].body(), "413 Payload Too Large\n");
    // A chunked body is not supported here: 501.
    let resps = exchange(
        &hello,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(resps[0].status, 501);
}

#[test]
fn idle_connection_is_closed_after_5_s() {
    let _w = common::watchdog();
    let hello = Hello::start();
    let mut s = hello.connect();
    let start = Instant::now();
    let mut r = BufReader::new(s.try_clone().unwrap());
    // One request, then silence.
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_hello(&read_response(&mut r).unwrap(), true);
    assert!(read_response(&mut r).is_none(), "the server ended it");
    let idle = start.elapsed();
    // A lower bound only (a busy machine makes it later). The server's
    // clock counts whole milliseconds, as libuv's: its countdown starts from
    // the millisecond its last activity (after `start`) fell in, up to 1 ms
    // before that activity, so the end comes more than 4,999 ms after
    // `start`.
    assert!(idle > Duration::from_millis(4_999), "closed after {idle:?}");
}

/// Whether the server closed the connection: the end of the stream, or a
/// reset (it closed with the client's bytes unread, as Node does after a
/// `408`).
fn closed(r: &mut BufReader<TcpStream>) -> bool {
    matches!(r.fill_buf().map(|b| b.is_empty()), Ok(true) | Err(_))
}

/// Slowloris: a client that sends its request head a line at a time, never
/// finishing it, is answered `408` and cut off once the head deadline
/// (Node's `headersTimeout`, here 1 s) has passed since its first byte,
/// however steadily the lines come (each one restarts the idle timeout,
/// so that alone never ends it); meanwhile other clients are served.
#[test]
fn a_request_head_that_trickles_in_is_cut_off_after_headers_timeout() {
    let _w = common::watchdog();
    let hello = Hello::start_with(&["--headers-timeout", "1000"]);
    let slow = hello.connect();
    let start = Instant::now();
    let mut writer = slow.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        writer.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        // Until the server closes it (a write fails), or for the watchdog.
        for i in 0.. {
            // sleep: paces the attack (a line every 100 ms); the deadline
            // checked is the server's, from its first byte, not this pace.
            std::thread::sleep(Duration::from_millis(100));
            if writer
                .write_all(format!("X-{i}: v\r\n").as_bytes())
                .is_err()
            {
                break;
            }
        }
    });
    // Served during the attack.
    let resps = exchange(
        &hello,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_hello(&resps[0], false);
    let mut r = BufReader::new(slow);
    let resp = read_response(&mut r).expect("a 408");
    let cut = start.elapsed();
    assert_eq!(resp.status, 408);
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(closed(&mut r), "closed after the 408");
    // A lower bound only; the server's clock counts whole milliseconds.
    assert!(cut > Duration::from_millis(999), "cut off after {cut:?}");
    drop(r);
    trickle.join().unwrap();
}

/// Node's `requestTimeout` (here 1 s): a complete head whose body trickles
/// in a byte at a time is answered `408` once the whole request has taken
/// longer than that since its first byte.
#[test]
fn a_body_that_trickles_in_is_cut_off_after_request_timeout() {
    let _w = common::watchdog();
    let hello = Hello::start_with(&["--request-timeout", "1000"]);
    let mut slow = hello.connect();
    let start = Instant::now();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        .unwrap();
    let mut writer = slow.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..1000 {
            // sleep: paces the body (a byte every 100 ms); the deadline
            // checked is the server's.
            std::thread::sleep(Duration::from_millis(100));
            if writer.write_all(b"y").is_err() {
                break;
            }
        }
    });
    let mut r = BufReader::new(slow);
    let resp = read_response(&mut r).expect("a 408");
    let cut = start.elapsed();
    assert_eq!(resp.status, 408);
    assert!(closed(&mut r), "closed after the 408");
    assert!(cut > Duration::from_millis(999), "cut off after {cut:?}");
    drop(r);
    trickle.join().unwrap();
}

/// A client that pipelines requests and never reads the replies: the
/// server stops reading from it (its writes block once the kernel's
/// buffers are full, long before 64 MB), serves other clients meanwhile,
/// and when the client finally reads, every request has its reply, in
/// order. (That replies wait at most 16 KiB per connection is checked by
/// the example's unit tests: `cargo test --example http_hello`.)
#[test]
fn a_client_that_never_reads_is_paused_and_others_are_served() {
    let _w = common::watchdog();
    let hello = Hello::start_with(&["--idle-timeout", "600000"]);
    let mut greedy = hello.connect();
    greedy.set_nonblocking(true).unwrap();
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let burst = request.repeat(1000);
    let mut sent = 0usize; // bytes
    let mut stalled_since: Option<Instant> = None;
    loop {
        assert!(sent < 64 << 20, "the server kept reading");
        let from = sent % burst.len();
        match greedy.write(&burst[from..]) {
            Ok(n) => {
                sent += n;
                stalled_since = None;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Blocked for a while (not one passing full buffer): the
                // server has stopped reading.
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(200) {
                    break;
                }
                // sleep: polls a condition (still blocked?); only a lower
                // bound on how long it must hold.
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("write: {e}"),
        }
    }
    // Whole requests only: finish the one cut in the middle.
    greedy.set_nonblocking(false).unwrap();
    let partial = sent % request.len();
    // The server resumes once the client reads: read on a thread while
    // the rest of the last request goes out.
    let reader = greedy.try_clone().unwrap();
    let requests = sent.div_ceil(request.len());
    // Served meanwhile.
    let resps = exchange(
        &hello,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_hello(&resps[0], false);
    let reading = std::thread::spawn(move || {
        let mut r = BufReader::new(reader);
        for i in 0..requests {
            let resp = read_response(&mut r).expect("a reply per request");
            assert_eq!(resp.status, 200, "reply {i}");
            assert_eq!(resp.body(), "Hello, world!\n", "reply {i}");
        }
    });
    if partial > 0 {
        greedy.write_all(&request[partial..]).unwrap();
    }
    reading.join().unwrap();
    println!("{requests} pipelined requests answered after the client read");
}

/// Node's `server.maxConnections` (here 2): a third connection is closed
/// at once, unanswered; once one of the two closes, a new one is served.
#[test]
fn connections_past_the_cap_are_closed_at_once() {
    let _w = common::watchdog();
    let hello = Hello::start_with(&["--max-connections", "2"]);
    let ask = |s: &mut TcpStream| -> Option<Response> {
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
        let mut r = BufReader::new(s.try_clone().unwrap());
        // EOF (or a reset) instead of a reply: closed by the cap.
        match r.fill_buf() {
            Ok([]) | Err(_) => return None,
            Ok(_) => {}
        }
        read_response(&mut r)
    };
    let mut a = hello.connect();
    let mut b = hello.connect();
    assert_hello(&ask(&mut a).expect("first served"), true);
    assert_hello(&ask(&mut b).expect("second served"), true);
    let mut c = hello.connect();
    assert!(ask(&mut c).is_none(), "third closed");
    drop(a);
    // The server must see `a` close before it has room: try until then.
    loop {
        let mut d = hello.connect();
        if let Some(resp) = ask(&mut d) {
            assert_hello(&resp, true);
            break;
        }
        // sleep: polls a condition (the server saw `a` close); the test
        // asserts only that a connection is served eventually.
        std::thread::sleep(Duration::from_millis(10));
    }
}
