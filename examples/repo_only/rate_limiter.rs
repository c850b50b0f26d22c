//! Article: "Advanced Concurrency Management Techniques", "Rate Limiting and
//! Throttling".
//!
//! ```javascript
//! class RateLimiter {
//!   constructor(maxRequests, timeWindow) {
//!     this.maxRequests = maxRequests; // Maximum requests in time window
//!     this.timeWindow = timeWindow;   // Time window in milliseconds
//!     this.queue = [];                // Queue of pending requests
//!     this.timestamps = [];           // Timestamps of completed requests
//!     this.processing = false;        // Flag to prevent multiple queue processing
//!   }
//!   async executeRequest(requestFn) {
//!     return new Promise((resolve, reject) => {
//!       this.queue.push({ requestFn, resolve, reject });
//!       this.processQueue();
//!     });
//!   }
//!   async processQueue() {
//!     if (this.processing) return;
//!     this.processing = true;
//!     while (this.queue.length > 0) {
//!       const now = Date.now();
//!       this.timestamps = this.timestamps.filter(time => time > now - this.timeWindow);
//!       if (this.timestamps.length < this.maxRequests) {
//!         const { requestFn, resolve, reject } = this.queue.shift();
//!         this.timestamps.push(now);
//!         try {
//!           const result = await requestFn();
//!           resolve(result);
//!         } catch (error) {
//!           reject(error);
//!         }
//!       } else {
//!         const oldestTimestamp = this.timestamps[0];
//!         const timeToWait = oldestTimestamp + this.timeWindow - now;
//!         await new Promise(resolve => setTimeout(resolve, timeToWait));
//!       }
//!     }
//!     this.processing = false;
//!   }
//! }
//!
//! const limiter = new RateLimiter(5, 1000); // 5 requests per second
//!
//! async function makeApiRequest(id) {
//!   return limiter.executeRequest(async () => {
//!     console.log(`Making API request for ID ${id} at ${new Date().toISOString()}`);
//!     const result = await fetch(`https://api.example.com/items/${id}`);
//!     return result.json();
//!   });
//! }
//!
//! for (let i = 1; i <= 20; i++) {
//!   makeApiRequest(i).then(data => {
//!     console.log(`Got data for ID ${i}`);
//!   }).catch(err => {
//!     console.error(`Error fetching ID ${i}:`, err);
//!   });
//! }
//! ```
//!
//! Never more than 5 requests start in any second: from the 6th on, each
//! request starts 1000 ms after the one five places before it (a sliding
//! window). The queue also runs the requests one at a time, because
//! `processQueue` awaits each request before it looks at the next. So where
//! a request need not wait, "Making ... ID n+1" is printed right after
//! request n finished, before "Got data for ID n" (a promise reaction that
//! runs a few microtasks later); where it must wait, "Got data" comes first.
//!
//! The API is a local HTTP server on 127.0.0.1 (`evloop::net::create_server`,
//! Node's `http.createServer` in callback style), and `fetch` is a minimal
//! HTTP GET on `evloop::net::TcpStream`. The server answers the first five
//! requests after 100 ms and the others at once, so which requests wait does
//! not depend on how fast the machine is; it is `unref`'d, so the program
//! ends when the requests are done. With `EVLOOP_VIRTUAL_TIME=1` the loop's
//! clock jumps straight to each timer, and the timestamps are exactly 100 ms
//! apart (0, 100, ..., 400, then 1000, 1100, ...; `--explain` shows the
//! milliseconds since the start, and the window at each step).
//!
//! The class is ported field for field, the window logic included:
//! `timestamps`, the `filter` that drops those older than the window, and
//! the wait until the oldest leaves it. `Date.now()` is `evloop::now()`, the
//! loop's clock in milliseconds (cached per loop iteration, as libuv's).
//! `new Promise` is `evloop::promise` (a `Resolver` and its `Deferred`),
//! calling an async function (`processQueue()`, `makeApiRequest(i)`) is
//! `spawn`, and the usage's `.then(..).catch(..)` chain is
//! `evloop::Thenable`'s, fired and forgotten (`.detach()`). evloop has this
//! limiter built in, too: `evloop::RateLimiter`.
//!
//! `cargo run --example rate_limiter -- --explain` adds narration (`» ...`).

#[path = "../support/mod.rs"]
mod support;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use evloop::net::{self, Socket, TcpStream};
use evloop::{Deferred, Resolver, Thenable};
use serde_json::Value;
use support::explain;

type RequestFn = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = io::Result<Value>>>>>;

struct QueuedRequest {
    request_fn: RequestFn,
    resolve: Resolver<io::Result<Value>>,
}

struct RateLimiter {
    max_requests: usize,                     // Maximum requests in time window
    time_window: u64,                        // Time window in milliseconds
    queue: RefCell<VecDeque<QueuedRequest>>, // Queue of pending requests
    timestamps: RefCell<Vec<u64>>,           // Timestamps of completed requests
    processing: Cell<bool>,                  // Flag to prevent multiple queue processing
}

impl RateLimiter {
    fn new(max_requests: usize, time_window: u64) -> Rc<RateLimiter> {
        Rc::new(RateLimiter {
            max_requests,
            time_window,
            queue: RefCell::new(VecDeque::new()),
            timestamps: RefCell::new(Vec::new()),
            processing: Cell::new(false),
        })
    }

