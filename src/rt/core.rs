//! `Core`: everything one loop owns, its assembly (`Core::new`, which
//! `Builder::build` calls once it has read the configuration), what the
//! layers above may do with it (one method per queue, each keeping that
//! queue's rule) and the snapshot of its queues. The phases that run it are
//! in `run`, `poll` and `drain`; its teardown is in `teardown`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::rt::callback::{Callback, Site};
use crate::rt::clock::Clock;
use crate::rt::executor::table::Executor;
use crate::rt::panic::PanicHandler;
use crate::rt::pool::threads::Pool;
use crate::rt::queues::{Immediates, Microtasks, Queue};
use crate::rt::reactor::poller::{Fired, Reactor};
use crate::rt::rejection::{Rejections, UnhandledRejections};
use crate::rt::remote::{Inbox, Remote};
use crate::rt::schedule::{Schedule, Source};
use crate::rt::timer::timers::Timers;
use crate::rt::trace::counts::Phase;
use crate::rt::trace::counts::{Labels, RefCounts, Snapshot, labels_of};
use crate::rt::trace::observer::{Observer, TraceConfig};
use crate::rt::trace::replay::Queue as Q;
use crate::rt::walk::{HandleInfo, HandleKind};
use crate::rt::watcher::table::{Kind, State, Watchers};

/// The next loop's id. Ids are unique in the process and start at 1: 0 is
/// no loop's (a `Task` handle whose output was taken).
static NEXT_LOOP_ID: AtomicU32 = AtomicU32::new(1);

/// Everything one loop owns. Lives in an `Rc` shared by
/// [`EventLoop`](crate::EventLoop) and the thread-local "current loop" slot
/// while the loop runs.
pub(crate) struct Core {
    pub(in crate::rt) id: u32,
    /// This core, weakly: for I/O sources that must reach their own loop
    /// while another loop of the thread runs (see `reactor::Registration`).
    pub(in crate::rt) this: Weak<Core>,
    pub(in crate::rt) clock: Clock,
    pub(in crate::rt) ticks: RefCell<Queue>,
    pub(in crate::rt) microtasks: RefCell<Microtasks>,
    pub(in crate::rt) timers: RefCell<Timers>,
    pub(in crate::rt) immediates: RefCell<Immediates>,
    /// Idle, prepare and check handles.
    pub(in crate::rt) watchers: Watchers,
    pub(in crate::rt) executor: Executor,
    pub(in crate::rt) pool: Pool,
    /// I/O callbacks deferred to the next iteration (pending phase).
    pub(in crate::rt) pending: RefCell<Queue>,
    /// Close callbacks (close phase).
    pub(in crate::rt) closing: RefCell<Queue>,
    pub(in crate::rt) reactor: RefCell<Reactor>,
    /// Reused buffer of the events one poll reported.
    pub(in crate::rt) fired: RefCell<Fired>,
    pub(in crate::rt) inbox: Inbox,
    pub(in crate::rt) stop: Cell<bool>,
    pub(in crate::rt) iteration: Cell<u64>,
    pub(in crate::rt) phase: Cell<Phase>,
    /// `Some` when something observes the loop (trace, file, watchdog).
    pub(in crate::rt) observer: Option<Observer>,
    /// Snapshots list scheduling sites.
    pub(in crate::rt) teaching: bool,
    /// Names given to timers and immediates, by flow id (for labels).
    pub(in crate::rt) names: RefCell<std::collections::HashMap<u64, &'static str>>,
    /// How long the loop has waited in poll since it was created, on its own
    /// clock: real waits on real time, the jumps to the next timer on
    /// virtual time (a real wait there, for a pool job, moves no clock).
    /// The rest of `clock.hrtime_ns()` is its active time; the two are
    /// event loop utilization's halves.
    pub(in crate::rt) idle_ns: Cell<u64>,
    pub(in crate::rt) panic_handler: RefCell<Option<PanicHandler>>,
    /// Rejections between a task's failure and their checks.
    pub(in crate::rt) rejections: RefCell<Rejections>,
    /// A rejection waits for the check after the drain (one load there).
    pub(in crate::rt) rejections_due: Cell<bool>,
    pub(in crate::rt) unhandled_rejections: UnhandledRejections,
    /// `process.exitCode`.
    pub(in crate::rt) exit_code: Cell<i32>,
    /// `Some` in the seeded mode: the chooser of what Node leaves to the
    /// machine (`schedule`).
    pub(in crate::rt) schedule: Option<Schedule>,
}

