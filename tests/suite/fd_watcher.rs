//! `FdWatcher`: any file descriptor in the loop's reactor (libuv's
//! `uv_poll_t`), with callbacks and futures (issue 21, item 3).

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::thread;

use crate::common;
use crate::common::panic_message;

use evloop::{EventLoop, FdWatcher, HandleKind, RunMode, spawn};

fn polls(lp: &EventLoop) -> Vec<(bool, bool)> {
    lp.enter(evloop::walk)
        .into_iter()
        .filter(|h| h.kind == HandleKind::Poll)
        .map(|h| (h.referenced, h.active))
        .collect()
}

#[test]
fn a_socket_written_by_a_thread_fires_the_readable_callback() {
    let _w = common::watchdog();
    let (reader, mut writer) = UnixStream::pair().unwrap();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    let lp = EventLoop::new().unwrap();
    let t = lp.enter(|| {
        let w = FdWatcher::new(reader).unwrap();
        let me = w.clone();
        w.on_readable(move || {
            let mut buf = [0; 64];
            match me.with_io(|mut s| s.read(&mut buf)).unwrap() {
                Ok(0) => me.close(), // the writer hung up
                Ok(n) => g.borrow_mut().extend_from_slice(&buf[..n]),
                Err(e) => panic!("{e}"),
            }
        });
        thread::spawn(move || {
            writer.write_all(b"from a thread").unwrap();
            // The writer closes here: end of file.
        })
    });
    assert!(
        lp.is_alive(),
        "a watcher with a callback keeps the loop alive"
    );
    lp.run(RunMode::Default);
    t.join().unwrap();
    assert_eq!(&*got.borrow(), b"from a thread");
    assert!(polls(&lp).is_empty(), "closed: deregistered");
}

#[test]
fn callbacks_are_level_triggered_one_call_per_poll_phase() {
    let _w = common::watchdog();
    // Ten bytes there before the watcher exists; each call reads one (from a
    // blocking socket, safe since the callback runs only while readable).
    let (reader, mut writer) = UnixStream::pair().unwrap();
    writer.write_all(b"0123456789").unwrap();
    let lp = EventLoop::new().unwrap();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let c = calls.clone();
    lp.enter(|| {
        let w = FdWatcher::new(reader).unwrap();
        let me = w.clone();
        let mut last_iteration = None;
        w.on_readable(move || {
            let mut byte = [0; 1];
            me.with_io(|mut s| s.read_exact(&mut byte).unwrap());
            // One call per loop iteration.
            let it = evloop::snapshot().iteration;
            assert_ne!(last_iteration, Some(it));
            last_iteration = Some(it);
            c.borrow_mut().push(byte[0]);
            if c.borrow().len() == 10 {
                me.close();
            }
        });
    });
    lp.run(RunMode::Default);
    assert_eq!(&*calls.borrow(), b"0123456789");
}

#[test]
fn futures_wait_for_readable_and_writable() {
    let _w = common::watchdog();
    let (reader, mut writer) = UnixStream::pair().unwrap();
    reader.set_nonblocking(true).unwrap();
    let (out, peer) = UnixStream::pair().unwrap();
    let lp = EventLoop::new().unwrap();
    let got = lp.run_async(async move {
        let w = FdWatcher::new(reader).unwrap();
        let o = FdWatcher::new(out).unwrap();
        // A fresh socket is writable.
        o.writable().await.unwrap();
        o.with_io(|mut s| s.write_all(b"ping")).unwrap().unwrap();
        let t = thread::spawn(move || writer.write_all(b"hello").unwrap());
        let mut got = Vec::new();
        while got.len() < 5 {
            w.readable().await.unwrap();
            let mut buf = [0; 16];
            match w.with_io(|mut s| s.read(&mut buf)).unwrap() {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                // Readiness reported, then taken by an earlier read.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
        t.join().unwrap();
        got
    });
    assert_eq!(got, b"hello");
    let mut buf = [0; 4];
    (&peer).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}

#[test]
fn an_unrefd_or_idle_watcher_does_not_keep_the_loop_alive() {
    let _w = common::watchdog();
    let (reader, _writer) = UnixStream::pair().unwrap();
    let lp = EventLoop::new().unwrap();
    let w = lp.enter(|| FdWatcher::new(reader).unwrap());
    assert!(!lp.is_alive(), "no callback, no future: inactive");
    assert_eq!(polls(&lp), [(false, true)]);
    lp.enter(|| w.on_readable(|| panic!("nothing is ever written")));
    assert!(lp.is_alive());
    assert_eq!(polls(&lp), [(true, true)]);
    lp.enter(|| w.unref());
    assert!(!w.has_ref());
    assert!(!lp.is_alive());
    // The run returns at once with the callback still set.
    assert!(!lp.run(RunMode::Default));
    lp.enter(|| w.ref_());
    assert!(lp.is_alive());
    lp.enter(|| w.stop_readable());
    assert!(!lp.is_alive(), "stopped: inactive again");
    lp.enter(|| w.close());
    assert!(polls(&lp).is_empty());
}

#[test]
fn closing_deregisters_and_closes_only_a_descriptor_it_owns() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    // Owned: closing the watcher closes the socket, the peer sees the end.
    let (reader, mut peer) = UnixStream::pair().unwrap();
    let w = lp.enter(|| FdWatcher::new(reader).unwrap());
    lp.enter(|| w.close());
    assert!(w.is_closed());
    assert!(w.with_io(|_| ()).is_none());
    let mut buf = [0; 1];
    assert_eq!(peer.read(&mut buf).unwrap(), 0, "the watcher closed it");
    lp.enter(|| w.close()); // twice: nothing
    drop(w);

    // Borrowed by number: closing the watcher leaves the descriptor open.
    let (reader, mut writer) = UnixStream::pair().unwrap();
    let w = lp.enter(|| FdWatcher::new(reader.as_raw_fd()).unwrap());
    assert_eq!(w.as_raw_fd(), reader.as_raw_fd());
    lp.enter(|| w.close());
    writer.write_all(b"x").unwrap();
    (&reader).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"x");

    // Handed back: deregistered, so it can be watched again.
    let w = lp.enter(|| FdWatcher::new(reader).unwrap());
    let reader = lp.enter(|| w.into_inner()).expect("open");
    let again = lp.enter(|| FdWatcher::new(reader).unwrap());
    // Dropping the last handle closes it too.
    drop(again);
    assert!(polls(&lp).is_empty());
    assert_eq!(
        writer.write(b"y").unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );
}