    fn execute_request(self: &Rc<Self>, request_fn: RequestFn) -> Deferred<io::Result<Value>> {
        evloop::promise(|resolve| {
            // Add to queue
            self.queue.borrow_mut().push_back(QueuedRequest {
                request_fn,
                resolve,
            });
            evloop::spawn(self.clone().process_queue()).detach();
        })
    }

    async fn process_queue(self: Rc<Self>) {
        if self.processing.get() {
            return;
        }
        self.processing.set(true);

        while !self.queue.borrow().is_empty() {
            // Check if we can make a request
            let now = evloop::now();
            // Remove timestamps outside the time window
            self.timestamps
                .borrow_mut()
                .retain(|&time| time + self.time_window > now);

            if self.timestamps.borrow().len() < self.max_requests {
                // We can make a request
                let QueuedRequest {
                    request_fn,
                    resolve,
                } = self
                    .queue
                    .borrow_mut()
                    .pop_front()
                    .expect("the queue is not empty");
                self.timestamps.borrow_mut().push(now);
                explain!(
                    "at {now} ms: room in the window; with this request it holds {} of {}",
                    self.timestamps.borrow().len(),
                    self.max_requests
                );

                // try { resolve(await requestFn()) } catch (error) { reject(error) }
                resolve.resolve(request_fn().await);
            } else {
                // Need to wait before making another request
                let oldest_timestamp = self.timestamps.borrow()[0];
                let time_to_wait = oldest_timestamp + self.time_window - now;
                explain!(
                    "at {now} ms: the window is full; waiting {time_to_wait} ms on a timer, \
                     until the request of {oldest_timestamp} ms leaves it"
                );
                evloop::promise(|resolve| {
                    evloop::set_timeout(time_to_wait, move || resolve.resolve(()));
                })
                .await
                .expect("the timer resolves it");
            }
        }

        self.processing.set(false);
    }
}

async fn make_api_request(limiter: Rc<RateLimiter>, api: Rc<str>, id: u32) -> io::Result<Value> {
    let request_fn: RequestFn = Box::new(move || {
        Box::pin(async move {
            println!("Making API request for ID {id} at {}", iso_time());
            // Simulate API call
            let result = fetch(&format!("{api}/items/{id}")).await?;
            result.json()
        })
    });
    limiter
        .execute_request(request_fn)
        .await
        .unwrap_or_else(|broken| Err(io::Error::other(broken)))
}

fn main() {
    support::init();
    evloop::run(|| {
        // The API (not in the article), in place of https://api.example.com.
        let server = api_server();
        let addr = server.listen("127.0.0.1:0").expect("listen on 127.0.0.1");
        server.unref();
        let api: Rc<str> = format!("http://{addr}").into();

        // Usage example
        let limiter = RateLimiter::new(5, 1000); // 5 requests per second

        // Make multiple requests
        for i in 1..=20 {
            evloop::spawn(make_api_request(limiter.clone(), api.clone(), i))
                .then(move |_data| {
                    println!("Got data for ID {i}");
                })
                .catch(move |err| {
                    eprintln!("Error fetching ID {i}: {err}");
                })
                .detach();
        }
    });
}

/// The API (not in the article): `GET /items/ID` answers
/// `{"id":ID,"name":"Item ID"}`, after 100 ms for the first five IDs, and
/// closes the connection.
fn api_server() -> net::Server {
    net::create_server(|socket: Socket| {
        let mut request = Vec::new();
        let reply_to = socket.clone();
        socket.on_data(move |chunk| {
            request.extend_from_slice(chunk);
            let text = String::from_utf8_lossy(&request);
            if !text.contains("\r\n\r\n") {
                return; // the request's head is not complete yet
            }
            // "GET /items/7 HTTP/1.1" -> 7
            let path = text.split(' ').nth(1).unwrap_or("");
            let id: u32 = path.rsplit('/').next().unwrap_or("").parse().unwrap_or(0);
            let body = format!(r#"{{"id":{id},"name":"Item {id}"}}"#);
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let socket = reply_to.clone();
            let delay = if id <= 5 { 100 } else { 0 };
            evloop::set_timeout(delay, move || socket.end_with(response));
        });
    })
}

/// What `fetch` resolves with: the body, for `.json()`.
struct Response {
    body: String,
}

impl Response {
    fn json(&self) -> io::Result<Value> {
        serde_json::from_str(&self.body).map_err(io::Error::other)
    }
}

/// A minimal `fetch` (not in the article): one HTTP/1.1 GET over a fresh
/// connection, read until the server closes it.
async fn fetch(url: &str) -> io::Result<Response> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| io::Error::other("not http"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let stream = TcpStream::connect(host).await?;
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw);
    let (_head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other("no HTTP response"))?;
    Ok(Response {
        body: body.to_string(),
    })
}

/// `new Date().toISOString()` on the loop's clock: the wall-clock time the
/// loop started, plus `evloop::now()` (so under virtual time it moves with
/// the virtual clock).
fn iso_time() -> String {
    thread_local! {
        static START_MS: u64 = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            - evloop::now();
    }
    let ms = START_MS.with(|start| start + evloop::now());
    let (secs, millis) = ((ms / 1000) as i64, ms % 1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
