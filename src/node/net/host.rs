//! [`HostPort`]: where a socket connects, listens, binds or sends, as an
//! IP address or a host name, each with a port. A name is looked up with
//! [`dns`](crate::dns) on the loop's thread pool, as Node's `net` and
//! `dgram` do; it is never resolved on the loop's thread (std's
//! `ToSocketAddrs` would block the loop in `getaddrinfo`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A host and a port: an IP address, or a host name that evloop looks up
/// on the thread pool before it connects (Node's `host` and `port`
/// options). Made with `into()` from a [`SocketAddr`], an
/// `(IpAddr, u16)`, a `("name", port)` pair or a `"host:port"` string
/// (`"127.0.0.1:80"`, `"[::1]:80"`, `"localhost:80"`).
///
/// A string that is neither an address nor `name:port` is kept as it is,
/// and the call it is given to fails with `InvalidInput` naming it.
///
/// ```
/// use evloop::net::HostPort;
/// let by_name: HostPort = ("localhost", 80).into();
/// assert_eq!(by_name.host(), "localhost");
/// assert_eq!(by_name.port(), Some(80));
/// let by_ip: HostPort = "127.0.0.1:80".into();
/// assert_eq!(by_ip.host(), "127.0.0.1");
/// let bad: HostPort = "no port".into();
/// assert_eq!(bad.port(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort(Target);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Ip(SocketAddr),
    Name(String, u16),
    Bad(String),
}

/// What a [`HostPort`] asks for, for the code that connects or sends.
pub(super) enum Resolve {
    /// An IP address: no lookup (Node skips it, and emits no `lookup`).
    Ip(SocketAddr),
    /// A name to look up on the pool, and the port.
    Name(String, u16),
}

impl HostPort {
    /// The host as given: a name, or an IP address's text.
    pub fn host(&self) -> String {
        match &self.0 {
            Target::Ip(a) => a.ip().to_string(),
            Target::Name(h, _) => h.clone(),
            Target::Bad(s) => s.clone(),
        }
    }

    /// The port; `None` for a string without one.
    pub fn port(&self) -> Option<u16> {
        match &self.0 {
            Target::Ip(a) => Some(a.port()),
            Target::Name(_, p) => Some(*p),
            Target::Bad(_) => None,
        }
    }

    /// An address, or a name to look up; `InvalidInput` (`op EINVAL ...`)
    /// for a string that is neither.
    pub(super) fn resolve(self, op: &str) -> io::Result<Resolve> {
        match self.0 {
            Target::Ip(a) => Ok(Resolve::Ip(a)),
            Target::Name(h, p) => Ok(Resolve::Name(h, p)),
            Target::Bad(s) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{op} EINVAL {s:?}: not an address or a host name with a port"),
            )),
        }
    }

    /// The address for a call that cannot wait for a lookup: a name is
    /// `InvalidInput`, naming the call that looks it up (`instead`).
    pub(super) fn ip_only(self, op: &str, instead: &str) -> io::Result<SocketAddr> {
        match self.resolve(op)? {
            Resolve::Ip(a) => Ok(a),
            Resolve::Name(h, p) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{op} EINVAL {h}:{p}: a host name is looked up on the thread pool \
                     and cannot be waited for here: use {instead}"
                ),
            )),
        }
    }
}

impl From<SocketAddr> for HostPort {
    fn from(a: SocketAddr) -> HostPort {
        HostPort(Target::Ip(a))
    }
}

impl From<&SocketAddr> for HostPort {
    fn from(a: &SocketAddr) -> HostPort {
        HostPort(Target::Ip(*a))
    }
}

impl From<SocketAddrV4> for HostPort {
    fn from(a: SocketAddrV4) -> HostPort {
        HostPort(Target::Ip(a.into()))
    }
}

impl From<SocketAddrV6> for HostPort {
    fn from(a: SocketAddrV6) -> HostPort {
        HostPort(Target::Ip(a.into()))
    }
}

impl From<(IpAddr, u16)> for HostPort {
    fn from(a: (IpAddr, u16)) -> HostPort {
        HostPort(Target::Ip(a.into()))
    }
}

impl From<(Ipv4Addr, u16)> for HostPort {
    fn from(a: (Ipv4Addr, u16)) -> HostPort {
        HostPort(Target::Ip(a.into()))
    }
}

impl From<(Ipv6Addr, u16)> for HostPort {
    fn from(a: (Ipv6Addr, u16)) -> HostPort {
        HostPort(Target::Ip(a.into()))
    }
}

impl From<(&str, u16)> for HostPort {
    /// An IP address's text is an address (no lookup), anything else a
    /// name.
    fn from((host, port): (&str, u16)) -> HostPort {
        match host.parse::<IpAddr>() {
            Ok(ip) => HostPort(Target::Ip((ip, port).into())),
            Err(_) => HostPort(Target::Name(host.to_string(), port)),
        }
    }
}

impl From<(String, u16)> for HostPort {
    fn from((host, port): (String, u16)) -> HostPort {
        (host.as_str(), port).into()
    }
}

impl From<&str> for HostPort {
    /// `"1.2.3.4:80"`, `"[::1]:80"` or `"name:80"`.
    fn from(s: &str) -> HostPort {
        if let Ok(a) = s.parse::<SocketAddr>() {
            return HostPort(Target::Ip(a));
        }
        match s.rsplit_once(':') {
            Some((host, port))
                if !host.is_empty() && !host.contains(':') && host.parse::<IpAddr>().is_err() =>
            {
                match port.parse::<u16>() {
                    Ok(port) => HostPort(Target::Name(host.to_string(), port)),
                    Err(_) => HostPort(Target::Bad(s.to_string())),
                }
            }
            _ => HostPort(Target::Bad(s.to_string())),
        }
    }
}

impl From<String> for HostPort {
    fn from(s: String) -> HostPort {
        s.as_str().into()
    }
}

impl From<&String> for HostPort {
    fn from(s: &String) -> HostPort {
        s.as_str().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_become_addresses_names_or_errors() {
        let _w = crate::test_watchdog::watchdog();
        let ip: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!(HostPort::from("127.0.0.1:80"), HostPort::from(ip));
        assert_eq!(HostPort::from(("127.0.0.1", 80)), HostPort::from(ip));
        assert!(matches!(HostPort::from("[::1]:9").0, Target::Ip(_)));
        assert_eq!(
            HostPort::from("localhost:80"),
            HostPort::from(("localhost", 80))
        );
        for bad in ["localhost", "localhost:x", ":80", "1.2.3.4:99999", "::1:80"] {
            let e = HostPort::from(bad).resolve("connect").err().expect(bad);
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
            assert!(e.to_string().starts_with("connect EINVAL"), "{e}");
        }
        let e = HostPort::from(("localhost", 80))
            .ip_only("listen", "Server::listen_host")
            .unwrap_err();
        assert!(e.to_string().contains("use Server::listen_host"), "{e}");
    }
}
