//! The signals a loop can listen for, by name and number, and why others
//! cannot be (a leaf: the process-wide handler and the loop side both use
//! it).

use std::fmt;
use std::io;

/// A signal a loop can listen for
/// ([`on_signal`](crate::process::on_signal)). Signals that cannot be
/// caught (SIGKILL, SIGSTOP) or that evloop leaves alone (SIGPIPE is
/// ignored, SIGCHLD, faults) have no variant: [`Signal::from_name`] and
/// [`Signal::from_raw`] say why.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGHUP: the terminal hung up.
    Hup,
    /// SIGINT: Ctrl-C.
    Int,
    /// SIGTERM: a polite request to stop.
    Term,
    /// SIGUSR1.
    Usr1,
    /// SIGUSR2.
    Usr2,
    /// SIGWINCH: the terminal's window size changed.
    Winch,
}

impl Signal {
    /// Every variant.
    pub(crate) const ALL: [Signal; 6] = [
        Signal::Hup,
        Signal::Int,
        Signal::Term,
        Signal::Usr1,
        Signal::Usr2,
        Signal::Winch,
    ];

    /// The signal's name as Node spells it: `"SIGINT"`, ...
    pub fn name(self) -> &'static str {
        match self {
            Signal::Hup => "SIGHUP",
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Usr1 => "SIGUSR1",
            Signal::Usr2 => "SIGUSR2",
            Signal::Winch => "SIGWINCH",
        }
    }

    /// The signal's number on this platform (`libc::SIGINT`, ...).
    pub fn as_raw(self) -> i32 {
        match self {
            Signal::Hup => libc::SIGHUP,
            Signal::Int => libc::SIGINT,
            Signal::Term => libc::SIGTERM,
            Signal::Usr1 => libc::SIGUSR1,
            Signal::Usr2 => libc::SIGUSR2,
            Signal::Winch => libc::SIGWINCH,
        }
    }

    /// The signal numbered `n`.
    ///
    /// # Errors
    /// [`SignalError::Uncatchable`] for SIGKILL and SIGSTOP,
    /// [`SignalError::Unsupported`] for another real signal evloop does not
    /// listen for, [`SignalError::Unknown`] for a number that is no signal.
    ///
    /// ```
    /// use evloop::process::{Signal, SignalError};
    /// assert_eq!(Signal::from_raw(libc::SIGINT), Ok(Signal::Int));
    /// assert!(matches!(Signal::from_raw(libc::SIGKILL), Err(SignalError::Uncatchable(_))));
    /// assert!(matches!(Signal::from_raw(0), Err(SignalError::Unknown(_))));
    /// ```
    pub fn from_raw(n: i32) -> Result<Signal, SignalError> {
        if let Some(s) = Signal::ALL.into_iter().find(|s| s.as_raw() == n) {
            return Ok(s);
        }
        match n {
            libc::SIGKILL => Err(SignalError::Uncatchable("SIGKILL".into())),
            libc::SIGSTOP => Err(SignalError::Uncatchable("SIGSTOP".into())),
            n if (1..=libc::SIGRTMAX()).contains(&n) => {
                Err(SignalError::Unsupported(format!("signal {n}")))
            }
            n => Err(SignalError::Unknown(n.to_string())),
        }
    }

    /// The signal named `name`, with or without `SIG` (`"SIGINT"`,
    /// `"INT"`), as Node's `process.on` and `process.kill` spell them.
    ///
    /// # Errors
    /// As [`Signal::from_raw`]; [`SignalError::Unknown`] for a name that is
    /// no signal (Node's `ERR_UNKNOWN_SIGNAL`).
    ///
    /// ```
    /// use evloop::process::{Signal, SignalError};
    /// assert_eq!("SIGTERM".parse(), Ok(Signal::Term));
    /// assert!(matches!(Signal::from_name("SIGSTOP"), Err(SignalError::Uncatchable(_))));
    /// assert!(matches!(Signal::from_name("SIGPIPE"), Err(SignalError::Unsupported(_))));
    /// assert!(matches!(Signal::from_name("SIGFOO"), Err(SignalError::Unknown(_))));
    /// ```
    pub fn from_name(name: &str) -> Result<Signal, SignalError> {
        let bare = name.strip_prefix("SIG").unwrap_or(name);
        if let Some(s) = Signal::ALL.into_iter().find(|s| &s.name()[3..] == bare) {
            return Ok(s);
        }
        const OTHERS: [&str; 22] = [
            "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "SEGV", "PIPE", "ALRM", "CHLD", "CONT",
            "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "IO", "PWR", "SYS",
        ];
        match bare {
            "KILL" | "STOP" => Err(SignalError::Uncatchable(format!("SIG{bare}"))),
            b if OTHERS.contains(&b) => Err(SignalError::Unsupported(format!("SIG{b}"))),
            _ => Err(SignalError::Unknown(name.to_string())),
        }
    }
}

impl std::str::FromStr for Signal {
    type Err = SignalError;

    fn from_str(s: &str) -> Result<Signal, SignalError> {
        Signal::from_name(s)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a signal cannot be listened for.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalError {
    /// SIGKILL or SIGSTOP: no process can catch them (Node: `uv_signal_start
    /// EINVAL`).
    Uncatchable(String),
    /// A real signal evloop does not deliver to listeners: SIGPIPE (ignored,
    /// so writes fail with `EPIPE`), SIGCHLD (child processes), faults, job
    /// control, timers.
    Unsupported(String),
    /// Not a signal name or number (Node's `ERR_UNKNOWN_SIGNAL`).
    Unknown(String),
    /// The OS refused the loop's signal pipe: its `errno` (`EMFILE` when
    /// out of descriptors) and the OS's text.
    Os(i32, String),
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalError::Uncatchable(s) => write!(f, "{s} cannot be caught or ignored"),
            SignalError::Unsupported(s) => write!(f, "evloop does not listen for {s}"),
            SignalError::Unknown(s) => write!(f, "Unknown signal: {s}"),
            SignalError::Os(_, e) => write!(f, "cannot listen for signals: {e}"),
        }
    }
}

impl std::error::Error for SignalError {}

impl From<io::Error> for SignalError {
    fn from(e: io::Error) -> SignalError {
        SignalError::Os(e.raw_os_error().unwrap_or(0), e.to_string())
    }
}
