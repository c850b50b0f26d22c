//! Any file descriptor in the loop's reactor, libuv's `uv_poll_t`: a host's
//! own pipe, device, eventfd or a socket another library made, watched for
//! readiness with callbacks ([`FdWatcher::on_readable`]) or futures
//! ([`FdWatcher::readable`]).
//!
//! The reactor is edge-triggered (mio); `uv_poll_t` is level-triggered, and
//! so is this: after each delivery the source is registered again
//! (`EPOLL_CTL_MOD`), which makes epoll report it in the next poll phase if
//! it is still ready. A callback that reads only part of what is there is
//! called again, one poll phase later; a blocking descriptor works, as long
//! as each callback reads or writes once. A future waits from its first
//! poll, re-registering then, so it also sees readiness that came before.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::task::Poll;

use mio::unix::SourceFd;

use crate::rt::context::{try_with_core, with_core};
use crate::rt::executor::Waiter;
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;

/// Watches a file descriptor for readiness in the poll phase (libuv's
/// `uv_poll_t`): readable and writable callbacks, or futures that wait for
/// either.
///
/// **Ownership.** The watcher holds `T`, which gives it the descriptor
/// ([`AsRawFd`]): an [`OwnedFd`] (the default), a [`File`](std::fs::File),
/// a `UnixStream`, ... is closed when the watcher is
/// [`close`](FdWatcher::close)d or its last handle dropped, or handed back
/// by [`into_inner`](FdWatcher::into_inner). To watch a descriptor you keep
/// owning, pass its number (a [`RawFd`]): evloop never closes it, and it
/// must stay open until the watcher is closed. The descriptor's flags are
/// left alone (no `O_NONBLOCK` is set).
///
/// **Level-triggered**, as `uv_poll_t`: a callback runs in each poll phase
/// in which the descriptor is ready, one call per direction and phase, so
/// it may read or write once or until `WouldBlock`. A writable callback on
/// a descriptor that stays writable runs every iteration (the loop does not
/// sleep): set it only while there is something to write. A hang-up or an
/// error reports both directions, so that the next read or write surfaces
/// it.
///
/// **Alive.** A watcher keeps the loop alive while a callback is set or a
/// future waits, unless [`unref`](FdWatcher::unref)'d. Clones share the
/// watcher; dropping the last one closes it (a callback that holds a clone
/// keeps it open until [`close`](FdWatcher::close)). The loop's teardown
/// closes a watcher still open.
///
/// ```
/// use std::{io::{Read, Write}, os::unix::net::UnixStream, rc::Rc, cell::RefCell};
/// use evloop::FdWatcher;
/// let (reader, mut writer) = UnixStream::pair().unwrap();
/// let got = Rc::new(RefCell::new(String::new()));
/// let g = got.clone();
/// evloop::run(move || {
///     let w = FdWatcher::new(reader).unwrap();
///     let me = w.clone();
///     w.on_readable(move || {
///         let mut buf = [0; 64];
///         let n = me.with_io(|mut s| s.read(&mut buf)).unwrap().unwrap();
///         g.borrow_mut().push_str(std::str::from_utf8(&buf[..n]).unwrap());
///         me.close(); // one message is enough
///     });
///     std::thread::spawn(move || writer.write_all(b"hello").unwrap());
/// });
/// assert_eq!(*got.borrow(), "hello");
/// ```
#[must_use = "dropping the last FdWatcher handle closes it"]
pub struct FdWatcher<T: AsRawFd + 'static = OwnedFd> {
    owner: Rc<Owner<T>>,
}

impl<T: AsRawFd + 'static> Clone for FdWatcher<T> {
    fn clone(&self) -> Self {
        FdWatcher {
            owner: self.owner.clone(),
        }
    }
}

/// Closes the watcher when the last handle goes; the reactor holds
/// `Shared` alone, so a registration outliving every handle cannot happen.
struct Owner<T: AsRawFd + 'static>(Rc<Shared<T>>);

impl<T: AsRawFd + 'static> Drop for Owner<T> {
    fn drop(&mut self) {
        drop(self.0.close());
    }
}

type Handler = Box<dyn FnMut()>;

struct Shared<T> {
    fd: RawFd,
    /// `None` once closed (or handed back). While `with_io` lends it, a
    /// `close` leaves it here and `with_io` drops it afterwards.
    io: RefCell<Option<T>>,
    reg: RefCell<Option<Registration>>,
    closed: Cell<bool>,
    referenced: Cell<bool>,
    /// Futures waiting, for the keep-alive count.
    waiting: Cell<usize>,
    read: Direction,
    write: Direction,
}

