//! The two system calls std does not offer on stable: `pidfd_open` (a
//! descriptor that becomes readable when a child exits, so the reactor can
//! watch a child like a socket) and `kill` with any signal (std's
//! `Child::kill` sends only `SIGKILL`).
//!
//! Both are called only on a child that has not been reaped yet (its
//! `std::process::Child` is still held and unwaited), so its pid cannot
//! have been reused by another process. A detached child's group is
//! signalled only before the child's `close`: the group's id cannot be
//! reused while its leader is unreaped or any member lives, and after the
//! leader's exit `close` waits only for its pipes, which members hold (a
//! process that left the group yet holds them is the one gap, as with
//! Node's `process.kill(-pid)`).

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
    send(pid, signal, 1)
}

/// Sends `signal` to the process group `pgid` (`kill(-pgid, signal)`): the
/// group a detached child leads, before its `close` (see
/// `ChildProcess::kill_group`).
pub(super) fn kill_group(pgid: u32, signal: i32) -> io::Result<()> {
    send(pgid, signal, -1)
}

/// `kill(sign * id, signal)` for a positive `id`.
fn send(id: u32, signal: i32, sign: libc::pid_t) -> io::Result<()> {
    let id = libc::pid_t::try_from(id)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    if id <= 0 {
        // 0 and negative ids name our own group or every process: never
        // ours to signal.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: `kill` takes two integers and touches no memory; the target
    // is our own unreaped child, or the group it leads (see the module
    // comment and `kill_group`).
    if unsafe { libc::kill(sign * id, signal) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
