//! File watching, Node's `fs.watch`: inotify through the loop's reactor.
//!
//! A loop's watchers share one non-blocking inotify descriptor
//! (`watch_instance.rs`, as libuv's one per loop), registered with the
//! loop's reactor like a socket; when it is readable the poll phase reads
//! every queued record (until `WouldBlock`) and calls the listener of each
//! watcher of the record's watch descriptor once per record, draining next
//! ticks and microtasks after each call, as Node's `MakeCallback` does.
//! Records map to events as libuv's `uv__inotify_read`: `IN_ATTRIB` or
//! `IN_MODIFY` alone is `change`, any other bit (create, delete, move, and
//! `IN_ISDIR`) makes it `rename`.
//! A recursive watch adds one inotify watch per subdirectory, at the start
//! and for each directory created or moved in later (Node 20 on Linux does
//! the same); its file names are relative to the watched directory.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::error::{node_error, with_code};
use super::inotify;
use super::watch_instance::{Instance, User};
use crate::futures::stream::Stream;
use crate::node::net::handler::Lent;
use crate::rt::executor::Waiter;

/// What happened to a watched name (Node's `eventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatchEvent {
    /// Its content or attributes changed (`"change"`).
    Change,
    /// It appeared, disappeared or was moved (`"rename"`).
    Rename,
}

impl WatchEvent {
    /// Node's name: `"change"` or `"rename"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEvent::Change => "change",
            WatchEvent::Rename => "rename",
        }
    }
}

impl fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Options of [`watch`] (Node's `recursive` and `persistent`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchOptions {
    recursive: bool,
    persistent: bool,
}

impl Default for WatchOptions {
    /// Not recursive; persistent (the watcher keeps the loop alive).
    fn default() -> WatchOptions {
        WatchOptions {
            recursive: false,
            persistent: true,
        }
    }
}

impl WatchOptions {
    /// The defaults: not recursive, persistent.
    pub fn new() -> WatchOptions {
        WatchOptions::default()
    }

    /// Watches every subdirectory too, also those created later; file names
    /// are then relative to the watched directory (`sub/f.txt`).
    pub fn recursive(mut self, on: bool) -> WatchOptions {
        self.recursive = on;
        self
    }

    /// Whether the watcher keeps the loop alive (`false` starts it
    /// unref'd).
    pub fn persistent(mut self, on: bool) -> WatchOptions {
        self.persistent = on;
        self
    }
}

type Listener = Box<dyn FnMut(WatchEvent, Option<&Path>)>;

/// `change` bits; any other bit makes a record a `rename` (libuv's rule).
const CHANGE_BITS: u32 = libc::IN_ATTRIB | libc::IN_MODIFY;

struct WatchInner {
    /// The path as given, whose base name names events about itself.
    root: PathBuf,
    recursive: bool,
    /// The loop's inotify instance, shared with its other watchers.
    instance: Rc<Instance>,
    /// Watch descriptor → directory relative to `root` (empty for `root`).
    dirs: RefCell<HashMap<i32, PathBuf>>,
    listener: RefCell<Option<Listener>>,
    referenced: Cell<bool>,
    closed: Cell<bool>,
    /// Events decoded and not yet delivered.
    pending: RefCell<VecDeque<(WatchEvent, PathBuf)>>,
}

/// A file or directory watch ([`watch`]; Node's `FSWatcher`).
///
/// Referenced by default: an open watcher keeps the loop alive until
/// [`close`](FsWatcher::close)d or [`unref`](FsWatcher::unref)'d. Dropping
/// the handle changes nothing (the listener goes on, as a Node watcher
/// nobody references still fires); clones share the watcher. The loop's
/// teardown closes a watcher still open.
#[derive(Clone)]
#[must_use = "an FsWatcher is closed only by close() or the loop's end"]
pub struct FsWatcher {
    inner: Rc<WatchInner>,
}

impl fmt::Debug for FsWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FsWatcher")
            .field("path", &self.inner.root)
            .field("recursive", &self.inner.recursive)
            .field("closed", &self.inner.closed.get())
            .finish()
    }
}

