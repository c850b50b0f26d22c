//! A TCP echo server on evloop's future API (`async`/`await`):
//! `cargo run --example echo_futures [ADDR]` (default `127.0.0.1:7000`),
//! then try it with `nc 127.0.0.1 7000`.
//!
//! The Node.js program it mirrors:
//! ```js
//! const server = net.createServer().listen(7000, '127.0.0.1');
//! for await (const [socket] of on(server, 'connection')) echo(socket);
//! ```
//!
//! Memory: each connection's task owns its buffer and frees it when the
//! connection ends. The buffer starts at 4 KiB and doubles (up to 64 KiB)
//! only while reads fill it, so 2,000 quiet connections hold about 8 MB,
//! not 2,000 × 64 KiB (RSS 12 MB, was 102 MB). (What is freed goes back to the allocator, which may
//! keep it for the next connections rather than return it to the OS.)
//!
//! Out of file descriptors (`EMFILE`): `accept` fails at once, every time,
//! while none is free; the accept loop logs it once, waits 100 ms between
//! tries, and serves again when descriptors come back (connections waiting
//! meanwhile stay queued in the kernel's backlog).

mod support;

use std::io;

use evloop::net::{TcpListener, TcpStream};

/// A connection's first buffer.
const FIRST_BUF: usize = 4 * 1024;
/// The most a connection's buffer grows to (one read's worth).
const MAX_BUF: usize = 64 * 1024;
/// How long the accept loop waits when the process is out of descriptors.
const OUT_OF_FDS_WAIT_MS: u64 = 100;

/// Copies everything the client sends back to it, until it ends.
async fn echo(stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; FIRST_BUF];
    loop {
        // Waits (without blocking the loop) until some bytes arrive;
        // 0 means the client closed its side.
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            // Returning drops `stream`, which closes the connection, and
            // `buf`.
            return Ok(());
        }
        // `write_all` waits whenever the kernel's send buffer is full, so
        // this task never buffers more than one read's worth: backpressure
        // comes for free with `await`.
        stream.write_all(&buf[..n]).await?;
        grow(&mut buf, n);
    }
}

/// A read that filled the buffer suggests more is coming: double it, up
/// to [`MAX_BUF`].
fn grow(buf: &mut Vec<u8>, read: usize) {
    if read == buf.len() && buf.len() < MAX_BUF {
        buf.resize((buf.len() * 2).min(MAX_BUF), 0);
    }
}

/// Whether `accept` failed because the process (or system) has no file
/// descriptor left.
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Accepts connections for ever, one echo task each.
async fn serve(listener: TcpListener) -> io::Result<()> {
    // Logged once per spell without descriptors, not once per try.
    let mut out_of_fds = false;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if out_of_descriptors(&e) => {
                if !out_of_fds {
                    eprintln!(
                        "accept: {e}; retrying every {OUT_OF_FDS_WAIT_MS} ms until \
                         connections close"
                    );
                    out_of_fds = true;
                }
                evloop::sleep(OUT_OF_FDS_WAIT_MS).await;
                continue;
            }
            // A connection reset or aborted while it waited in the
            // backlog: that client is gone, the others are not.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        if out_of_fds {
            eprintln!("accept: descriptors are free again, serving on");
            out_of_fds = false;
        }
        // One task per connection: they all run concurrently on this
        // single thread, interleaving at each `await`.
        evloop::spawn(async move {
            if let Err(e) = echo(stream).await {
                eprintln!("{peer}: {e}");
            }
        })
        .detach();
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
        serve(listener).await
    })
}

/// The test suite's watchdog (a hang fails with the test's name).
#[cfg(test)]
#[path = "../src/test_watchdog.rs"]
#[allow(dead_code)]
mod test_watchdog;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_watchdog::watchdog;

    use std::io::{Read, Write};

    /// 200 connections that each echo a byte and stay open: one task each;
    /// once they close, every task has ended (dropping its buffer), leaving
    /// only the accept loop. (How big a buffer is: the test below.)
    #[test]
    fn connections_hold_small_buffers_and_free_them_when_they_close() {
        let _w = watchdog();
        let lp = evloop::EventLoop::new().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        lp.enter(move || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            evloop::spawn(async move { serve(listener).await.unwrap() }).detach();
        });
        let addr = rx.recv().unwrap();
        assert_eq!(lp.live_tasks(), 1, "the accept loop");
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        let (close_tx, close_rx) = std::sync::mpsc::channel::<()>();
        let handle = lp.handle();
        let clients = std::thread::spawn(move || {
            let mut conns = Vec::new();
            for _ in 0..200 {
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.write_all(b"x").unwrap();
                let mut b = [0u8; 1];
                c.read_exact(&mut b).unwrap();
                assert_eq!(&b, b"x");
                conns.push(c);
            }
            handle.post(move || opened_tx.send(()).unwrap()).unwrap();
            close_rx.recv().unwrap();
            drop(conns);
        });
        while opened_rx.try_recv().is_err() {
            lp.run(evloop::RunMode::Once);
        }
        assert_eq!(lp.live_tasks(), 201, "one task per open connection");
        close_tx.send(()).unwrap();
        // Each close wakes the loop (a read of 0): run until every
        // connection's task has ended.
        while lp.live_tasks() > 1 {
            lp.run(evloop::RunMode::Once);
        }
        clients.join().unwrap();
    }

    #[test]
    fn the_buffer_grows_only_while_reads_fill_it() {
        let mut buf = vec![0u8; FIRST_BUF];
        grow(&mut buf, 10);
        assert_eq!(buf.len(), FIRST_BUF);
        let mut sizes = Vec::new();
        for _ in 0..6 {
            let full = buf.len();
            grow(&mut buf, full);
            sizes.push(buf.len() / 1024);
        }
        assert_eq!(sizes, [8, 16, 32, 64, 64, 64]);
    }
}
