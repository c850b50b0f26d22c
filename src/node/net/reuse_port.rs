//! One loop per core on a shared port, like Node's `cluster` module:
//! [`reuse_port_listener`] binds with `SO_REUSEPORT`, [`cluster`] starts the
//! loops.

use std::io;

/// A listener bound with `SO_REUSEPORT` (and `SO_REUSEADDR`), so several
/// loops, one per thread, can each accept on the same port and the kernel
/// spreads connections between them. Port 0 picks a free port; bind the
/// others to [`std::net::TcpListener::local_addr`] of the first.
///
/// # Errors
/// The OS error from socket, setsockopt, bind or listen.
pub fn reuse_port_listener(addr: std::net::SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Runs `main` on `threads` threads, each with its own event loop and its
/// own `SO_REUSEPORT` listener on the same address, like Node's `cluster`
/// module (one loop per core). `main` gets the listener as the loop's main
/// script, typically to hand it to [`Server::listen_on`] or
/// [`TcpListener::from_std`]; each loop then runs until it has nothing
/// left to do.
///
/// # Errors
/// Binding fails (e.g. the port is taken).
///
/// [`Server::listen_on`]: super::Server::listen_on
/// [`TcpListener::from_std`]: super::TcpListener::from_std
pub fn cluster<F>(threads: usize, addr: std::net::SocketAddr, main: F) -> io::Result<Cluster>
where
    F: Fn(std::net::TcpListener) + Send + Sync + 'static,
{
    let first = reuse_port_listener(addr)?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..threads.max(1) {
        listeners.push(reuse_port_listener(addr)?);
    }
    let main = std::sync::Arc::new(main);
    let handles = listeners
        .into_iter()
        .enumerate()
        .map(|(i, listener)| {
            let main = main.clone();
            std::thread::Builder::new()
                .name(format!("evloop-cluster-{i}"))
                .spawn(move || {
                    crate::EventLoop::new()
                        .expect("evloop: cannot create an event loop for a cluster thread")
                        .run_main(move || main(listener));
                })
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Cluster { addr, handles })
}

/// The threads of a [`cluster`].
#[derive(Debug)]
pub struct Cluster {
    addr: std::net::SocketAddr,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Cluster {
    /// The address every loop listens on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Waits for every loop to finish.
    ///
    /// # Errors
    /// If a loop's thread panicked: the number of loops that did.
    pub fn join(self) -> Result<(), usize> {
        let failed = self
            .handles
            .into_iter()
            .filter_map(|h| h.join().err())
            .count();
        if failed == 0 { Ok(()) } else { Err(failed) }
    }
}