#[derive(Default)]
struct Direction {
    handler: RefCell<Option<Handler>>,
    /// Bumped by each set or stop, so that a handler lent to its own call
    /// is not put back over one set (or a stop) meanwhile.
    epoch: Cell<u64>,
    /// Readiness reports so far: a waiting future compares.
    seen: Cell<u64>,
    waiters: RefCell<Vec<Waiter>>,
}

/// Which direction a call is about.
#[derive(Clone, Copy)]
enum Dir {
    Read,
    Write,
}

impl<T: AsRawFd + 'static> FdWatcher<T> {
    /// Registers `io`'s descriptor with the current loop's reactor. The
    /// watcher starts inactive: it keeps the loop alive once a callback is
    /// set or a future waits.
    ///
    /// # Errors
    /// The OS's refusal to poll the descriptor, with nothing registered
    /// and `io` dropped: `EPERM` ([`io::ErrorKind::PermissionDenied`]) for
    /// a regular file or a directory, which epoll cannot watch; `EBADF` for
    /// a descriptor that is not open; `EEXIST`
    /// ([`io::ErrorKind::AlreadyExists`]) for one already in this loop (an
    /// evloop socket, another watcher: watch a `dup` of it instead).
    ///
    /// # Panics
    /// If no event loop is running on this thread.
    pub fn new(io: T) -> io::Result<FdWatcher<T>> {
        let fd = io.as_raw_fd();
        let shared = Rc::new(Shared {
            fd,
            io: RefCell::new(None),
            reg: RefCell::new(None),
            closed: Cell::new(false),
            referenced: Cell::new(true),
            waiting: Cell::new(0),
            read: Direction::default(),
            write: Direction::default(),
        });
        let reg = with_core("FdWatcher::new", |core| {
            Registration::new(core, &mut SourceFd(&fd), shared.clone(), HandleKind::Poll)
        })?;
        // Inactive until a callback or a future asks.
        reg.set_ref(false);
        *shared.io.borrow_mut() = Some(io);
        *shared.reg.borrow_mut() = Some(reg);
        Ok(FdWatcher {
            owner: Rc::new(Owner(shared)),
        })
    }

    fn shared(&self) -> &Rc<Shared<T>> {
        &self.owner.0
    }

    /// Calls `handler` in each poll phase in which the descriptor is
    /// readable (or hung up, or in error), replacing any earlier readable
    /// callback. Ticks and microtasks drain after each call.
    ///
    /// # Panics
    /// On a closed watcher (the callback would never run).
    pub fn on_readable(&self, handler: impl FnMut() + 'static) {
        self.shared().set(Dir::Read, Some(Box::new(handler)));
    }

    /// Calls `handler` in each poll phase in which the descriptor is
    /// writable (or hung up, or in error), replacing any earlier writable
    /// callback. Most descriptors are writable most of the time: stop it
    /// ([`stop_writable`](FdWatcher::stop_writable)) when there is nothing
    /// left to write.
    ///
    /// # Panics
    /// On a closed watcher (the callback would never run).
    pub fn on_writable(&self, handler: impl FnMut() + 'static) {
        self.shared().set(Dir::Write, Some(Box::new(handler)));
    }

    /// Removes the readable callback (a call in progress finishes); no-op
    /// if there is none.
    pub fn stop_readable(&self) {
        self.shared().set(Dir::Read, None);
    }

    /// Removes the writable callback (a call in progress finishes); no-op
    /// if there is none.
    pub fn stop_writable(&self) {
        self.shared().set(Dir::Write, None);
    }

    /// Waits until the descriptor is readable (or hung up, or in error):
    /// it resumes in the microtask checkpoint after a poll phase that
    /// reports it, also if it was readable before the wait began.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] if the watcher is closed before or
    /// while waiting.
    pub async fn readable(&self) -> io::Result<()> {
        self.shared().wait(Dir::Read).await
    }

    /// Waits until the descriptor is writable (or hung up, or in error), as
    /// [`readable`](FdWatcher::readable).
    ///
    /// # Errors
    /// [`io::ErrorKind::NotConnected`] if the watcher is closed before or
    /// while waiting.
    pub async fn writable(&self) -> io::Result<()> {
        self.shared().wait(Dir::Write).await
    }

    /// Runs `f` on the watched `T` (to read or write through it); `None`
    /// once the watcher is closed. A [`close`](FdWatcher::close) inside `f`
    /// takes effect when `f` returns.
    pub fn with_io<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let shared = self.shared();
        let r = {
            let io = shared.io.borrow();
            f(io.as_ref()?)
        };
        if shared.closed.get() {
            // Closed by `f`: the descriptor goes now.
            drop(shared.io.borrow_mut().take());
        }
        Some(r)
    }

    /// Stops watching: deregisters the descriptor, drops both callbacks,
    /// wakes waiting futures with an error, and drops `T` (closing the
    /// descriptor if `T` owns it). No callback runs after it, even for
    /// readiness already reported in the same poll phase. Closing twice
    /// does nothing.
    pub fn close(&self) {
        drop(self.shared().close());
    }

    /// Stops watching as [`close`](FdWatcher::close) does, and hands `T`
    /// back instead of dropping it; `None` if the watcher was already
    /// closed (or `T` is lent to [`with_io`](FdWatcher::with_io)).
    pub fn into_inner(self) -> Option<T> {
        self.shared().close()
    }

    /// Whether [`close`](FdWatcher::close) was called (or the loop is
    /// gone).
    pub fn is_closed(&self) -> bool {
        self.shared().closed.get()
    }

    /// Keeps the loop alive while a callback is set or a future waits (the
    /// default).
    pub fn ref_(&self) -> &FdWatcher<T> {
        self.shared().referenced.set(true);
        self.shared().sync_ref();
        self
    }

    /// Lets the loop exit even while a callback is set or a future waits.
    pub fn unref(&self) -> &FdWatcher<T> {
        self.shared().referenced.set(false);
        self.shared().sync_ref();
        self
    }

    /// Whether the watcher is referenced (its last
    /// [`ref_`](FdWatcher::ref_)/[`unref`](FdWatcher::unref)).
    pub fn has_ref(&self) -> bool {
        self.shared().referenced.get()
    }
}

