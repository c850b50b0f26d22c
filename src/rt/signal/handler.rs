//! The process-wide half of signals (libuv's `src/unix/signal.c`): the
//! `sigaction` handler, the pipes it writes to, and SIGPIPE.
//!
//! Each loop with a signal listener leases a [`Lease`]: a non-blocking
//! pipe and a mask of the signals that loop listens for. The handler walks
//! every lease's slot and writes the signal's number (one byte) to the pipe
//! of each slot whose mask has it; each loop reads its own pipe in its poll
//! phase. The handler takes no lock (libuv's takes a pipe-lock): slots are
//! linked once, never freed, and keep their pipe for the life of the
//! process, so a handler racing a loop's teardown writes at worst one byte
//! into a free pipe, which the next lease drains. The first listener of a
//! signal in the process installs the handler and saves the disposition it
//! found; the last one's removal puts that disposition back (libuv puts
//! back `SIG_DFL`, which is what it finds unless a host set another).

use std::io::{self, Read};
use std::os::fd::{IntoRawFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};

use mio::unix::pipe::{self, Receiver};

use super::name::Signal;

/// One lease's place in the handler's list: linked once, never freed.
struct Slot {
    /// The pipe's write end, open for the life of the process.
    write_fd: RawFd,
    /// Bit `n` set: the leasing loop listens for signal `n`.
    mask: AtomicU64,
    next: OnceLock<&'static Slot>,
}

/// The first slot; the handler walks the list from here.
static HEAD: OnceLock<&'static Slot> = OnceLock::new();

/// What only threads (never the handler) touch, under one lock.
struct Registry {
    /// Every slot, with its pipe's read end while no loop leases it.
    slots: Vec<(&'static Slot, Option<Receiver>)>,
    /// Per signal number: how many leases listen for it.
    listening: [u32; 64],
    /// Per signal number: the disposition found when the handler went in.
    saved: [Option<libc::sigaction>; 64],
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    slots: Vec::new(),
    listening: [0; 64],
    saved: [None; 64],
});

fn registry() -> MutexGuard<'static, Registry> {
    // No code panics while holding it; if one did, the data is still whole.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// A loop's pipe and listening mask, from [`Lease::new`] until
/// [`Lease::release`].
pub(in crate::rt) struct Lease {
    index: usize,
    slot: &'static Slot,
    /// The read end, registered in the loop's reactor.
    pub(in crate::rt) rx: Receiver,
}

impl Lease {
    /// A free slot, or a new one with a new pipe.
    ///
    /// # Errors
    /// The pipe could not be made (out of descriptors).
    pub(in crate::rt) fn new() -> io::Result<Lease> {
        let mut reg = registry();
        if let Some(index) = reg.slots.iter().position(|(_, rx)| rx.is_some()) {
            let (slot, rx) = &mut reg.slots[index];
            let mut rx = rx.take().expect("a free slot keeps its read end");
            // Bytes a handler wrote while the slot was being given back.
            let mut buf = [0u8; 64];
            while matches!(rx.read(&mut buf), Ok(n) if n > 0) {}
            return Ok(Lease { index, slot, rx });
        }
        let (tx, rx) = pipe::new()?;
        let slot: &'static Slot = Box::leak(Box::new(Slot {
            write_fd: tx.into_raw_fd(),
            mask: AtomicU64::new(0),
            next: OnceLock::new(),
        }));
        // Linked under the lock, so the tail is the last slot pushed.
        match reg.slots.last() {
            Some((tail, _)) => tail.next.set(slot),
            None => HEAD.set(slot),
        }
        .unwrap_or_else(|_| unreachable!("only the tail's link is unset"));
        reg.slots.push((slot, None));
        Ok(Lease {
            index: reg.slots.len() - 1,
            slot,
            rx,
        })
    }

    /// Starts delivering `signal` to this lease's pipe, installing the
    /// handler if no lease listened for it.
    pub(in crate::rt) fn listen(&self, signal: Signal) {
        let n = signal.as_raw();
        let bit = 1u64 << n;
        if self.slot.mask.load(Ordering::Relaxed) & bit != 0 {
            return;
        }
        let mut reg = registry();
        // The bit first, so that a signal caught just after the handler
        // goes in finds it.
        self.slot.mask.fetch_or(bit, Ordering::SeqCst);
        let count = &mut reg.listening[n as usize];
        *count += 1;
        if *count == 1 {
            reg.saved[n as usize] = Some(install(n));
        }
    }

    /// Stops delivering `signal` here; the last lease to stop puts the
    /// disposition back.
    pub(in crate::rt) fn unlisten(&self, signal: Signal) {
        let n = signal.as_raw();
        let bit = 1u64 << n;
        if self.slot.mask.load(Ordering::Relaxed) & bit == 0 {
            return;
        }
        let mut reg = registry();
        let count = &mut reg.listening[n as usize];
        *count -= 1;
        if *count == 0
            && let Some(old) = reg.saved[n as usize].take()
        {
            restore(n, &old);
        }
        self.slot.mask.fetch_and(!bit, Ordering::SeqCst);
    }

    /// Stops every signal of this lease and frees its slot (the pipe stays
    /// for the next lease).
    pub(in crate::rt) fn release(self) {
        for s in Signal::ALL {
            self.unlisten(s);
        }
        registry().slots[self.index].1 = Some(self.rx);
    }
}

