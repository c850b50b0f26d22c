//! Embedding evloop in a host that owns its own poller.
//!
//! A GUI toolkit or another event loop already blocks in `poll(2)`/epoll. It
//! watches evloop's backend fd beside its own sources and sleeps at most
//! evloop's backend timeout, then lets evloop run one non-blocking
//! iteration, as Node embeds libuv (`uv_backend_fd`, `uv_backend_timeout`,
//! `UV_RUN_NOWAIT`).
//!
//! The host outlives evloop's work: it has events of its own (here a
//! "frame" every 40 ms, and input written by a thread into a socket it
//! watches), and once evloop has nothing left, `backend_timeout()` is
//! `None` (no deadline), so the host sleeps on its own sources alone instead
//! of spinning. Midway it hands evloop new work, which wakes it up again.
//!
//! `cargo run --example embed`

mod support;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use evloop::{EventLoop, RunMode, set_immediate, set_interval, set_timeout};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

const EVLOOP: Token = Token(0);
const INPUT: Token = Token(1);
const FRAME: Duration = Duration::from_millis(40);
const FRAMES: u32 = 6;

fn main() -> std::io::Result<()> {
    support::init();
    let lp = EventLoop::new()?;

    // The host's own poller, standing in for a GUI toolkit's main loop: it
    // watches evloop's backend fd and a socket of its own.
    let mut host = Poll::new()?;
    let fd = lp.backend_fd();
    host.registry()
        .register(&mut SourceFd(&fd), EVLOOP, Interest::READABLE)?;
    let (mut input, mut keyboard) = UnixStream::pair()?;
    input.set_nonblocking(true)?;
    let input_fd = input.as_raw_fd();
    host.registry()
        .register(&mut SourceFd(&input_fd), INPUT, Interest::READABLE)?;

    // Work on the embedded loop: timers, an immediate, and a worker thread
    // that posts back into the loop.
    let start = Instant::now();
    lp.enter(|| {
        set_timeout(20, move || {
            println!("{:>4} ms  evloop: timer (20 ms)", ms(start))
        });
        set_immediate(move || println!("{:>4} ms  evloop: immediate", ms(start)));
        let mut ticks = 0;
        let t = std::rc::Rc::new(std::cell::Cell::new(None));
        let t2 = t.clone();
        t.set(Some(set_interval(10, move || {
            ticks += 1;
            println!("{:>4} ms  evloop: interval tick {ticks}", ms(start));
            if ticks == 3 {
                evloop::clear_interval(t2.get().expect("set below"));
            }
        })));
        let handle = evloop::handle();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(15));
            handle
                .post(move || println!("{:>4} ms  evloop: posted from a thread", ms(start)))
                .expect("the loop is alive while this handle exists");
        });
    });
    // A thread types into the host's own input source, long after evloop's
    // first batch of work is over.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(90));
        let _ = keyboard.write_all(b"key");
    });

    // The host loop: block on our own poller until the next frame or
    // evloop's deadline, whichever is first; then give evloop a turn.
    let mut events = Events::with_capacity(8);
    let (mut turns, mut idle_turns, mut frames) = (0, 0, 0);
    let mut next_frame = start + FRAME;
    while frames < FRAMES {
        let until_frame = next_frame.saturating_duration_since(Instant::now());
        let timeout = match lp.backend_timeout() {
            Some(t) => t.min(until_frame),
            None => until_frame,
        };
        host.poll(&mut events, Some(timeout))?;
        for event in &events {
            if event.token() == INPUT {
                let mut buf = [0; 16];
                while let Ok(n @ 1..) = input.read(&mut buf) {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    println!("{:>4} ms  host: input {text:?}", ms(start));
                }
            }
        }
        if Instant::now() >= next_frame {
            frames += 1;
            next_frame += FRAME;
            println!("{:>4} ms  host: frame {frames}", ms(start));
            if frames == 4 {
                // New work for evloop: the host asks for its deadline again
                // on the next turn.
                lp.enter(|| {
                    set_timeout(30, move || {
                        println!("{:>4} ms  evloop: late timer", ms(start))
                    })
                });
            }
        }
        if !lp.is_alive() {
            idle_turns += 1;
        }
        lp.run(RunMode::NoWait);
        turns += 1;
    }
    // About one turn per frame, per input and per evloop deadline: without a
    // deadline from evloop the host only wakes for its own events.
    println!("host: {turns} turns in {FRAMES} frames, {idle_turns} of them with evloop idle");
    Ok(())
}

fn ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}
