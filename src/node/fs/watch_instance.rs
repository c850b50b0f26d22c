//! One inotify instance per loop, shared by all the loop's `fs::watch`
//! watchers, as libuv shares `loop->inotify_fd`: a process may have only
//! `fs.inotify.max_user_instances` instances (often 128), but many more
//! watches (`max_user_watches`). The instance is made by the loop's first
//! watcher and closed with its last.
//!
//! Two watchers of one inode share its watch descriptor (the kernel returns
//! the same `wd` to the second `inotify_add_watch`), so a descriptor has a
//! list of users, in the order they began using it, and is removed from
//! the kernel only when its last user lets go. Each record goes to every
//! user of its descriptor in that order (libuv's `uv__inotify_read`); the
//! users turn it into events, delivered one callback each, in record order.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::panic::Location;
use std::path::Path;
use std::rc::{Rc, Weak};

use mio::unix::SourceFd;

use super::inotify::{self, Event};
use crate::rt::callback::Callback;
use crate::rt::context::{try_with_core, with_core};
use crate::rt::reactor::{Ready, Registration};
use crate::rt::walk::HandleKind;

/// A watcher, as its loop's instance sees it: told of the records on its
/// watch descriptors, asked to deliver its events one at a time. A trait
/// so that the instance does not depend on the watcher, which uses it.
pub(super) trait User {
    /// A record on one of this user's descriptors: queues the events it
    /// makes and returns how many.
    fn record(self: Rc<Self>, record: &Event<'_>) -> usize;
    /// Delivers the oldest event queued; whether a listener ran (not if the
    /// user was closed meanwhile).
    fn deliver(&self) -> bool;
    /// Stops the user (a read error ended the instance).
    fn close(&self);
    /// The loop is going away: drop the listener.
    fn teardown(&self);
}

/// One loop's inotify descriptor and who uses its watch descriptors.
pub(super) struct Instance {
    loop_id: u32,
    fd: File,
    reg: RefCell<Option<Registration>>,
    /// Watch descriptor → its users, in the order they began using it.
    users: RefCell<HashMap<i32, Vec<Rc<dyn User>>>>,
    /// Open, referenced users: the registration keeps the loop alive while
    /// there is one.
    refs: Cell<usize>,
    /// The user of each event decoded and not yet delivered, in order.
    queue: RefCell<VecDeque<Rc<dyn User>>>,
    closed: Cell<bool>,
}

thread_local! {
    /// This thread's instances, one per loop that has a watcher open.
    static INSTANCES: RefCell<Vec<Weak<Instance>>> = const { RefCell::new(Vec::new()) };
}

impl Instance {
    /// The running loop's instance, made (and registered, unref'd) if it
    /// has none.
    ///
    /// # Errors
    /// `inotify_init1`'s (`EMFILE` past `max_user_instances`), or the
    /// registration's.
    pub(super) fn current() -> io::Result<Rc<Instance>> {
        let loop_id = with_core("fs::watch", |core| core.id());
        let found = INSTANCES.with(|all| {
            let mut all = all.borrow_mut();
            all.retain(|w| w.upgrade().is_some_and(|i| !i.closed.get()));
            all.iter()
                .filter_map(Weak::upgrade)
                .find(|i| i.loop_id == loop_id)
        });
        if let Some(found) = found {
            return Ok(found);
        }
        let fd = inotify::init()?;
        let instance = Rc::new(Instance {
            loop_id,
            fd,
            reg: RefCell::new(None),
            users: RefCell::new(HashMap::new()),
            refs: Cell::new(0),
            queue: RefCell::new(VecDeque::new()),
            closed: Cell::new(false),
        });
        let reg = with_core("fs::watch", |core| {
            Registration::new(
                core,
                &mut SourceFd(&instance.fd.as_raw_fd()),
                instance.clone(),
                HandleKind::FsEvent,
            )
        })?;
        reg.set_ref(false);
        *instance.reg.borrow_mut() = Some(reg);
        INSTANCES.with(|all| all.borrow_mut().push(Rc::downgrade(&instance)));
        Ok(instance)
    }

    /// Watches `path` for `user`: the watch descriptor (shared with the
    /// inode's other users).
    ///
    /// # Errors
    /// `inotify_add_watch`'s: `ENOENT`, `ENOSPC` past `max_user_watches`.
    pub(super) fn add(&self, path: &Path, mask: u32, user: Rc<dyn User>) -> io::Result<i32> {
        let wd = inotify::add_watch(&self.fd, path, mask)?;
        let mut users = self.users.borrow_mut();
        let list = users.entry(wd).or_default();
        if !list.iter().any(|u| Rc::ptr_eq(u, &user)) {
            list.push(user);
        }
        Ok(wd)
    }

