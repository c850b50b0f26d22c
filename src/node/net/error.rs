//! Socket errors as Node reports them: `err.code` (`"ECONNRESET"`) and the
//! message (`connect ECONNREFUSED 127.0.0.1:1`). Shared by the server, the
//! callback socket and the futures types.

use std::io;

/// Node's `err.code` for a socket error, `"ECONNRESET"`, `"EPIPE"`, ...
fn code(e: &io::Error) -> &'static str {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "ECONNREFUSED",
        ConnectionReset => "ECONNRESET",
        ConnectionAborted => "ECONNABORTED",
        BrokenPipe => "EPIPE",
        TimedOut => "ETIMEDOUT",
        AddrInUse => "EADDRINUSE",
        AddrNotAvailable => "EADDRNOTAVAIL",
        NotConnected => "ENOTCONN",
        HostUnreachable => "EHOSTUNREACH",
        NetworkUnreachable => "ENETUNREACH",
        NotFound => "ENOENT",
        PermissionDenied => "EACCES",
        _ => match e.raw_os_error() {
            Some(libc::EMFILE) => "EMFILE",
            Some(libc::ENFILE) => "ENFILE",
            Some(libc::EMSGSIZE) => "EMSGSIZE",
            _ => "EUNKNOWN",
        },
    }
}

/// Rewrites `e` as Node prints it: `connect ECONNREFUSED 127.0.0.1:1`.
pub(super) fn node_error(
    e: io::Error,
    op: &str,
    target: Option<std::net::SocketAddr>,
) -> io::Error {
    let message = match target {
        Some(addr) => format!("{op} {} {addr}", code(&e)),
        None => format!("{op} {}", code(&e)),
    };
    io::Error::new(e.kind(), message)
}

/// Rewrites `e` as Node prints it for a Unix socket path:
/// `connect ENOENT /tmp/x.sock`.
pub(super) fn node_error_path(e: io::Error, op: &str, path: &std::path::Path) -> io::Error {
    io::Error::new(e.kind(), format!("{op} {} {}", code(&e), path.display()))
}
