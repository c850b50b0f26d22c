//! The two system calls std does not offer on stable: `pidfd_open` (a
//! descriptor that becomes readable when a child exits, so the reactor can
//! watch a child like a socket) and `kill` with any signal (std's
//! `Child::kill` sends only `SIGKILL`).
//!
//! Both are called only on a child that has not been reaped yet (its
//! `std::process::Child` is still held and unwaited), so its pid cannot
//! have been reused by another process.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// `pidfd_open(pid, 0)`: a close-on-exec descriptor for the child `pid`
/// (Linux ≥ 5.3), readable once the child has exited.
pub(super) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: `pidfd_open` takes a pid and a flags word by value and touches
    // no memory of ours; it returns a new descriptor or -1 with errno.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("pidfd_open: bad descriptor"))?;
    // SAFETY: the kernel just gave us `fd`, open and owned by nobody else;
    // `OwnedFd` closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `signal` to the unreaped child `pid` (`kill(2)`).
pub(super) fn kill(pid: u32, signal: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    if pid <= 0 {
        // 0 and negative pids name process groups: never ours to signal.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: `kill` takes two integers and touches no memory; `pid` is a
    // positive pid of our own unreaped child (see the module comment).
    if unsafe { libc::kill(pid, signal) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
