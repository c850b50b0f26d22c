//! Connecting a [`Socket`](super::Socket) to a host name, as Node's
//! `lookupAndConnect`: the name is looked up on the thread pool, each
//! address found is a `lookup` event, then the addresses are tried in
//! order, a failed connect moving on to the next.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use crate::dns::{self, Family};
use crate::rt::callback::Callback;
use crate::rt::context::with_core;

use super::super::error::node_error;
use super::super::handler::Lent;
use super::super::stream::Stream;
use super::SocketInner;

impl SocketInner {
    /// Looks `host` up (Node 20's `all: true`, any family), then connects.
    #[track_caller]
    pub(super) fn look_up(self: &Rc<Self>, host: String, port: u16) {
        let me = self.clone();
        let name = host.clone();
        dns::lookup_all(&host, Family::Any, move |found| {
            me.looked_up(found, &name, port)
        });
    }

    fn emit_lookup(&self, found: Result<IpAddr, &io::Error>, host: &str) {
        if let Some(mut lent) = Lent::take(&self.on.lookup) {
            lent.handler()(found, host);
        }
    }

    /// In the poll phase: `lookup` events, then the first connect; or the
    /// lookup's error (Node: `lookup`, then `error` on a next tick).
    fn looked_up(self: &Rc<Self>, found: io::Result<Vec<IpAddr>>, host: &str, port: u16) {
        // Node: a socket destroyed during the lookup ignores its answer.
        if self.destroyed.get() {
            return;
        }
        match found {
            Err(e) => {
                self.emit_lookup(Err(&e), host);
                let me = self.clone();
                let mut e = Some(e);
                with_core("net::connect", |core| {
                    core.push_tick(Callback::new(
                        move || {
                            if let Some(e) = e.take() {
                                me.fail(e);
                            }
                        },
                        std::panic::Location::caller(),
                    ))
                });
            }
            Ok(ips) => {
                for &ip in &ips {
                    self.emit_lookup(Ok(ip), host);
                    if self.destroyed.get() {
                        return;
                    }
                }
                self.untried
                    .borrow_mut()
                    .extend(ips.into_iter().map(|ip| SocketAddr::from((ip, port))));
                self.connect_next(io::Error::other("no address to connect to"));
            }
        }
    }

    /// Starts a connect to the next untried address, dropping the stream of
    /// a failed attempt; with none left, fails with `last` (the previous
    /// attempt's error).
    pub(super) fn connect_next(self: &Rc<Self>, mut last: io::Error) {
        let old = (
            self.stream.borrow_mut().take(),
            self.reg.borrow_mut().take(),
        );
        if let (Some(mut s), Some(reg)) = old {
            let handler = reg.deregister(&mut s);
            drop((s, handler));
        }
        loop {
            let next = self.untried.borrow_mut().pop_front();
            let Some(addr) = next else {
                self.fail(last);
                return;
            };
            self.peer.set(Some(addr));
            match mio::net::TcpStream::connect(addr) {
                Ok(stream) => {
                    let stream = Stream::Tcp(stream);
                    // Settings asked for during the lookup. Node ignores
                    // their failure too: the connection goes on without.
                    if let Some(on) = self.no_delay.get()
                        && let Err(e) = stream.set_nodelay(on)
                    {
                        log::debug!(target: "evloop", "TCP_NODELAY after lookup: {e}");
                    }
                    if let Some(on) = self.keep_alive.get()
                        && let Err(e) = stream.set_keepalive(on)
                    {
                        log::debug!(target: "evloop", "SO_KEEPALIVE after lookup: {e}");
                    }
                    *self.stream.borrow_mut() = Some(stream);
                    match with_core("net::connect", |core| self.register(core)) {
                        Ok(()) => return,
                        Err(e) => {
                            drop(self.stream.borrow_mut().take());
                            last = e;
                        }
                    }
                }
                Err(e) => last = node_error(e, "connect", Some(addr)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::net::create_server;

    /// Known difference (design.md): the callback socket tries a name's
    /// addresses one after the other too (Node 20 races the families): a
    /// refused first address falls back to the next, and `connect` follows.
    #[test]
    fn addresses_are_tried_in_order() {
        let _w = crate::test_watchdog::watchdog();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        crate::run(move || {
            let server = create_server(|s| s.end());
            let port = server.listen("127.0.0.1:0").unwrap().port();
            let inner = SocketInner::new(None, true);
            let socket = super::super::Socket {
                inner: inner.clone(),
            };
            let g2 = g.clone();
            socket.on_connect(move || g2.borrow_mut().push(socket_peer(&inner)));
            socket.on_close(move |_| server.close(|| {}));
            let ips = vec!["127.0.0.2".parse().unwrap(), "127.0.0.1".parse().unwrap()];
            socket.inner.looked_up(Ok(ips), "test", port);
        });
        assert_eq!(*got.borrow(), [Some("127.0.0.1".parse().unwrap())]);
    }

    /// `set_no_delay`/`set_keep_alive` while the name is looked up (no
    /// socket yet) are kept and applied to the connection, as Node applies
    /// them once it has a handle; on a destroyed socket they are errors.
    #[test]
    fn socket_options_set_during_the_lookup_apply_to_the_connection() {
        let _w = crate::test_watchdog::watchdog();
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        crate::run(move || {
            let server = create_server(|s| s.end());
            let port = server.listen("127.0.0.1:0").unwrap().port();
            let socket = crate::net::connect(("localhost", port), || {}).unwrap();
            assert!(socket.inner.stream.borrow().is_none(), "still looking up");
            socket.set_no_delay(true).unwrap();
            socket.set_keep_alive(true).unwrap();
            let inner = socket.inner.clone();
            socket.on_connect(move || {
                let stream = inner.stream.borrow();
                let Some(Stream::Tcp(tcp)) = stream.as_ref() else {
                    panic!("a TCP stream")
                };
                let keep_alive = socket2::SockRef::from(tcp).keepalive().unwrap();
                g.borrow_mut().push((tcp.nodelay().unwrap(), keep_alive));
            });
            socket.on_close(move |_| server.close(|| {}));
            let destroyed = crate::net::connect(("localhost", port), || {}).unwrap();
            destroyed.destroy();
            let err = destroyed.set_no_delay(true).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotConnected);
            let err = destroyed.set_keep_alive(true).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotConnected);
        });
        assert_eq!(*got.borrow(), [(true, true)]);
    }

    fn socket_peer(inner: &Rc<SocketInner>) -> Option<IpAddr> {
        inner.peer.get().map(|a| a.ip())
    }
}
