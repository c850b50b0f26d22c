//! Out of file descriptors everywhere but in `accept` (which
//! `net_emfile.rs` covers): creating a loop, opening files, connecting,
//! accepting with the future listener, spawning a child, starting a worker. Each fails with
//! an error the caller can see, the loop goes on, and everything works
//! again once descriptors are free. Alone in its test binary, and one test,
//! because it lowers the process's descriptor limit.

use std::cell::RefCell;
use std::panic::catch_unwind;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use evloop::{EventLoop, ParentPort, Worker, WorkerError, fs, net};

mod common;
use common::set_fd_limit;

/// Opens `/dev/null` until the process may open no more.
fn use_up_descriptors() -> Vec<std::fs::File> {
    let mut hogs = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        hogs.push(f);
    }
    assert!(!hogs.is_empty());
    hogs
}

fn is_emfile(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::EMFILE) || fs::error_code(e) == Some("EMFILE")
}

#[test]
fn running_out_of_descriptors_is_an_error_everywhere_and_recoverable() {
    let _w = common::watchdog();
    // Made while descriptors are plentiful.
    let lp = EventLoop::new().unwrap();
    let path = file!().to_string();
    let listener = lp.enter(|| {
        let l = net::TcpListener::bind("127.0.0.1:0").unwrap();
        // (So that `run_async` returns when its future does.)
        l.unref();
        l
    });
    let addr = listener.local_addr().unwrap();
    // A connection that waits in the listener's backlog.
    let waiting = std::net::TcpStream::connect(addr).unwrap();
    let listener = Rc::new(listener);

    let old = set_fd_limit(256);
    let hogs = use_up_descriptors();

    // A new loop needs an epoll instance and an eventfd.
    let e = EventLoop::new().unwrap_err();
    assert!(is_emfile(&e), "{e:?}");
    let payload = catch_unwind(|| evloop::run(|| {})).unwrap_err();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("evloop: cannot create an event loop: "),
        "{message}"
    );

    let seen = Rc::new(RefCell::new(Vec::<String>::new()));
    let s = seen.clone();
    let (p, l) = (path.clone(), listener.clone());
    let code = lp.run_async(async move {
        let say = |line: String| s.borrow_mut().push(line);
        // Files.
        let e = fs::promises::read_file(&p).await.unwrap_err();
        assert!(is_emfile(&e), "{e:?}");
        say(e.to_string());
        let e = fs::promises::open(&p, "r").await.unwrap_err();
        say(e.to_string());
        let e = fs::promises::write_file("/tmp/evloop-emfile-never-written", "x")
            .await
            .unwrap_err();
        assert!(is_emfile(&e), "{e:?}");
        let (tx, rx) = evloop::deferred();
        fs::read_file(&p, move |r| tx.resolve(r.map(|_| ())));
        let e = rx.await.unwrap().unwrap_err();
        say(e.to_string());
        // Sockets: connecting needs a descriptor; accepting does too, and
        // the future listener stays usable.
        let e = net::connect(addr, || {}).unwrap_err();
        assert!(is_emfile(&e), "{e:?}");
        let e = net::TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(e.to_string(), format!("connect EMFILE {addr}"));
        let e = l.accept().await.unwrap_err();
        assert!(is_emfile(&e), "{e:?}");
        // A child needs pipes (and std's exec-error pipe): an `error`
        // event, as Node's `spawn` reports EMFILE, then `close`.
        let child = evloop::child_process::spawn("sh", ["-c", "true"], Default::default()).unwrap();
        let e = child.wait().await.unwrap_err();
        assert_eq!(fs::error_code(&e), Some("EMFILE"), "{e:?}");
        say(e.to_string());
        // A worker cannot create its loop: an error event, then exit 1.
        let worker = Worker::spawn(|_port: ParentPort<(), ()>| {
            unreachable!("the worker's body runs without a loop")
        });
        let error = Rc::new(RefCell::new(None));
        let er = error.clone();
        worker.on_error(move |e| *er.borrow_mut() = Some(e));
        let code = worker.exited().await;
        let error = error.borrow_mut().take().expect("an error event");
        let WorkerError::StartFailed(text) = &error else {
            panic!("expected StartFailed, got {error:?}");
        };
        assert!(text.starts_with("cannot create its event loop: "), "{text}");
        say(error.to_string());
        // Timers and cross-thread posts need no descriptor.
        let posted = Arc::new(AtomicBool::new(false));
        let (h, p) = (evloop::handle(), posted.clone());
        std::thread::spawn(move || h.post(move || p.store(true, Ordering::SeqCst)))
            .join()
            .unwrap()
            .unwrap();
        // The post is queued (the thread has returned): the loop runs it in
        // its next poll phase. No deadline: a post that never runs is a
        // hang, which the watchdog reports.
        while !posted.load(Ordering::SeqCst) {
            evloop::sleep(Duration::from_millis(2)).await;
        }
        code
    });
    assert_eq!(code, 1);
    assert_eq!(
        *seen.borrow(),
        [
            format!("EMFILE: too many open files, open '{path}'"),
            format!("EMFILE: too many open files, open '{path}'"),
            format!("EMFILE: too many open files, open '{path}'"),
            "spawn sh EMFILE".to_string(),
            "the worker could not start: cannot create its event loop: \
             Too many open files (os error 24)"
                .to_string(),
        ]
    );

    // Descriptors free again: everything works.
    drop(hogs);
    set_fd_limit(old);
    assert!(EventLoop::new().is_ok());
    let p = path.clone();
    let (bytes, accepted, code) = lp.run_async(async move {
        let bytes = fs::promises::read_file(&p).await.unwrap().len();
        let (_stream, _) = listener.accept().await.unwrap();
        let worker = Worker::spawn(|port: ParentPort<(), u32>| port.post_message(7).unwrap());
        let msg = worker.next_message().await;
        let child =
            evloop::child_process::spawn("sh", ["-c", "exit 4"], Default::default()).unwrap();
        assert_eq!(child.wait().await.unwrap().code, Some(4));
        (bytes, msg, worker.exited().await)
    });
    assert!(bytes > 0);
    assert_eq!(accepted, Some(7));
    assert_eq!(code, 0);
    drop(waiting);
    assert_eq!(lp.live_work(), 0);
    assert_eq!(lp.live_tasks(), 0);
}