/// Watches `path` (a file or a directory), Node's `fs.watch(path, options,
/// listener)`: `listener(event, filename)` runs in the poll phase for each
/// inotify record, with the name relative to the watched directory (for a
/// watched file, its base name). One write may report more than one
/// `change`, as in Node.
///
/// ```
/// use std::{cell::{OnceCell, RefCell}, rc::Rc};
/// use evloop::fs::{self, WatchEvent, WatchOptions};
/// let dir = std::env::temp_dir().join(format!("evloop-doc-watch-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let (d, s) = (dir.clone(), seen.clone());
/// evloop::run(move || {
///     let me = Rc::new(OnceCell::new());
///     let m = me.clone();
///     let w = fs::watch(&d, WatchOptions::new(), move |event, name| {
///         s.borrow_mut().push((event, name.unwrap().to_owned()));
///         m.get().map(fs::FsWatcher::close); // the first event is enough
///     })
///     .unwrap();
///     me.set(w).unwrap();
///     std::fs::write(d.join("a.txt"), "hi").unwrap();
/// });
/// assert_eq!(*seen.borrow(), [(WatchEvent::Rename, "a.txt".into())]);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// Node's, naming the path: `ENOENT: no such file or directory, watch
/// 'missing'`; `ENOSPC: System limit for number of file watchers reached,
/// watch 'path'` past the system's inotify watch limit
/// (`fs.inotify.max_user_watches`: a watch per path, and per subdirectory
/// of a recursive one; watchers of one path share one); `EMFILE` past its
/// instance limit (`max_user_instances`, often 128 per user: a loop's
/// watchers share one instance, as in libuv). A path with a NUL byte is
/// Node's throw,
/// `ERR_INVALID_ARG_VALUE` ([`io::ErrorKind::InvalidInput`]).
///
/// # Panics
/// If no event loop is running on this thread.
#[track_caller]
pub fn watch(
    path: impl AsRef<Path>,
    options: WatchOptions,
    listener: impl FnMut(WatchEvent, Option<&Path>) + 'static,
) -> io::Result<FsWatcher> {
    let root = path.as_ref().to_path_buf();
    if root.as_os_str().as_bytes().contains(&0) {
        let shown = root.to_string_lossy().replace('\0', "\\x00");
        let message = format!(
            "ERR_INVALID_ARG_VALUE: The argument 'path' must be a string, Uint8Array, \
             or URL without null bytes. Received '{shown}'"
        );
        return Err(with_code(
            io::ErrorKind::InvalidInput,
            message,
            "ERR_INVALID_ARG_VALUE",
        ));
    }
    let fail = |e| watch_error(e, &root);
    let instance = Instance::current().map_err(fail)?;
    let inner = Rc::new(WatchInner {
        root: root.clone(),
        recursive: options.recursive,
        instance: instance.clone(),
        dirs: RefCell::new(HashMap::new()),
        listener: RefCell::new(Some(Box::new(listener))),
        referenced: Cell::new(options.persistent),
        closed: Cell::new(false),
        pending: RefCell::new(VecDeque::new()),
    });
    match instance.add(&root, inotify::MASK, inner.clone()) {
        Ok(wd) => {
            inner.dirs.borrow_mut().insert(wd, PathBuf::new());
        }
        Err(e) => {
            instance.release_if_unused();
            return Err(fail(e));
        }
    }
    if options.recursive && root.is_dir() {
        inner.watch_tree(Path::new(""), &mut Vec::new());
    }
    if options.persistent {
        instance.add_ref(true);
    }
    Ok(FsWatcher { inner })
}

/// Node's error for a failed watch: `ENOENT: no such file or directory,
/// watch 'path'`, and its own text for the watch limit.
fn watch_error(e: io::Error, root: &Path) -> io::Error {
    if e.raw_os_error() == Some(libc::ENOSPC) {
        let message = format!(
            "ENOSPC: System limit for number of file watchers reached, watch '{}'",
            root.display()
        );
        return with_code(e.kind(), message, "ENOSPC");
    }
    node_error(e, "watch", root, None)
}

impl FsWatcher {
    /// Stops watching (Node's `watcher.close()`): no event comes after it,
    /// also none already read in the same poll, and the watcher no longer
    /// keeps the loop alive. The listener is dropped. Closing twice does
    /// nothing.
    pub fn close(&self) {
        self.inner.close();
    }

