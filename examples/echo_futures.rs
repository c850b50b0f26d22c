//! A TCP echo server on evloop's future API (`async`/`await`):
//! `cargo run --example echo_futures [ADDR]` (default `127.0.0.1:7000`),
//! then try it with `nc 127.0.0.1 7000`.
//!
//! The Node.js program it mirrors:
//! ```js
//! const server = net.createServer().listen(7000, '127.0.0.1');
//! for await (const [socket] of on(server, 'connection')) echo(socket);
//! ```

mod support;

use std::io;

use evloop::net::{TcpListener, TcpStream};

/// Copies everything the client sends back to it, until it ends.
async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // Waits (without blocking the loop) until some bytes arrive;
        // 0 means the client closed its side.
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            // Returning drops `stream`, which closes the connection.
            return Ok(());
        }
        // `write_all` waits whenever the kernel's send buffer is full, so
        // this task never buffers more than one read's worth: backpressure
        // comes for free with `await`.
        stream.write_all(&buf[..n]).await?;
    }
}

fn main() -> io::Result<()> {
    support::init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_string());
    // `run_async` runs this future as the "main script" and the loop until
    // nothing is left to do (a listener that exists keeps it going).
    evloop::run_async(async move {
        let listener = TcpListener::bind(addr.as_str())?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (stream, peer) = listener.accept().await?;
            // One task per connection: they all run concurrently on this
            // single thread, interleaving at each `await`.
            evloop::spawn(async move {
                if let Err(e) = echo(stream).await {
                    eprintln!("{peer}: {e}");
                }
            })
            .detach();
        }
    })
}
