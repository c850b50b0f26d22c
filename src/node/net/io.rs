//! A registered source and the readiness seen for it: what the futures
//! types (`TcpListener`, `TcpStream`, `dgram::UdpSocket`) wait on.

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
    read_waiter: RefCell<Option<Waiter>>,
    write_waiter: RefCell<Option<Waiter>>,
}

impl<S: mio::event::Source + 'static> Io<S> {
    pub(super) fn new(source: S, kind: HandleKind) -> io::Result<Rc<Io<S>>> {
        let io = Rc::new(Io {
            source: RefCell::new(source),
            reg: RefCell::new(None),
            readable: Cell::new(true),
            writable: Cell::new(true),
            read_waiter: RefCell::new(None),
            write_waiter: RefCell::new(None),
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
            (&self.writable, &self.write_waiter)
        } else {
            (&self.readable, &self.read_waiter)
        };
        loop {
            if !ready.get() {
                Waiter::register(&mut waiter.borrow_mut(), cx);
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
        let waiters = (self.read_waiter.take(), self.write_waiter.take());
        drop(waiters);
    }

    fn ready(self: Rc<Self>, readable: bool, writable: bool) {
        if readable {
            self.readable.set(true);
            if let Some(w) = self.read_waiter.borrow_mut().take() {
                w.wake();
            }
        }
        if writable {
            self.writable.set(true);
            if let Some(w) = self.write_waiter.borrow_mut().take() {
                w.wake();
            }
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

/// A stream that may still be connecting: `Ok` once connected,
/// `WouldBlock` while the handshake is under way, the error if it failed.
pub(super) trait Connecting {
    fn connect_state(&self) -> io::Result<()>;
}

macro_rules! connecting {
    ($($t:ty),*) => {$(
        impl Connecting for $t {
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
        }
    )*};
}
connecting!(mio::net::TcpStream, mio::net::UnixStream);

/// The futures streams' operations, the same for TCP and Unix sockets.
impl<S: mio::event::Source + io::Read + io::Write + Connecting + 'static> Io<S> {
    /// Waits until a connect started on the source has finished.
    pub(super) async fn connected(&self) -> io::Result<()> {
        self.writable.set(false);
        std::future::poll_fn(|cx| self.poll_op(cx, true, |s| s.connect_state())).await
    }

    pub(super) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_op(cx, false, |s| s.read(buf))).await
    }

    pub(super) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_op(cx, true, |s| s.write(buf))).await
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