/// The handler: one byte, the signal's number, to every pipe whose lease
/// listens for it. Only async-signal-safe calls (`write`, atomics, errno).
extern "C" fn on_signal(n: libc::c_int) {
    let saved_errno = errno();
    let bit = 1u64.checked_shl(n as u32).unwrap_or(0);
    let mut next = HEAD.get();
    while let Some(slot) = next {
        if slot.mask.load(Ordering::SeqCst) & bit != 0 {
            let byte = n as u8;
            loop {
                // SAFETY: `write_fd` is a pipe's write end that is never
                // closed (slots live for the process); the buffer is one
                // byte on this stack. A full pipe (EAGAIN) drops the byte:
                // that loop has a signal waiting already.
                let r = unsafe { libc::write(slot.write_fd, (&raw const byte).cast(), 1) };
                if r != -1 || errno() != libc::EINTR {
                    break;
                }
            }
        }
        next = slot.next.get();
    }
    set_errno(saved_errno);
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn set_errno(value: i32) {
    // SAFETY: `__errno_location` returns this thread's errno, valid for
    // the thread's life; the handler puts back what it interrupted.
    unsafe { *libc::__errno_location() = value };
}

/// Installs [`on_signal`] for `n` (all signals blocked while it runs,
/// `SA_RESTART` as libuv) and returns the disposition it replaced.
fn install(n: i32) -> libc::sigaction {
    // SAFETY: `sigaction` is plain data for which all zeros is a valid
    // value (no handler, empty mask, no flags); `sigfillset` and
    // `sigaction` write only the structs passed, and `n` is one of
    // `Signal`'s numbers, which can be caught, so neither fails.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        new.sa_flags = libc::SA_RESTART;
        libc::sigfillset(&mut new.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(n, &new, &mut old);
        old
    }
}

/// Puts back the disposition [`install`] replaced.
fn restore(n: i32, old: &libc::sigaction) {
    // SAFETY: `old` is what `sigaction` returned for `n`; nothing else is
    // read or written.
    unsafe { libc::sigaction(n, old, std::ptr::null_mut()) };
}

/// Ignores SIGPIPE, as Node does at startup, so that a write to a pipe or
/// socket whose reader is gone fails with `EPIPE` instead of killing the
/// process. Done once, when the first loop is built, and only if SIGPIPE
/// still has its default action: a host that set its own handler keeps it.
/// (Rust's `main` already ignores it; a C host embedding evloop may not.)
/// Children spawned with `std::process::Command` get the default back.
pub(crate) fn ignore_sigpipe() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: as in `install`: zeroed `sigaction` structs are valid,
        // and the calls write only them; SIGPIPE can be ignored.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old);
            if old.sa_sigaction == libc::SIG_DFL {
                let mut ign: libc::sigaction = std::mem::zeroed();
                ign.sa_sigaction = libc::SIG_IGN;
                libc::sigaction(libc::SIGPIPE, &ign, std::ptr::null_mut());
            }
        }
    });
}