// Assembly, when the loop is built.
impl Core {
    /// A new loop's core, from the configuration `Builder::build` resolved
    /// (the environment read, the pool size checked): the one place a
    /// `Core` is put together, so that the public handle and its builder
    /// (`event_loop`) only call down to it.
    ///
    /// # Errors
    /// The OS refusing an epoll instance or an eventfd.
    pub(in crate::rt) fn new(
        virtual_time: bool,
        pool_size: usize,
        trace: &TraceConfig,
        panic_handler: Option<PanicHandler>,
        unhandled_rejections: UnhandledRejections,
        post_limit: usize,
        schedule: Option<Source>,
    ) -> io::Result<Rc<Core>> {
        // As Node at startup: a write to a closed pipe is EPIPE, not death.
        crate::rt::signal::handler::ignore_sigpipe();
        let (reactor, waker) = Reactor::new()?;
        let id = NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed);
        let observer = Observer::new(trace, id, schedule.is_some());
        let core = |this: &Weak<Core>| Core {
            id,
            this: this.clone(),
            clock: Clock::new(virtual_time),
            ticks: RefCell::new(VecDeque::new()),
            microtasks: RefCell::default(),
            timers: RefCell::new(Timers::new()),
            immediates: RefCell::new(Immediates::new()),
            watchers: Watchers::new(),
            executor: Executor::new(),
            pool: Pool::new(
                pool_size,
                observer.as_ref().and_then(Observer::pool_sink),
                schedule.is_some(),
            ),
            pending: RefCell::new(VecDeque::new()),
            closing: RefCell::new(VecDeque::new()),
            reactor: RefCell::new(reactor),
            fired: RefCell::new(VecDeque::new()),
            inbox: Inbox::new(waker, post_limit),
            stop: Cell::new(false),
            iteration: Cell::new(0),
            phase: Cell::new(Phase::Main),
            observer,
            teaching: trace.teaching || trace.replay.is_some() || trace.step,
            names: RefCell::new(std::collections::HashMap::new()),
            idle_ns: Cell::new(0),
            panic_handler: RefCell::new(panic_handler),
            rejections: RefCell::default(),
            rejections_due: Cell::new(false),
            unhandled_rejections,
            exit_code: Cell::new(0),
            schedule: schedule.map(|s| Schedule::new(s, pool_size)),
        };
        Ok(Rc::new_cyclic(core))
    }
}

/// What the layers above may do with a loop's queues and clocks: each queue
/// has one way in, which keeps its rule (a tick runs in the drain after the
/// current callback, a pending callback in the next pending phase, a close
/// callback in the next close phase).
impl Core {
    /// This loop's id (unique in the process).
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// Queues `cb` on the next-tick queue: it runs in the drain after the
    /// current callback, before any microtask (`process.nextTick`).
    pub(crate) fn push_tick(&self, cb: Callback) {
        self.record(|r, ms| r.push(ms, Q::Tick, None, cb.site, ""));
        self.ticks.borrow_mut().push_back(cb);
    }

    /// Defers `cb` to the pending phase of the next iteration (libuv's
    /// `uv__io_feed`): an I/O callback that must not run inside the current
    /// one.
    pub(crate) fn defer_pending(&self, cb: Callback) {
        self.record(|r, ms| r.push(ms, Q::Pending, None, cb.site, ""));
        self.pending.borrow_mut().push_back(cb);
    }

    /// Queues `cb` for the close phase (a handle's `close` event).
    pub(crate) fn push_close(&self, cb: Callback) {
        self.record(|r, ms| r.push(ms, Q::Close, None, cb.site, ""));
        self.closing.borrow_mut().push_back(cb);
    }

    /// The loop's clock, uncached (`uv_hrtime`, nanoseconds since the loop
    /// was created; the virtual clock under virtual time).
    pub(crate) fn hrtime_ns(&self) -> u64 {
        self.clock.hrtime_ns()
    }

    /// How long the loop has waited in poll, in nanoseconds on its clock
    /// (see `idle_ns`).
    pub(crate) fn idle_ns(&self) -> u64 {
        self.idle_ns.get()
    }

    /// `process.exitCode` of this loop.
    pub(crate) fn exit_code(&self) -> i32 {
        self.exit_code.get()
    }

    /// Sets `process.exitCode` of this loop.
    pub(crate) fn set_exit_code(&self, code: i32) {
        self.exit_code.set(code);
    }

    /// An unreferenced sender into this loop, for task wakers.
    pub(crate) fn remote_ref(&self) -> &Remote {
        self.inbox.remote_ref()
    }
}

