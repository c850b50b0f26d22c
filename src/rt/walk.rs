//! What a walk over a loop's handles reports ([`walk`](crate::walk),
//! [`EventLoop::walk`](crate::EventLoop::walk), libuv's `uv_walk`): one
//! [`HandleInfo`] per handle. `Core::walk` fills them.

use std::panic::Location;

/// The kind of a handle a [walk](crate::walk) lists.
///
/// [`name`](HandleKind::name) gives the name Node's
/// `process.getActiveResourcesInfo()` prints for the kinds Node has, and
/// libuv's type for the rest.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// A [`set_timeout`](crate::set_timeout) or
    /// [`set_interval`](crate::set_interval) timer (Node's `Timeout`).
    Timer,
    /// A [`set_immediate`](crate::set_immediate) callback (Node's
    /// `Immediate`).
    Immediate,
    /// An [`Idle`](crate::Idle) handle.
    Idle,
    /// A [`Prepare`](crate::Prepare) handle.
    Prepare,
    /// A [`Check`](crate::Check) handle.
    Check,
    /// A listening TCP server or [`TcpListener`](crate::net::TcpListener)
    /// (Node's `TCPServerWrap`).
    TcpServer,
    /// A TCP socket or [`TcpStream`](crate::net::TcpStream) (Node's
    /// `TCPSocketWrap`).
    TcpSocket,
    /// A bound UDP socket, [`dgram::Socket`](crate::dgram::Socket) or
    /// [`dgram::UdpSocket`](crate::dgram::UdpSocket) (Node's `UDPWrap`).
    Udp,
    /// A running child process
    /// ([`ChildProcess`](crate::child_process::ChildProcess); Node's
    /// `ProcessWrap`).
    Process,
    /// A child's stdin, stdout or stderr pipe, or a Unix domain socket
    /// ([`net::connect_path`](crate::net::connect_path),
    /// [`UnixStream`](crate::net::UnixStream); Node's `PipeWrap`).
    Pipe,
    /// A server listening on a Unix socket path
    /// ([`Server::listen_path`](crate::net::Server::listen_path),
    /// [`UnixListener`](crate::net::UnixListener); Node's `PipeServerWrap`).
    PipeServer,
    /// A thread-pool job ([`queue_work`](crate::queue_work), an
    /// [`fs`](crate::fs) operation) whose callback has not run yet.
    Work,
    /// A referenced [`LoopHandle`](crate::LoopHandle) (a
    /// [`Worker`](crate::Worker)'s parent side holds one until it exits).
    LoopHandle,
    /// A loop's signal listeners ([`on_signal`](crate::process::on_signal)):
    /// one per loop that has any, referenced while one of them is (Node's
    /// `SignalWrap`, one per signal name).
    Signal,
    /// An open [`fs::watch`](crate::fs::watch) watcher (Node's `FSEvent`).
    FsEvent,
    /// An open [`FdWatcher`](crate::FdWatcher) (libuv's `poll`).
    Poll,
}

impl HandleKind {
    /// The kind's name: Node's (`Timeout`, `Immediate`, `TCPServerWrap`,
    /// `TCPSocketWrap`, `SignalWrap`) where Node has one, else libuv's type (`idle`,
    /// `prepare`, `check`, `work`, `async`).
    pub fn name(self) -> &'static str {
        match self {
            HandleKind::Timer => "Timeout",
            HandleKind::Immediate => "Immediate",
            HandleKind::Idle => "idle",
            HandleKind::Prepare => "prepare",
            HandleKind::Check => "check",
            HandleKind::TcpServer => "TCPServerWrap",
            HandleKind::TcpSocket => "TCPSocketWrap",
            HandleKind::Udp => "UDPWrap",
            HandleKind::Process => "ProcessWrap",
            HandleKind::Pipe => "PipeWrap",
            HandleKind::PipeServer => "PipeServerWrap",
            HandleKind::Work => "work",
            HandleKind::LoopHandle => "async",
            HandleKind::Signal => "SignalWrap",
            HandleKind::FsEvent => "FSEvent",
            HandleKind::Poll => "poll",
        }
    }
}

/// One handle of a [walk](crate::walk).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandleInfo {
    /// What it is.
    pub kind: HandleKind,
    /// Whether it is referenced (`uv_has_ref`; not unref'd). A handle keeps
    /// the loop alive when it is active and referenced, or closing
    /// ([`keeps_alive`](HandleInfo::keeps_alive)).
    pub referenced: bool,
    /// Whether it is active (`uv_is_active`): a pending timer or immediate,
    /// a started watcher, a registered I/O source, a job in flight. Only
    /// stopped watchers are listed inactive.
    pub active: bool,
    /// Whether it is closing (a watcher whose close callback has not run).
    pub closing: bool,
    /// Where it was scheduled (a timer, immediate or job), or created and
    /// last started (a watcher); `None` for I/O sources and loop handles.
    pub site: Option<&'static Location<'static>>,
    /// The name given with `set_name`, if any.
    pub name: Option<&'static str>,
}

impl HandleInfo {
    pub(crate) fn new(kind: HandleKind, referenced: bool) -> HandleInfo {
        HandleInfo {
            kind,
            referenced,
            active: true,
            closing: false,
            site: None,
            name: None,
        }
    }

    /// Whether this handle keeps the loop alive: active and referenced, or
    /// closing (libuv's `uv_loop_alive` counts closing handles too).
    pub fn keeps_alive(&self) -> bool {
        (self.active && self.referenced) || self.closing
    }
}
