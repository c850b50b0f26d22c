//! UDP datagrams: Node's `dgram` module, in both of evloop's styles. The
//! callback [`Socket`] has Node's events (`listening`, `message`, `error`,
//! `close`) and `send` with a callback; the future [`UdpSocket`] has
//! `recv_from` and `send_to`. The code lives with `net`'s
//! (`src/node/net/udp.rs`), whose reactor plumbing it shares.
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! use evloop::dgram::{self, Family};
//! let got = Rc::new(RefCell::new(Vec::new()));
//! let g = got.clone();
//! evloop::run(move || {
//!     let socket = dgram::create_socket(Family::V4);
//!     let me = socket.clone();
//!     socket.on_message(move |data, from| {
//!         g.borrow_mut().push((data.to_vec(), from.family()));
//!         me.close(|| {}).unwrap();
//!     });
//!     let addr = socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
//!     socket.send("ping", addr, |sent| assert_eq!(sent.unwrap(), 4));
//! });
//! assert_eq!(*got.borrow(), [(b"ping".to_vec(), "IPv4")]);
//! ```

pub use super::net::HostPort;
pub use super::net::udp::{Family, RemoteInfo, Socket, UdpSocket, create_socket};
