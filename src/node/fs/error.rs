//! Errors as Node's `fs` prints them: `CODE: text, op 'path'`, with the
//! OS error kept as the source.

use std::io;
use std::path::{Path, PathBuf};

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
/// ...), or for any OS error; `None` for other errors. The other fields
/// Node's error has are on [`FsError`].
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
    match FsError::of(e) {
        Some(n) => n.code,
        None => e.raw_os_error().map(|code| errno_name(code).0),
    }
}

/// Rewrites `e` as Node would print it: `CODE: text, op 'path'`.
pub(super) fn node_error(
    e: io::Error,
    op: &'static str,
    path: &Path,
    dest: Option<&Path>,
) -> io::Error {
    let target = match dest {
        Some(d) => format!("'{}' -> '{}'", path.display(), d.display()),
        None => format!("'{}'", path.display()),
    };
    let (code, message) = match e.raw_os_error() {
        Some(errno) => {
            let (name, text) = errno_name(errno);
            (Some(name), format!("{name}: {text}, {op} {target}"))
        }
        None => (None, format!("{e}, {op} {target}")),
    };
    FsError {
        kind: e.kind(),
        message,
        code,
        syscall: Some(op),
        path: Some(path.to_path_buf()),
        dest: dest.map(Path::to_path_buf),
        source: e.raw_os_error().map(|_| e),
    }
    .into()
}

/// Node's `ERR_FS_FILE_TOO_LARGE`, for a file of `size` bytes past `limit`
/// (as the message says it: `2 GiB`).
pub(super) fn too_large(size: u64, limit: &str, path: &Path) -> io::Error {
    let message = format!(
        "ERR_FS_FILE_TOO_LARGE: File size ({size}) is greater than {limit}, read '{}'",
        path.display()
    );
    FsError {
        kind: io::ErrorKind::FileTooLarge,
        message,
        code: Some("ERR_FS_FILE_TOO_LARGE"),
        syscall: Some("read"),
        path: Some(path.to_path_buf()),
        dest: None,
        source: None,
    }
    .into()
}

/// An error with Node's `message` and `code` (which [`error_code`]
/// returns), for the other Node modules (`spawn nope ENOENT`).
pub(in crate::node) fn with_code(
    kind: io::ErrorKind,
    message: String,
    code: &'static str,
) -> io::Error {
    FsError {
        kind,
        message,
        code: Some(code),
        syscall: None,
        path: None,
        dest: None,
        source: None,
    }
    .into()
}

/// An `fs` error's fields, as Node's error object has them: `code`,
/// `syscall`, `path`, `dest`, and its `message`
/// (`ENOENT: no such file or directory, open 'x'`) as its `Display`.
///
/// Every `fs` operation returns an [`io::Error`] (so `?` and
/// [`io::Error::kind`] work as usual); the fields are inside it, reached
/// with [`FsError::of`]. An OS error is kept as the
/// [`source`](std::error::Error::source), and its number as
/// [`raw_os_error`](FsError::raw_os_error). `io::Error::from(fs_error)`
/// goes back, keeping the kind.
///
/// ```
/// use evloop::fs::{self, FsError};
/// let e = evloop::run_async(fs::promises::rename("no-such-a", "no-such-b")).unwrap_err();
/// let f = FsError::of(&e).unwrap();
/// assert_eq!(f.code(), Some("ENOENT"));
/// assert_eq!(f.syscall(), Some("rename"));
/// assert_eq!(f.path(), Some(std::path::Path::new("no-such-a")));
/// assert_eq!(f.dest(), Some(std::path::Path::new("no-such-b")));
/// assert_eq!(f.raw_os_error(), Some(2));
/// assert_eq!(f.to_string(), "ENOENT: no such file or directory, rename 'no-such-a' -> 'no-such-b'");
/// assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
/// ```
#[derive(Debug)]
pub struct FsError {
    kind: io::ErrorKind,
    message: String,
    code: Option<&'static str>,
    syscall: Option<&'static str>,
    path: Option<PathBuf>,
    dest: Option<PathBuf>,
    source: Option<io::Error>,
}

impl FsError {
    /// The fields of an error from `fs` (or from another evloop module
    /// that gives Node's codes, such as `child_process`); `None` for any
    /// other error, e.g. one built by the caller.
    pub fn of(e: &io::Error) -> Option<&FsError> {
        e.get_ref()?.downcast_ref::<FsError>()
    }

    /// Node's `err.code`: `"ENOENT"`, `"EACCES"`, `"ERR_FS_FILE_TOO_LARGE"`,
    /// ...; `"EUNKNOWN"` for an OS error evloop's table does not name;
    /// `None` for an error that did not come from the OS (a path with a
    /// NUL byte, a write the OS accepted no byte of).
    pub fn code(&self) -> Option<&'static str> {
        self.code
    }

    /// Node's `err.syscall`: the operation that failed (`"open"`,
    /// `"lstat"`, `"scandir"`, `"mkdtemp"`, ...); `None` where Node has none.
    pub fn syscall(&self) -> Option<&'static str> {
        self.syscall
    }

    /// Node's `err.path`: the path the operation was given (for `mkdtemp`,
    /// the name it tried), exactly, not made absolute.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Node's `err.dest`: the second path of a two-path operation
    /// (`rename`, `copyfile`, `symlink`'s link), else `None`.
    pub fn dest(&self) -> Option<&Path> {
        self.dest.as_deref()
    }

    /// The OS error number (positive, as `libc`'s; Node's `err.errno` is
    /// its negation), if the error came from the OS.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.as_ref().and_then(io::Error::raw_os_error)
    }

    /// The kind the wrapping [`io::Error`] has.
    pub fn kind(&self) -> io::ErrorKind {
        self.kind
    }
}

impl From<FsError> for io::Error {
    fn from(e: FsError) -> io::Error {
        io::Error::new(e.kind, e)
    }
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// A copy of `e` for a second caller (a stream reports its first error to
/// every later write): same kind, message and fields; the OS source is
/// rebuilt from its number.
pub(super) fn copy_error(e: &io::Error) -> io::Error {
    match FsError::of(e) {
        Some(f) => FsError {
            kind: f.kind,
            message: f.message.clone(),
            code: f.code,
            syscall: f.syscall,
            path: f.path.clone(),
            dest: f.dest.clone(),
            source: f.raw_os_error().map(io::Error::from_raw_os_error),
        }
        .into(),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
