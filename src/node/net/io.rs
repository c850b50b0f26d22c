//! A registered source and the readiness seen for it: what the futures
//! types (`TcpListener`, `TcpStream`, `UnixStream`, `dgram::UdpSocket`)
//! wait on. Each operation is one poll function (`poll_op`, and the
//! streams' `poll_read` / `poll_write`); the `async fn`s and the
//! `futures-io` traits (`async_io.rs`) are thin wrappers over it.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::rt::context::with_core;
use crate::rt::executor::Waiter;
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;

/// A registered source and the readiness seen for it. Readiness starts
/// `true`: the first attempt tries the syscall, and only a `WouldBlock`
/// makes a task wait for the next edge.
pub(super) struct Io<S: mio::event::Source> {
    pub(super) source: RefCell<S>,
    reg: RefCell<Option<Registration>>,
    pub(super) readable: Cell<bool>,
    pub(super) writable: Cell<bool>,
    read_waiters: RefCell<Waiters>,
    write_waiters: RefCell<Waiters>,
}

/// The tasks waiting for one direction's readiness. Usually one, kept
/// without allocating; the streams read and write through `&self`, so
/// several tasks may wait at once, and each is listed once (by task, or by
/// `will_wake`) and woken by the next edge: none is forgotten, those that
/// then find `WouldBlock` wait again. The list empties at each edge (and
/// at teardown): a waiter whose future was dropped costs one spurious
/// wake; a foreign waker that changes at every poll adds an entry per
/// poll until then.
#[derive(Default)]
struct Waiters {
    first: Option<Waiter>,
    more: Vec<Waiter>,
}

impl Waiters {
    #[inline]
    fn register(&mut self, cx: &Context<'_>) {
        match &self.first {
            None => self.first = Some(Waiter::new(cx)),
            Some(w) if w.wakes(cx) => {}
            Some(_) => {
                if !self.more.iter().any(|w| w.wakes(cx)) {
                    self.more.push(Waiter::new(cx));
                }
            }
        }
    }

    #[inline]
    fn wake_all(cell: &RefCell<Waiters>) {
        // Taken out first: a woken waker may run code that registers again.
        // The list is touched only when it holds someone (the echo
        // benchmark's path has one waiter, or none).
        let (first, more) = {
            let mut w = cell.borrow_mut();
            let more = if w.more.is_empty() {
                None
            } else {
                Some(std::mem::take(&mut w.more))
            };
            (w.first.take(), more)
        };
        if let Some(w) = first {
            w.wake();
        }
        if let Some(more) = more {
            more.into_iter().for_each(Waiter::wake);
        }
    }
}

impl<S: mio::event::Source + 'static> Io<S> {
    pub(super) fn new(source: S, kind: HandleKind) -> io::Result<Rc<Io<S>>> {
        let io = Rc::new(Io {
            source: RefCell::new(source),
            reg: RefCell::new(None),
            readable: Cell::new(true),
            writable: Cell::new(true),
            read_waiters: RefCell::default(),
            write_waiters: RefCell::default(),
        });
        let reg = with_core("net", |core| {
            Registration::new(core, &mut *io.source.borrow_mut(), io.clone(), kind)
        })?;
        *io.reg.borrow_mut() = Some(reg);
        Ok(io)
    }

    /// Runs `op` until it stops saying `WouldBlock`, waiting for readiness.
    pub(super) fn poll_op<T>(
        &self,
        cx: &mut Context<'_>,
        write: bool,
        mut op: impl FnMut(&mut S) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        let (ready, waiter) = if write {
            (&self.writable, &self.write_waiters)
        } else {
            (&self.readable, &self.read_waiters)
        };
        loop {
            if !ready.get() {
                waiter.borrow_mut().register(cx);
                return Poll::Pending;
            }
            match op(&mut self.source.borrow_mut()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready.set(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }
}

impl<S: mio::event::Source> Ready for Io<S> {
    fn teardown(&self) {
        // The loop is being dropped: the token is no longer ours to
        // deregister (the descriptor closes with the handle that owns it).
        drop(self.reg.borrow_mut().take());
        let waiters = (self.read_waiters.take(), self.write_waiters.take());
        drop(waiters);
    }

    fn ready(self: Rc<Self>, readable: bool, writable: bool) {
        if readable {
            self.readable.set(true);
            Waiters::wake_all(&self.read_waiters);
        }
        if writable {
            self.writable.set(true);
            Waiters::wake_all(&self.write_waiters);
        }
    }
}

impl<S: mio::event::Source> Io<S> {
    /// Takes the source out of the reactor (which holds an `Rc` of this
    /// `Io`, so this must be explicit); the fd closes when the `Io` drops.
    pub(super) fn close(&self) {
        let reg = self.reg.borrow_mut().take();
        if let Some(reg) = reg {
            let handler = reg.deregister(&mut *self.source.borrow_mut());
            drop(handler);
        }
    }
}

impl<S: mio::event::Source> Io<S> {
    pub(super) fn set_ref(&self, on: bool) {
        if let Some(reg) = &*self.reg.borrow() {
            reg.set_ref(on);
        }
    }
}

/// A connected byte stream's socket calls beyond `Read`/`Write`: the
/// connect state (`Ok` once connected, `WouldBlock` while the handshake is
/// under way, the error if it failed) and the write shutdown.
pub(super) trait StreamSocket {
    fn connect_state(&self) -> io::Result<()>;
    fn shutdown_write(&self) -> io::Result<()>;
}

macro_rules! stream_socket {
    ($($t:ty),*) => {$(
        impl StreamSocket for $t {
            fn connect_state(&self) -> io::Result<()> {
                match self.take_error()? {
                    Some(e) => Err(e),
                    None => match self.peer_addr() {
                        Ok(_) => Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            Err(io::ErrorKind::WouldBlock.into())
                        }
                        Err(e) => Err(e),
                    },
                }
            }

            fn shutdown_write(&self) -> io::Result<()> {
                self.shutdown(std::net::Shutdown::Write)
            }
        }
    )*};
}
stream_socket!(mio::net::TcpStream, mio::net::UnixStream);

/// The futures streams' operations, the same for TCP and Unix sockets:
/// one poll function each, which the `async fn`s and the `futures-io`
/// traits share.
impl<S: mio::event::Source + io::Read + io::Write + StreamSocket + 'static> Io<S> {
    /// Waits until a connect started on the source has finished.
    pub(super) async fn connected(&self) -> io::Result<()> {
        self.writable.set(false);
        std::future::poll_fn(|cx| self.poll_op(cx, true, |s| s.connect_state())).await
    }

    pub(super) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_op(cx, false, |s| s.read(buf))
    }

    pub(super) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_op(cx, true, |s| s.write(buf))
    }

    /// Ends writing (FIN for TCP): the peer reads the end.
    pub(super) fn shutdown(&self) -> io::Result<()> {
        self.source.borrow().shutdown_write()
    }

    pub(super) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    pub(super) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    pub(super) async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            buf = &buf[n..];
        }
        Ok(())
    }
}
