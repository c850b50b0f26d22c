//! The inotify system calls `fs::watch` needs, which std does not offer:
//! `inotify_init1`, `inotify_add_watch`, `inotify_rm_watch`, and the
//! parsing of the `inotify_event` records a `read` returns (safe code: the
//! records are decoded from bytes, never cast).

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// libuv's mask (`uv_fs_event_start` on Linux): content and attribute
/// changes, and every way a name appears or goes.
pub(super) const MASK: u32 = libc::IN_ATTRIB
    | libc::IN_CREATE
    | libc::IN_MODIFY
    | libc::IN_DELETE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO;

/// A new non-blocking, close-on-exec inotify descriptor, as a `File` (a
/// `read` of it returns whole event records).
pub(super) fn init() -> io::Result<File> {
    // SAFETY: `inotify_init1` takes a flags word by value and touches no
    // memory of ours; it returns a new descriptor or -1 with errno.
    let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us `fd`, open and owned by nobody else;
    // `OwnedFd` closes it once.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Watches `path` for `mask` on `fd`: the watch descriptor (the same one
/// again for an inode already watched).
pub(super) fn add_watch(fd: &File, path: &Path, mask: u32) -> io::Result<i32> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `fd` is an open inotify descriptor; `c_path` is a
    // NUL-terminated string that outlives the call, which only reads it.
    let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c_path.as_ptr(), mask) };
    if wd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(wd)
    }
}

/// Removes the watch `wd` (already gone, as after `IN_IGNORED`, is fine).
pub(super) fn rm_watch(fd: &File, wd: i32) {
    // SAFETY: two integers by value; no memory of ours is touched.
    let _ = unsafe { libc::inotify_rm_watch(fd.as_raw_fd(), wd) };
}

/// One decoded `inotify_event`.
pub(super) struct Event<'a> {
    pub(super) wd: i32,
    pub(super) mask: u32,
    /// The name in the watched directory; `None` for an event about the
    /// watched path itself.
    pub(super) name: Option<&'a OsStr>,
}

/// Size of `struct inotify_event` without its name: wd, mask, cookie, len.
const HEADER: usize = 16;

/// The records in `buf` (what one `read` returned); a truncated tail,
/// which the kernel never produces, ends the list.
pub(super) fn events(mut buf: &[u8]) -> impl Iterator<Item = Event<'_>> {
    std::iter::from_fn(move || {
        if buf.len() < HEADER {
            return None;
        }
        let word = |i: usize| u32::from_ne_bytes(buf[i..i + 4].try_into().expect("4 bytes"));
        let (wd, mask, len) = (word(0) as i32, word(4), word(12) as usize);
        let name = buf.get(HEADER..HEADER + len)?;
        // The name is NUL-padded to an aligned length.
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let name = (end > 0).then(|| OsStr::from_bytes(&name[..end]));
        let event = Event { wd, mask, name };
        buf = &buf[HEADER + len..];
        Some(event)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(wd: i32, mask: u32, name: &[u8], len: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&wd.to_ne_bytes());
        v.extend_from_slice(&mask.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(&len.to_ne_bytes());
        let mut n = name.to_vec();
        n.resize(len as usize, 0);
        v.extend_from_slice(&n);
        v
    }

    #[test]
    fn records_decode_with_and_without_names_and_a_torn_tail_ends_them() {
        let mut buf = record(1, libc::IN_CREATE, b"a.txt", 16);
        buf.extend(record(2, libc::IN_DELETE_SELF, b"", 0));
        buf.extend(record(3, libc::IN_MODIFY, b"long-name", 32));
        buf.truncate(buf.len() - 1);
        let got: Vec<_> = events(&buf)
            .map(|e| (e.wd, e.mask, e.name.map(|n| n.to_owned())))
            .collect();
        assert_eq!(
            got,
            [
                (1, libc::IN_CREATE, Some("a.txt".into())),
                (2, libc::IN_DELETE_SELF, None)
            ]
        );
    }
}