    /// `user` (the address of the watcher) stops using `wd`; the kernel's
    /// watch goes with its last user, and the instance with the last
    /// descriptor.
    pub(super) fn remove(&self, wd: i32, user: *const ()) {
        let emptied = {
            let mut users = self.users.borrow_mut();
            let Some(list) = users.get_mut(&wd) else {
                return;
            };
            list.retain(|u| Rc::as_ptr(u).cast::<()>() != user);
            let last = list.is_empty();
            if last {
                users.remove(&wd);
                if !self.closed.get() {
                    inotify::rm_watch(&self.fd, wd);
                }
            }
            last && users.is_empty()
        };
        if emptied {
            self.close();
        }
    }

    /// Closes an instance nobody uses any more: out of the reactor (the
    /// descriptor closes when the last `Rc` drops).
    pub(super) fn release_if_unused(&self) {
        if self.users.borrow().is_empty() {
            self.close();
        }
    }

    /// A user was opened or closed referenced, or changed its setting.
    pub(super) fn add_ref(&self, on: bool) {
        let refs = if on {
            self.refs.get() + 1
        } else {
            self.refs.get().saturating_sub(1)
        };
        self.refs.set(refs);
        if let Some(reg) = &*self.reg.borrow() {
            reg.set_ref(refs > 0);
        }
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        let reg = self.reg.borrow_mut().take();
        if let Some(reg) = reg {
            // The handler returned is this instance: dropped after the borrow.
            drop(reg.deregister(&mut SourceFd(&self.fd.as_raw_fd())));
        }
        drop(std::mem::take(&mut *self.queue.borrow_mut()));
    }

    /// Delivers the events decoded and not yet delivered, reading more
    /// records until `WouldBlock`, a drain after each listener. A listener
    /// that panics (with an uncaught-panic handler the loop goes on) leaves
    /// the rest to the next pending phase: an edge-triggered fd would not
    /// report them again.
    fn read_all(self: &Rc<Self>) {
        let _after_panic = ResumeAfterPanic(self);
        let mut buf = [0u8; 4096];
        loop {
            loop {
                if self.closed.get() {
                    return;
                }
                let next = self.queue.borrow_mut().pop_front();
                let Some(user) = next else { break };
                if user.deliver() {
                    try_with_core(|core| core.drain_now());
                }
            }
            match (&self.fd).read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.decode(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!(target: "evloop", "fs::watch: reading inotify: {e}");
                    let users: Vec<_> = self.users.borrow().values().flatten().cloned().collect();
                    for user in users {
                        user.close();
                    }
                    self.close();
                    return;
                }
            }
        }
    }

    /// Hands each record to the users of its descriptor, in order,
    /// queueing one entry per event they make.
    fn decode(&self, buf: &[u8]) {
        for record in inotify::events(buf) {
            // A copy: a user may add or remove descriptors meanwhile.
            let users = self.users.borrow().get(&record.wd).cloned();
            for user in users.into_iter().flatten() {
                let n = user.clone().record(&record);
                let mut queue = self.queue.borrow_mut();
                queue.extend(std::iter::repeat_n(user, n));
            }
        }
    }
}

/// Resumes [`Instance::read_all`] in the next pending phase if a listener
/// panics.
struct ResumeAfterPanic<'a>(&'a Rc<Instance>);

impl Drop for ResumeAfterPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.0.closed.get() {
            let me = self.0.clone();
            try_with_core(|core| {
                core.defer_pending(Callback::new(move || me.read_all(), Location::caller()))
            });
        }
    }
}

impl Ready for Instance {
    fn ready(self: Rc<Self>, readable: bool, _writable: bool) {
        if readable {
            self.read_all();
        }
    }

    fn teardown(&self) {
        // The loop is going away: its reactor forgot the registration. The
        // users (which hold this instance) are let go, breaking the cycle.
        self.closed.set(true);
        drop(self.reg.borrow_mut().take());
        drop(std::mem::take(&mut *self.queue.borrow_mut()));
        let users = std::mem::take(&mut *self.users.borrow_mut());
        let mut each = crate::rt::panic::DropEach::new("fs::watch listeners");
        for user in users.into_values().flatten() {
            each.run(|| user.teardown());
            each.drop_one(Some(user));
        }
        each.finish();
    }
}