#[test]
fn closing_wakes_a_waiting_future_with_an_error_and_stops_callbacks() {
    let _w = common::watchdog();
    let (reader, mut writer) = UnixStream::pair().unwrap();
    let lp = EventLoop::new().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    let err = lp.run_async(async move {
        // By number: the socket stays open after the close, so the write
        // below makes it readable.
        let w = FdWatcher::new(reader.as_raw_fd()).unwrap();
        w.on_readable(move || c.set(c.get() + 1));
        let w2 = w.clone();
        let waiting = spawn(async move { w2.readable().await });
        evloop::yield_now().await;
        w.close();
        // Readable now, but closed: no callback comes.
        writer.write_all(b"late").unwrap();
        let err = waiting.await.unwrap_err();
        assert!(w.readable().await.is_err());
        err
    });
    assert_eq!(err.kind(), io::ErrorKind::NotConnected);
    assert_eq!(calls.get(), 0);
}

#[test]
fn descriptors_epoll_cannot_watch_are_clear_errors() {
    let _w = common::watchdog();
    let lp = EventLoop::new().unwrap();
    lp.enter(|| {
        // A regular file: EPERM.
        let file =
            std::fs::File::open(env!("CARGO_MANIFEST_DIR").to_owned() + "/Cargo.toml").unwrap();
        let e = FdWatcher::new(file).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
        // Not a descriptor at all: EBADF.
        let e = FdWatcher::new(-1).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF), "{e}");
        // One already in this loop: EEXIST.
        let (a, _b) = UnixStream::pair().unwrap();
        let first = FdWatcher::new(a.as_raw_fd()).unwrap();
        let e = FdWatcher::new(a.as_raw_fd()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
        first.close();
        // A callback on a closed watcher would never run.
        let p = catch_unwind(AssertUnwindSafe(|| first.on_readable(|| {}))).unwrap_err();
        assert!(
            panic_message(&*p).contains("closed watcher"),
            "{}",
            panic_message(&*p)
        );
    });
    assert!(polls(&lp).is_empty());
}

#[test]
fn a_panicking_callback_is_called_again_when_the_panic_is_handled() {
    let _w = common::watchdog();
    let (reader, mut writer) = UnixStream::pair().unwrap();
    writer.write_all(b"ab").unwrap();
    let lp = EventLoop::builder()
        .on_uncaught_panic(|_| {})
        .build()
        .unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    lp.enter(|| {
        let w = FdWatcher::new(reader).unwrap();
        let me = w.clone();
        w.on_readable(move || {
            c.set(c.get() + 1);
            let mut byte = [0; 1];
            me.with_io(|mut s| s.read_exact(&mut byte).unwrap());
            if byte[0] == b'a' {
                panic!("first byte");
            }
            me.close();
        });
    });
    lp.run(RunMode::Default);
    assert_eq!(calls.get(), 2, "still set and re-armed after the panic");
}

#[test]
fn ref_and_unref_inside_a_callback_count_the_running_callback() {
    let _w = common::watchdog();
    // The readable callback is lent out of its slot while it runs: a
    // `ref_()` there must not see the watcher as idle, or the loop would
    // exit with the callback still set.
    let (reader, mut writer) = UnixStream::pair().unwrap();
    writer.write_all(b"a").unwrap();
    let lp = EventLoop::new().unwrap();
    let w = lp.enter(|| {
        let w = FdWatcher::new(reader).unwrap();
        let me = w.clone();
        w.on_readable(move || {
            let mut byte = [0; 1];
            me.with_io(|mut s| s.read_exact(&mut byte).unwrap());
            me.unref();
            me.ref_();
        });
        w
    });
    assert!(lp.run(RunMode::NoWait), "alive: the callback is still set");
    assert!(lp.is_alive());
    assert_eq!(polls(&lp), [(true, true)]);
    lp.enter(|| w.close());
    assert!(!lp.is_alive());
}

#[test]
fn a_writable_callback_runs_each_iteration_until_stopped() {
    let _w = common::watchdog();
    // A socket with room stays writable: level-triggered, the callback
    // runs once per iteration, as libuv's, until it has nothing to write.
    let (out, peer) = UnixStream::pair().unwrap();
    let lp = EventLoop::new().unwrap();
    lp.enter(|| {
        let w = FdWatcher::new(out).unwrap();
        let me = w.clone();
        let mut left = 3;
        w.on_writable(move || {
            me.with_io(|mut s| s.write_all(b"x").unwrap());
            left -= 1;
            if left == 0 {
                me.stop_writable();
                me.close();
            }
        });
    });
    lp.run(RunMode::Default);
    let mut got = Vec::new();
    (&peer).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"xxx");
}
