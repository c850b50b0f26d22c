//! Errors as Node's `fs` prints them: `CODE: text, op 'path'`, with the
//! OS error kept as the source.

use std::io;
use std::path::Path;

/// Node's error code and text for an OS error number.
pub(in crate::node) fn errno_name(code: i32) -> (&'static str, &'static str) {
    match code {
        libc::ENOENT => ("ENOENT", "no such file or directory"),
        libc::EACCES => ("EACCES", "permission denied"),
        libc::EPERM => ("EPERM", "operation not permitted"),
        libc::EISDIR => ("EISDIR", "illegal operation on a directory"),
        libc::ENOTDIR => ("ENOTDIR", "not a directory"),
        libc::EEXIST => ("EEXIST", "file already exists"),
        libc::ENOTEMPTY => ("ENOTEMPTY", "directory not empty"),
        libc::EBADF => ("EBADF", "bad file descriptor"),
        libc::EMFILE => ("EMFILE", "too many open files"),
        libc::ENFILE => ("ENFILE", "file table overflow"),
        libc::ENOSPC => ("ENOSPC", "no space left on device"),
        libc::EROFS => ("EROFS", "read-only file system"),
        libc::EINVAL => ("EINVAL", "invalid argument"),
        libc::EXDEV => ("EXDEV", "cross-device link not permitted"),
        libc::ELOOP => ("ELOOP", "too many symbolic links encountered"),
        libc::ENAMETOOLONG => ("ENAMETOOLONG", "name too long"),
        libc::EBUSY => ("EBUSY", "resource busy or locked"),
        libc::EIO => ("EIO", "i/o error"),
        libc::EAGAIN => ("EAGAIN", "resource temporarily unavailable"),
        libc::EFBIG => ("EFBIG", "file too large"),
        libc::ECANCELED => ("ECANCELED", "operation canceled"),
        _ => ("EUNKNOWN", "unknown error"),
    }
}

/// Node's `err.code` for an error from this module (`"ENOENT"`, `"EACCES"`,
/// ...), or for any OS error; `None` for other errors.
///
/// ```
/// evloop::run(|| {
///     evloop::fs::read_file("no/such/file", |r| {
///         let e = r.unwrap_err();
///         assert_eq!(evloop::fs::error_code(&e), Some("ENOENT"));
///         assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
///         assert_eq!(e.to_string(), "ENOENT: no such file or directory, open 'no/such/file'");
///     });
/// });
/// ```
pub fn error_code(e: &io::Error) -> Option<&'static str> {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<NodeError>())
    {
        Some(n) => Some(n.code),
        None => e.raw_os_error().map(|code| errno_name(code).0),
    }
}

/// Rewrites `e` as Node would print it: `CODE: text, op 'path'`.
pub(super) fn node_error(e: io::Error, op: &str, path: &Path, dest: Option<&Path>) -> io::Error {
    let target = match dest {
        Some(d) => format!("'{}' -> '{}'", path.display(), d.display()),
        None => format!("'{}'", path.display()),
    };
    let message = match e.raw_os_error() {
        Some(code) => {
            let (name, text) = errno_name(code);
            format!("{name}: {text}, {op} {target}")
        }
        None => format!("{e}, {op} {target}"),
    };
    match e.raw_os_error() {
        // Keep the OS code reachable through `raw_os_error()`'s kind and the
        // source chain.
        Some(code) => io::Error::new(
            e.kind(),
            NodeError {
                message,
                code: errno_name(code).0,
                source: Some(e),
            },
        ),
        None => io::Error::new(e.kind(), message),
    }
}

/// Node's `ERR_FS_FILE_TOO_LARGE`, for a file of `size` bytes past `limit`
/// (as the message says it: `2 GiB`).
pub(super) fn too_large(size: u64, limit: &str, path: &Path) -> io::Error {
    let message = format!(
        "ERR_FS_FILE_TOO_LARGE: File size ({size}) is greater than {limit}, read '{}'",
        path.display()
    );
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        NodeError {
            message,
            code: "ERR_FS_FILE_TOO_LARGE",
            source: None,
        },
    )
}

/// An error with Node's `message` and `code` (which [`error_code`]
/// returns), for the other Node modules (`spawn nope ENOENT`).
pub(in crate::node) fn with_code(
    kind: io::ErrorKind,
    message: String,
    code: &'static str,
) -> io::Error {
    io::Error::new(
        kind,
        NodeError {
            message,
            code,
            source: None,
        },
    )
}

/// An error with Node's message and code; an OS error is its source.
#[derive(Debug)]
struct NodeError {
    message: String,
    code: &'static str,
    source: Option<io::Error>,
}

impl std::fmt::Display for NodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}