    /// Keeps the loop alive while the watcher is open (the default).
    pub fn ref_(&self) -> &FsWatcher {
        self.inner.set_ref(true);
        self
    }

    /// Lets the loop exit while the watcher is open.
    pub fn unref(&self) -> &FsWatcher {
        self.inner.set_ref(false);
        self
    }

    /// Whether the watcher is referenced (even if closed, as Node's
    /// `hasRef` on a closed handle reports its last setting).
    pub fn has_ref(&self) -> bool {
        self.inner.referenced.get()
    }
}

impl WatchInner {
    fn set_ref(&self, on: bool) {
        if self.referenced.replace(on) != on && !self.closed.get() {
            self.instance.add_ref(on);
        }
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        if self.referenced.get() {
            self.instance.add_ref(false);
        }
        let wds: Vec<i32> = self.dirs.borrow_mut().drain().map(|(wd, _)| wd).collect();
        let me = std::ptr::from_ref(self).cast::<()>();
        for wd in wds {
            self.instance.remove(wd, me);
        }
        self.pending.borrow_mut().clear();
        // While the listener runs (a close from inside it), its slot is
        // empty; `dispatch` drops it when the call returns.
        drop(self.listener.borrow_mut().take());
    }

    /// Adds watches for every directory under `root/rel` (not following
    /// symbolic links), appending each entry met to `found` (parents
    /// first). A directory that vanishes meanwhile is skipped: its `rename`
    /// comes from its parent.
    fn watch_tree(self: &Rc<Self>, rel: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(self.root.join(rel)) else {
            return;
        };
        for entry in entries.flatten() {
            let sub = rel.join(entry.file_name());
            found.push(sub.clone());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                self.add_dir(&sub, found);
            }
        }
    }

    /// Watches the directory `root/rel` and everything under it.
    fn add_dir(self: &Rc<Self>, rel: &Path, found: &mut Vec<PathBuf>) {
        let mask = inotify::MASK | libc::IN_ONLYDIR | libc::IN_DONT_FOLLOW;
        match self.instance.add(&self.root.join(rel), mask, self.clone()) {
            Ok(wd) => {
                self.dirs.borrow_mut().insert(wd, rel.to_path_buf());
                self.watch_tree(rel, found);
            }
            Err(e) => log::debug!(target: "evloop", "fs::watch: {}: {e}", rel.display()),
        }
    }
}

impl User for WatchInner {
    /// Maps one record to events, queued in `pending`.
    fn record(self: Rc<Self>, record: &inotify::Event<'_>) -> usize {
        let Some(dir) = self.dirs.borrow().get(&record.wd).cloned() else {
            return 0; // a removed watch
        };
        if record.mask & libc::IN_IGNORED != 0 && !dir.as_os_str().is_empty() {
            // A subdirectory's watch ended (it was removed or moved away):
            // its parent reported that.
            self.dirs.borrow_mut().remove(&record.wd);
            self.instance
                .remove(record.wd, Rc::as_ptr(&self).cast::<()>());
            return 0;
        }
        let name = match record.name {
            Some(n) => dir.join(n),
            // An event on a subdirectory itself: its parent reports it.
            None if !dir.as_os_str().is_empty() => return 0,
            None => match self.root.file_name() {
                Some(base) => PathBuf::from(base),
                None => self.root.clone(),
            },
        };
        let event = if record.mask & !CHANGE_BITS != 0 {
            WatchEvent::Rename
        } else {
            WatchEvent::Change
        };
        // A new directory in a recursive watch: watched at once, and what it
        // already holds (made before its watch could see it) is reported
        // after it, a `rename` each, as Node 20 does.
        let mut found = Vec::new();
        let is_new_dir = record.mask & libc::IN_ISDIR != 0
            && record.mask & (libc::IN_CREATE | libc::IN_MOVED_TO) != 0;
        if self.recursive && is_new_dir && !self.closed.get() {
            self.add_dir(&name, &mut found);
        }
        let made = 1 + found.len();
        let mut pending = self.pending.borrow_mut();
        pending.push_back((event, name));
        pending.extend(found.into_iter().map(|n| (WatchEvent::Rename, n)));
        made
    }

