//! Embedding evloop in a host that owns its own poller.
//!
//! A GUI toolkit or another event loop already blocks in `poll(2)`/epoll. It
//! watches evloop's backend fd and sleeps at most evloop's backend timeout,
//! then lets evloop run one non-blocking iteration, exactly as Node embeds
//! libuv (`uv_backend_fd`, `uv_backend_timeout`, `UV_RUN_NOWAIT`).
//!
//! `cargo run --example embed`

mod support;

use std::time::{Duration, Instant};

use evloop::{EventLoop, RunMode, set_immediate, set_interval, set_timeout};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

fn main() -> std::io::Result<()> {
    support::init();
    let lp = EventLoop::new()?;

    // The host's own poller, standing in for a GUI toolkit's main loop.
    let mut host = Poll::new()?;
    let fd = lp.backend_fd();
    host.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)?;

    // Schedule work on the embedded loop: timers, an immediate, and a
    // worker thread that posts back into the loop.
    let start = Instant::now();
    lp.enter(|| {
        set_timeout(20, move || println!("{:>4} ms  timer (20 ms)", ms(start)));
        set_immediate(move || println!("{:>4} ms  immediate", ms(start)));
        let mut ticks = 0;
        let t = std::rc::Rc::new(std::cell::Cell::new(None));
        let t2 = t.clone();
        t.set(Some(set_interval(10, move || {
            ticks += 1;
            println!("{:>4} ms  interval tick {ticks}", ms(start));
            if ticks == 3 {
                evloop::clear_interval(t2.get().expect("set below"));
            }
        })));
        let handle = evloop::handle();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(15));
            handle
                .post(move || println!("{:>4} ms  posted from a thread", ms(start)))
                .expect("the loop is alive while this handle exists");
        });
    });

    // The host loop: block on our own poller, then give evloop a turn.
    let mut events = Events::with_capacity(8);
    let mut turns = 0;
    while lp.is_alive() {
        host.poll(&mut events, lp.backend_timeout())?;
        lp.run(RunMode::NoWait);
        turns += 1;
    }
    println!("host loop: {turns} turns, evloop has nothing left to do");
    Ok(())
}

fn ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}
