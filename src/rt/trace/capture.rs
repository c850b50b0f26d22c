//! Capturing the process's standard output while a replay records, so that
//! each line the program prints takes its true place among the loop's
//! steps.
//!
//! File descriptor 1 is pointed at a pipe (the old one is kept and every
//! byte is passed on to it at once, so the terminal shows what it always
//! did). Whoever records a step first empties the pipe into the
//! recordings, under their lock: a line written before a step is in the
//! pipe when the step is recorded, so it lands before it. A reader thread
//! also empties the pipe whenever it becomes readable, under the same lock,
//! so a program that prints more than a pipe holds between two steps never
//! blocks on it.
//!
//! Here too is evloop's one `atexit` hook ([`at_exit`]), which ends the
//! replay pages and the Chrome trace files.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Mutex, OnceLock};

use mio::unix::SourceFd;
use mio::unix::pipe::Receiver;
use mio::{Events, Interest, Poll, Token};

/// The pipe that fd 1 now writes into, and the real standard output.
pub(crate) struct Capture {
    pipe: Receiver,
    real: File,
    /// The start of a line not yet ended.
    partial: Vec<u8>,
}

impl Capture {
    /// Passes on and splits into lines what the pipe holds; `line` gets
    /// each complete one.
    pub(crate) fn drain(&mut self, mut line: impl FnMut(&str)) {
        let mut buf = [0u8; 8192];
        loop {
            match self.pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    // The terminal must not lose output because a recording
                    // is on: a failed write here is the program's own
                    // stdout failing, which it would not see either.
                    let _ = self.real.write_all(&buf[..n]);
                    self.partial.extend_from_slice(&buf[..n]);
                    while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
                        let rest = self.partial.split_off(end + 1);
                        let text = String::from_utf8_lossy(&self.partial[..end]).into_owned();
                        self.partial = rest;
                        line(&text);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break, // WouldBlock: empty for now
            }
        }
    }

    /// The last of it at the process's end, an unfinished line included.
    pub(crate) fn finish(&mut self, mut line: impl FnMut(&str)) {
        self.drain(&mut line);
        if !self.partial.is_empty() {
            let text = String::from_utf8_lossy(&self.partial).into_owned();
            self.partial.clear();
            line(&text);
        }
    }
}

/// What runs at the process's exit: the replay's last write, the Chrome
/// trace files' end.
static ON_EXIT: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

/// Runs `f` when the process exits (`exit`, or `main` returning), after the
/// functions registered before it; call it once per `f`. This is evloop's
/// one `atexit` hook, which the replay and the trace files share. `false`
/// if the hook could not be registered.
pub(crate) fn at_exit(f: fn()) -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    // SAFETY: `run_at_exit` is an `extern "C" fn()` that never unwinds (it
    // catches panics); registering it has no other effect.
    let registered = *REGISTERED.get_or_init(|| unsafe { libc::atexit(run_at_exit) } == 0);
    if registered {
        ON_EXIT.lock().unwrap_or_else(|p| p.into_inner()).push(f);
    }
    registered
}

/// Starts capturing into `slot` unless it already does: `take` empties the
/// pipe (it is called by the reader thread whenever the pipe becomes
/// readable), `on_exit` runs when the process exits. A failure leaves
/// standard output as it was and is logged: the recording then has no
/// output lines.
pub(crate) fn start(slot: &'static Mutex<Option<Capture>>, take: fn(), on_exit: fn()) {
    let mut capture = slot.lock().unwrap_or_else(|p| p.into_inner());
    if capture.is_some() {
        return;
    }
    match install() {
        Ok(c) => {
            let fd = c.pipe.as_raw_fd();
            *capture = Some(c);
            drop(capture);
            spawn_reader(fd, take);
            if !at_exit(on_exit) {
                log::warn!(target: "evloop", "replay: cannot register the exit hook; the page is written when each loop is dropped");
            }
        }
        Err(e) => {
            log::warn!(target: "evloop", "replay: cannot capture standard output ({e}); the page will show no output lines");
        }
    }
}

fn install() -> io::Result<Capture> {
    io::stdout().flush()?;
    let (sender, pipe) = mio::unix::pipe::new()?;
    // The program's writes must block as a terminal's do, not fail.
    sender.set_nonblocking(false)?;
    let real = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    let write_end = OwnedFd::from(sender);
    // SAFETY: both descriptors are open (`write_end` is owned here, 1 is the
    // process's standard output); `dup2` only makes 1 another name for the
    // pipe's write end, and `write_end` is closed afterwards as usual.
    if unsafe { libc::dup2(write_end.as_raw_fd(), 1) } < 0 {
        return Err(io::Error::last_os_error());
    }
    drop(write_end);
    Ok(Capture {
        pipe,
        real,
        partial: Vec::new(),
    })
}

/// The thread that empties the pipe when the loop does not (see the
/// module's docs). It lives as long as the process.
fn spawn_reader(fd: i32, take: fn()) {
    let spawned = std::thread::Builder::new()
        .name("evloop-replay-stdout".into())
        .spawn(move || {
            let Ok(mut poll) = Poll::new() else { return };
            let mut events = Events::with_capacity(4);
            if poll
                .registry()
                .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
                .is_err()
            {
                return;
            }
            loop {
                if poll.poll(&mut events, None).is_err() {
                    continue;
                }
                take();
            }
        });
    if let Err(e) = spawned {
        log::warn!(target: "evloop", "replay: cannot start the output reader ({e}); a program printing more than 64 KiB between two steps would block");
    }
}

extern "C" fn run_at_exit() {
    let hooks = ON_EXIT.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for f in hooks {
        // Nothing may unwind out of an `extern "C"` function.
        let _ = std::panic::catch_unwind(f);
    }
}