    fn deliver(&self) -> bool {
        if self.closed.get() {
            return false;
        }
        let next = self.pending.borrow_mut().pop_front();
        let Some((event, name)) = next else {
            return false;
        };
        if let Some(mut lent) = Lent::take(&self.listener) {
            lent.handler()(event, Some(&name));
        }
        if self.closed.get() {
            // Closed from its own listener: dropped once the call returned.
            drop(self.listener.borrow_mut().take());
        }
        true
    }

    fn close(&self) {
        WatchInner::close(self);
    }

    fn teardown(&self) {
        // The loop is going away, and its instance with it.
        self.closed.set(true);
        self.dirs.borrow_mut().clear();
        self.pending.borrow_mut().clear();
        drop(self.listener.borrow_mut().take());
    }
}

/// The events of a watch as a [`Stream`] ([`promises::watch`](super::promises::watch),
/// Node's `fsPromises.watch`): `(event, filename)` items, ending after
/// [`close`](WatchStream::close). Dropping it closes the watch; events
/// read and not yet taken are dropped with it.
#[must_use = "dropping a WatchStream stops watching"]
pub struct WatchStream {
    watcher: FsWatcher,
    shared: Rc<RefCell<StreamShared>>,
}

#[derive(Default)]
struct StreamShared {
    queue: VecDeque<(WatchEvent, Option<PathBuf>)>,
    waiter: Option<Waiter>,
}

impl fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream")
            .field("watcher", &self.watcher)
            .finish()
    }
}

#[track_caller]
pub(super) fn watch_stream(path: &Path, options: WatchOptions) -> io::Result<WatchStream> {
    let shared = Rc::new(RefCell::new(StreamShared::default()));
    let s = shared.clone();
    let watcher = watch(path, options, move |event, name| {
        let waiter = {
            let mut s = s.borrow_mut();
            s.queue.push_back((event, name.map(Path::to_path_buf)));
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    })?;
    Ok(WatchStream { watcher, shared })
}

impl WatchStream {
    /// The next event; `None` once the stream is closed and its queue
    /// empty. A task waiting resumes in the microtask checkpoint after the
    /// poll phase that read the event.
    pub async fn next(&mut self) -> Option<(WatchEvent, Option<PathBuf>)> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Stops watching: events already queued are still returned, then the
    /// stream ends.
    pub fn close(&self) {
        self.watcher.close();
        if let Some(w) = self.shared.borrow_mut().waiter.take() {
            w.wake();
        }
    }

    /// Keeps the loop alive while the stream is open (the default).
    pub fn ref_(&self) -> &WatchStream {
        self.watcher.ref_();
        self
    }

    /// Lets the loop exit while the stream waits.
    pub fn unref(&self) -> &WatchStream {
        self.watcher.unref();
        self
    }

    fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<(WatchEvent, Option<PathBuf>)>> {
        let mut s = self.shared.borrow_mut();
        match s.queue.pop_front() {
            Some(item) => Poll::Ready(Some(item)),
            None if self.watcher.inner.closed.get() => Poll::Ready(None),
            None => {
                Waiter::register(&mut s.waiter, cx);
                Poll::Pending
            }
        }
    }
}

impl Drop for WatchStream {
    fn drop(&mut self) {
        self.watcher.close();
    }
}

impl Stream for WatchStream {
    type Item = (WatchEvent, Option<PathBuf>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_event(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past `max_user_watches` (which a test cannot reach without changing
    /// the system's setting): Node's text and code.
    #[test]
    fn the_watch_limit_is_nodes_enospc() {
        let _w = crate::test_watchdog::watchdog();
        let e = watch_error(io::Error::from_raw_os_error(libc::ENOSPC), Path::new("/d"));
        assert_eq!(
            e.to_string(),
            "ENOSPC: System limit for number of file watchers reached, watch '/d'"
        );
        assert_eq!(super::super::error_code(&e), Some("ENOSPC"));
        let e = watch_error(io::Error::from_raw_os_error(libc::EMFILE), Path::new("/d"));
        assert_eq!(e.to_string(), "EMFILE: too many open files, watch '/d'");
    }
}