impl<T: AsRawFd + 'static> AsRawFd for FdWatcher<T> {
    /// The watched descriptor's number (stale once closed).
    fn as_raw_fd(&self) -> RawFd {
        self.shared().fd
    }
}

impl<T: AsRawFd + 'static> fmt::Debug for FdWatcher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.shared();
        f.debug_struct("FdWatcher")
            .field("fd", &s.fd)
            .field("closed", &s.closed.get())
            .field("readable_cb", &s.read.handler.borrow().is_some())
            .field("writable_cb", &s.write.handler.borrow().is_some())
            .field("waiting", &s.waiting.get())
            .field("referenced", &s.referenced.get())
            .finish()
    }
}

impl<T> Shared<T> {
    fn dir(&self, dir: Dir) -> &Direction {
        match dir {
            Dir::Read => &self.read,
            Dir::Write => &self.write,
        }
    }

    /// Whether anything wants readiness: it then keeps the loop alive.
    fn active(&self) -> bool {
        self.waiting.get() > 0
            || self.read.handler.borrow().is_some()
            || self.write.handler.borrow().is_some()
    }

    fn sync_ref(&self) {
        if let Some(reg) = &*self.reg.borrow() {
            reg.set_ref(self.referenced.get() && self.active());
        }
    }

    /// Registers the descriptor again, so that a readiness already there
    /// (which the edge-triggered poll reported before anyone asked) is
    /// reported once more in the next poll phase.
    fn rearm(&self) {
        if let Some(reg) = &*self.reg.borrow()
            && let Err(e) = reg.rearm(&mut SourceFd(&self.fd))
        {
            // The descriptor was closed behind the watcher's back.
            log::warn!(target: "evloop", "FdWatcher: fd {}: {e}", self.fd);
        }
    }

    fn set(&self, dir: Dir, handler: Option<Handler>) {
        if handler.is_some() && self.closed.get() {
            panic!(
                "evloop: FdWatcher::on_readable/on_writable on a closed watcher: create a new one"
            );
        }
        let d = self.dir(dir);
        d.epoch.set(d.epoch.get() + 1);
        let starts = handler.is_some();
        let old = d.handler.replace(handler);
        self.sync_ref();
        if starts {
            self.rearm();
        }
        // Outside the borrow: its destructor may reach this watcher.
        drop(old);
    }

