//! Name lookup: Node's `dns.lookup`, in both of evloop's styles. A name is
//! resolved by the system's resolver (`getaddrinfo`, so `/etc/hosts` and
//! the system's DNS settings count, as in Node) on the loop's thread pool,
//! as libuv's `uv_getaddrinfo` does, and the callback runs in the poll
//! phase; an IP address given as text answers on a next tick, without the
//! pool, as Node's `lookup` does.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use evloop::dns::{self, Family};
//! let got = std::rc::Rc::new(std::cell::Cell::new(None));
//! let g = got.clone();
//! evloop::run(move || {
//!     dns::lookup("localhost", Family::V4, move |addr| g.set(Some(addr.unwrap())));
//! });
//! assert_eq!(got.get(), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
//! ```

use std::ffi::CString;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::panic::Location;

use crate::rt::callback::Callback;
use crate::rt::context::with_core;
use crate::rt::pool::queue_work;

/// Which addresses a lookup wants: Node's `family` option (0, 4 or 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Either (`family: 0`, Node's default).
    Any,
    /// IPv4 only (`family: 4`).
    V4,
    /// IPv6 only (`family: 6`).
    V6,
}

/// Resolves `host` to its first address, in the resolver's order (Node 20's
/// default, `verbatim`) (`dns.lookup(host, { family }, cb)`).
///
/// # Ordering
/// `cb` runs in the poll phase, after the pool's resolver call; for an IP
/// address given as text, on a next tick queued by this call.
///
/// # Errors
/// `cb` gets Node's errors: `getaddrinfo ENOTFOUND name` for a name that
/// does not resolve, `getaddrinfo EAI_AGAIN name` when the resolver could
/// not be reached, and `InvalidInput` for a name with a NUL byte or an
/// address of the other family.
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn lookup(host: &str, family: Family, cb: impl FnOnce(io::Result<IpAddr>) + 'static) {
    lookup_all(host, family, move |all| cb(all.map(|all| all[0])));
}

/// Resolves `host` to all its addresses (`dns.lookup(host, { all: true })`),
/// never an empty list; ordering and errors as [`lookup`].
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn lookup_all(host: &str, family: Family, cb: impl FnOnce(io::Result<Vec<IpAddr>>) + 'static) {
    let site = Location::caller();
    if let Ok(ip) = host.parse::<IpAddr>() {
        let answer = match family {
            Family::V4 if ip.is_ipv6() => Err(wrong_family(host)),
            Family::V6 if ip.is_ipv4() => Err(wrong_family(host)),
            _ => Ok(vec![ip]),
        };
        with_core("dns::lookup", |core| {
            core.push_tick(Callback::new(move || cb(answer), site))
        });
        return;
    }
    let host = host.to_string();
    let _work = queue_work(
        move || getaddrinfo(&host, family),
        move |r| cb(r.map_err(io::Error::from).and_then(|r| r)),
    );
}

/// The futures form: Node's `dns.promises`.
pub mod promises {
    use std::io;
    use std::net::IpAddr;

    use super::Family;
    use crate::futures::promise::promise;

    /// [`super::lookup`] as a future.
    pub async fn lookup(host: &str, family: Family) -> io::Result<IpAddr> {
        promise(|r| super::lookup(host, family, move |v| r.resolve(v)))
            .await
            .unwrap_or_else(|broken| Err(io::Error::other(broken)))
    }

    /// [`super::lookup_all`] as a future.
    pub async fn lookup_all(host: &str, family: Family) -> io::Result<Vec<IpAddr>> {
        promise(|r| super::lookup_all(host, family, move |v| r.resolve(v)))
            .await
            .unwrap_or_else(|broken| Err(io::Error::other(broken)))
    }
}

fn wrong_family(host: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("getaddrinfo EINVAL {host}: the address is not of the family asked for"),
    )
}

/// Frees a `getaddrinfo` result list when dropped.
struct AddrInfo(*mut libc::addrinfo);

impl Drop for AddrInfo {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from a successful `getaddrinfo` and
            // is freed once, here.
            unsafe { libc::freeaddrinfo(self.0) }
        }
    }
}

/// The resolver call, on a pool thread: every address of `host` of
/// `family`, each once, in the resolver's order.
fn getaddrinfo(host: &str, family: Family) -> io::Result<Vec<IpAddr>> {
    let name = CString::new(host).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "getaddrinfo EINVAL {}: the name has a NUL byte",
                host.escape_debug()
            ),
        )
    })?;
    // SAFETY: `addrinfo` is plain data (integers and null pointers); all
    // zeros is the empty hint `getaddrinfo` documents.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = match family {
        Family::Any => libc::AF_UNSPEC,
        Family::V4 => libc::AF_INET,
        Family::V6 => libc::AF_INET6,
    };
    // One entry per address (not one per socket type), as Node asks.
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list = AddrInfo(std::ptr::null_mut());
    // SAFETY: `name` is a NUL-terminated string, `hints` a valid hint, and
    // `list.0` a place for the result, which `AddrInfo` frees.
    let rc = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut list.0) };
    if rc != 0 {
        return Err(resolver_error(rc, host));
    }
    let mut out = Vec::new();
    let mut at = list.0;
    while !at.is_null() {
        // SAFETY: `at` is a node of the list `getaddrinfo` returned, alive
        // until `list` drops; its `ai_addr` points at a socket address of
        // `ai_family`'s type (checked before each read).
        let (ip, next) = unsafe {
            let ai = &*at;
            let ip = match ai.ai_family {
                libc::AF_INET if !ai.ai_addr.is_null() => {
                    let sin = &*(ai.ai_addr as *const libc::sockaddr_in);
                    Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        sin.sin_addr.s_addr,
                    ))))
                }
                libc::AF_INET6 if !ai.ai_addr.is_null() => {
                    let sin6 = &*(ai.ai_addr as *const libc::sockaddr_in6);
                    Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
                }
                _ => None,
            };
            (ip, ai.ai_next)
        };
        if let Some(ip) = ip
            && !out.contains(&ip)
        {
            out.push(ip);
        }
        at = next;
    }
    if out.is_empty() {
        return Err(resolver_error(libc::EAI_NONAME, host));
    }
    Ok(out)
}

/// Node's error for a resolver failure: `getaddrinfo ENOTFOUND name`.
fn resolver_error(rc: i32, host: &str) -> io::Error {
    let (code, kind) = match rc {
        libc::EAI_NONAME | libc::EAI_NODATA => ("ENOTFOUND", io::ErrorKind::NotFound),
        libc::EAI_AGAIN => ("EAI_AGAIN", io::ErrorKind::TimedOut),
        libc::EAI_FAIL => ("EAI_FAIL", io::ErrorKind::Other),
        libc::EAI_MEMORY => ("ENOMEM", io::ErrorKind::OutOfMemory),
        libc::EAI_FAMILY => ("EAI_FAMILY", io::ErrorKind::InvalidInput),
        libc::EAI_SYSTEM => return io::Error::last_os_error(),
        _ => ("EAI_FAIL", io::ErrorKind::Other),
    };
    io::Error::new(kind, format!("getaddrinfo {code} {host}"))
}
