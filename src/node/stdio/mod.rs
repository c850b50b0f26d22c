//! Standard input and output (Node's `process.stdin`, `process.stdout`,
//! `process.stderr`), reached through [`crate::process`].
//!
//! Both directions use threads, so the loop never blocks on them and no
//! descriptor flag changes:
//! - **stdin** ([`stdin.rs`](self::stdin)): one reader thread for the
//!   process does a blocking `read(0)` and posts each chunk into the loop
//!   that listens (a [`LoopHandle`](crate::LoopHandle) post: poll phase,
//!   then the drain). Setting `O_NONBLOCK` on fd 0, as libuv does for
//!   pipes and TTYs, would change the open file description the parent
//!   shell shares (a TTY left non-blocking breaks the shell; a shared pipe
//!   gets `EAGAIN` elsewhere); reopening `/proc/self/fd/0` would avoid
//!   that for pipes and TTYs but needs the pool for files. A thread works
//!   for all three alike. Its cost: a thread blocked in `read` cannot be
//!   stopped, so after the loop drops (or pauses) it may stay blocked until
//!   input comes; what it then reads waits for the next listener. Harmless:
//!   it holds no loop state.
//! - **stdout / stderr** ([`writer.rs`](self::writer)): one writer thread
//!   per stream takes queued writes in order and posts completions back
//!   (`drain`, `error`). Node writes synchronously to files, TTYs and, on
//!   Linux, pipes; evloop never blocks the loop, so a write to a slow pipe
//!   returns at once and a timer still fires while the reader dawdles.
//!   Pending writes keep the loop alive, so the output is out before a
//!   main script returns. The thread writes through std's `Stdout` lock,
//!   so `println!` keeps its place in the order (and, as ever, blocks the
//!   caller while the pipe is full).
//! - **TTY**: `is_tty` (std's `IsTerminal`), `columns` / `rows` through
//!   `ioctl(TIOCGWINSZ)`, and a `resize` event on `SIGWINCH`.

pub(crate) mod stdin;
pub(crate) mod writer;

/// `(columns, rows)` of the terminal on `fd`; `None` when `fd` is not a
/// terminal (or reports a zero size).
pub(super) fn window_size(fd: i32) -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which
    // points to a live, writable `winsize`; on a descriptor that is not a
    // terminal (or not open) it fails with ENOTTY / EBADF and writes
    // nothing.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &raw mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some((ws.ws_col, ws.ws_row))
}
