//! A TCP echo server on evloop's callback API (after Node's `net` module):
//! `cargo run --example echo_callbacks [ADDR]` (default `127.0.0.1:7000`),
//! then try it with `nc 127.0.0.1 7000`.
//!
//! The Node.js program it mirrors:
//! ```js
//! net.createServer((socket) => socket.pipe(socket)).listen(7000, '127.0.0.1');
//! ```

mod support;

use evloop::net;

fn main() {
    support::init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_string());
    // `run` executes this closure as the "main script", then keeps the loop
    // going for as long as something (here: the listening server) keeps it
    // alive.
    evloop::run(move || {
        // Called once per accepted connection, in the loop's poll phase.
        let server = net::create_server(|socket| {
            // Every chunk that arrives is written straight back. `write`
            // queues the bytes and returns `false` once 16 KiB are waiting
            // for the kernel: then stop reading until the queue drains, so a
            // client that sends faster than it reads cannot make us buffer
            // without bound (backpressure, like `pipe` does in Node).
            let s = socket.clone();
            socket.on_data(move |chunk| {
                if !s.write(chunk) {
                    s.pause();
                }
            });
            let s = socket.clone();
            socket.on_drain(move || s.resume());
            // A client that resets the connection is routine for a server:
            // report it; `close` follows on its own.
            socket.on_error(|e| eprintln!("connection error: {e}"));
            // When the client ends its side, the socket ends ours once the
            // echo is flushed (Node's default `allowHalfOpen: false`).
        });
        match server.listen(addr.as_str()) {
            Ok(bound) => println!("listening on {bound}"),
            Err(e) => {
                eprintln!("cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        }
    });
}