    async fn wait(&self, dir: Dir) -> io::Result<()> {
        let closed = || {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "evloop: the FdWatcher was closed",
            )
        };
        if self.closed.get() {
            return Err(closed());
        }
        let d = self.dir(dir);
        let start = d.seen.get();
        let _waiting = Waiting::new(self);
        self.rearm();
        poll_fn(|cx| {
            if d.seen.get() != start {
                Poll::Ready(Ok(()))
            } else if self.closed.get() {
                Poll::Ready(Err(closed()))
            } else {
                d.waiters.borrow_mut().push(Waiter::new(cx));
                Poll::Pending
            }
        })
        .await
    }

    /// Deregisters and drops the callbacks; hands back `T` unless it is
    /// lent to `with_io` (which then drops it).
    fn close(&self) -> Option<T> {
        if self.closed.replace(true) {
            return None;
        }
        let reg = self.reg.borrow_mut().take();
        // The handler returned is this watcher's `Shared`: dropped last.
        let me = reg.and_then(|r| r.deregister(&mut SourceFd(&self.fd)));
        let handlers = (self.read.handler.take(), self.write.handler.take());
        self.read.epoch.set(self.read.epoch.get() + 1);
        self.write.epoch.set(self.write.epoch.get() + 1);
        for d in [&self.read, &self.write] {
            for w in d.waiters.take() {
                w.wake();
            }
        }
        let io = self.io.try_borrow_mut().ok().and_then(|mut io| io.take());
        drop(handlers);
        drop(me);
        io
    }

    /// One readiness report for `dir`: wakes its futures, then calls its
    /// handler (lent out of its slot for the call), setting `called` first
    /// (the call may panic).
    fn deliver(&self, dir: Dir, called: &Cell<bool>) {
        let d = self.dir(dir);
        d.seen.set(d.seen.get() + 1);
        for w in d.waiters.take() {
            w.wake();
        }
        let Some(handler) = d.handler.take() else {
            return;
        };
        called.set(true);
        let mut lent = Lent {
            dir: d,
            epoch: d.epoch.get(),
            closed: &self.closed,
            handler: Some(handler),
        };
        (lent.handler.as_mut().expect("lent"))();
    }
}

impl<T> Ready for Shared<T> {
    fn ready(self: Rc<Self>, readable: bool, writable: bool) {
        // Re-registered after any delivery, also if a callback panics, so
        // readiness still there is reported again (level-triggered).
        let rearm = Rearm(&*self, Cell::new(false));
        if readable && !self.closed.get() {
            self.deliver(Dir::Read, &rearm.1);
            if writable {
                // Each callback gets its own drain, as every loop callback.
                try_with_core(|core| core.drain_now());
            }
        }
        if writable && !self.closed.get() {
            self.deliver(Dir::Write, &rearm.1);
        }
    }

    fn teardown(&self) {
        // The loop is going away and its reactor forgot the registration.
        self.closed.set(true);
        drop(self.reg.borrow_mut().take());
        drop((self.read.handler.take(), self.write.handler.take()));
        drop((self.read.waiters.take(), self.write.waiters.take()));
        if let Ok(mut io) = self.io.try_borrow_mut() {
            drop(io.take());
        }
    }
}

/// A handler taken out of its slot for its call; put back afterwards (also
/// by an unwind) unless the call set another, stopped it or closed.
struct Lent<'a> {
    dir: &'a Direction,
    epoch: u64,
    closed: &'a Cell<bool>,
    handler: Option<Handler>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if self.dir.epoch.get() == self.epoch && !self.closed.get() {
            let mut slot = self.dir.handler.borrow_mut();
            if slot.is_none() {
                *slot = self.handler.take();
            }
        }
    }
}

struct Rearm<'a, T>(&'a Shared<T>, Cell<bool>);

impl<T> Drop for Rearm<'_, T> {
    fn drop(&mut self) {
        if self.1.get() && !self.0.closed.get() {
            self.0.rearm();
            // A `ref_`, `unref` or `stop_*` inside a callback counted its
            // lent handler as gone.
            self.0.sync_ref();
        }
    }
}

/// A future waiting: counted while it lives, for the keep-alive.
struct Waiting<'a, T>(&'a Shared<T>);

impl<'a, T> Waiting<'a, T> {
    fn new(shared: &'a Shared<T>) -> Waiting<'a, T> {
        shared.waiting.set(shared.waiting.get() + 1);
        shared.sync_ref();
        Waiting(shared)
    }
}

impl<T> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        self.0.waiting.set(self.0.waiting.get() - 1);
        self.0.sync_ref();
    }
}