// Snapshots: what is waiting, and (in teaching mode) where it was scheduled.
impl Core {
    /// Remembers a user-given name for a timer or immediate. Names of
    /// handles that are gone are pruned as the table grows.
    pub(crate) fn name(&self, id: u64, name: &'static str) {
        let mut names = self.names.borrow_mut();
        if names.len() >= 64 {
            let timers = self.timers.borrow();
            let imm = self.immediates.borrow();
            names.retain(|&id, _| timers.has_flow(id) || imm.has_flow(id));
        }
        names.insert(id, name);
    }

    fn label(&self, (id, site): (u64, Site)) -> String {
        let at = crate::rt::callback::describe_site(site);
        match self.names.borrow().get(&id) {
            Some(name) => format!("{name} ({at})"),
            None => at,
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let (timers, timer_refs, timer_sites) = {
            let t = self.timers.borrow();
            let sites = self.teaching.then(|| t.sites());
            (t.len(), t.referenced(), sites)
        };
        let imm = self.immediates.borrow();
        let (io_refs, io_total) = self.reactor.borrow().counts();
        let sites = |q: &RefCell<Queue>| labels_of(q.borrow().iter().map(|c| c.site));
        Snapshot {
            phase: self.phase.get(),
            iteration: self.iteration.get(),
            next_ticks: self.ticks.borrow().len(),
            microtasks: self.microtasks.borrow().len(),
            timers: RefCounts {
                referenced: timer_refs,
                unreferenced: timers - timer_refs,
            },
            immediates: RefCounts {
                referenced: imm.referenced(),
                unreferenced: imm.live() - imm.referenced(),
            },
            pending: self.pending.borrow().len(),
            closing: self.closing.borrow().len(),
            pool_queued: self.pool.queued(),
            pool_running: self.pool.running(),
            tasks: self.executor.pending(),
            io: RefCounts {
                referenced: io_refs,
                unreferenced: io_total - io_refs,
            },
            loop_handles: self.inbox.refs(),
            posts_queued: self.inbox.pending(),
            labels: self.teaching.then(|| Labels {
                next_ticks: sites(&self.ticks),
                microtasks: labels_of(
                    self.microtasks
                        .borrow()
                        .iter()
                        .map(|item| item.unwrap_or_else(|key| self.executor.site_of(key))),
                ),
                timers: timer_sites
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| self.label(s))
                    .collect(),
                immediates: imm.sites().map(|s| self.label(s)).collect(),
                pending: sites(&self.pending),
                closing: sites(&self.closing).into_iter().rev().collect(),
            }),
        }
    }
}

// The walk over the handles (`uv_walk`).
impl Core {
    /// Every handle of the loop, grouped by kind: timers (by deadline),
    /// immediates (in run order), idle, prepare and check handles (by
    /// slot), I/O sources, pool jobs, referenced loop handles.
    pub(crate) fn walk(&self) -> Vec<HandleInfo> {
        let names = self.names.borrow();
        let keyed = |kind, (id, site, referenced): (u64, Site, bool)| HandleInfo {
            site: Some(site),
            name: names.get(&id).copied(),
            ..HandleInfo::new(kind, referenced)
        };
        let mut all: Vec<HandleInfo> = (self.timers.borrow().handles().into_iter())
            .map(|h| keyed(HandleKind::Timer, h))
            .collect();
        all.extend(
            self.immediates
                .borrow()
                .handles()
                .map(|h| keyed(HandleKind::Immediate, h)),
        );
        self.watchers.read(|t| {
            all.extend(t.slots().map(|s| HandleInfo {
                active: s.state == Some(State::Active),
                closing: s.state == Some(State::Closing),
                site: Some(s.site),
                name: s.name,
                ..HandleInfo::new(
                    match s.kind {
                        Kind::Idle => HandleKind::Idle,
                        Kind::Prepare => HandleKind::Prepare,
                        Kind::Check => HandleKind::Check,
                    },
                    s.referenced,
                )
            }))
        });
        let reactor = self.reactor.borrow();
        all.extend(reactor.handles().map(|(k, r)| HandleInfo::new(k, r)));
        all.extend(self.pool.sites().into_iter().map(|site| HandleInfo {
            site: Some(site),
            ..HandleInfo::new(HandleKind::Work, true)
        }));
        all.extend((0..self.inbox.refs()).map(|_| HandleInfo::new(HandleKind::LoopHandle, true)));
        all
    }
}
