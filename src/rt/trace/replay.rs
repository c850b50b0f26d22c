//! Recording a real run for the replay page (`EVLOOP_REPLAY=run.html`,
//! `Builder::replay`): every callback as it starts and ends, every push onto
//! and removal from each queue, each phase, the thread pool's jobs, I/O
//! readiness, cross-thread posts and the program's output lines, in the
//! order they happened, written as one self-contained HTML page that steps
//! through them.
//!
//! One recording per page path, process-wide: every loop that records to
//! the same path (the tour's twelve loops one after another, a worker's
//! loop beside its parent's) is a track of the same page. Steps from all of
//! them, and from the pool threads, go into one list under one lock, so
//! their order is the order they happened. The page is rewritten whenever a
//! recording loop is dropped and once more when the process exits (after
//! the last output line).
//!
//! The program's standard output is captured while anything records
//! (`capture`): its lines appear among the steps exactly where they were
//! written, and are passed on to the real standard output unchanged.
//!
//! # The data (format 1)
//!
//! The page embeds one JSON object: `program`; `files` (`path`, and `text`
//! when the file was readable at recording time); `sites` (`[file, line]`:
//! where something was scheduled); `loops` (`id`, `name`); `truncated`
//! (the step cap was reached); and `steps`, each with `l` (loop id; an
//! output line goes to the loop that recorded the step after it, or the
//! last one), `t` (µs since the recording started; on a page a seeded loop
//! records to, the loop's virtual time instead, see below), `ms` (the loop's
//! cached time; not on output lines and `job` steps, except the `start`
//! and `done` a seeded loop records) and `k`:
//!
//! | `k` | fields | meaning |
//! |---|---|---|
//! | `phase` | `p`, `i` | phase `p` (`timers`, `pending`, `idle`, `poll`, `check`, `close`; `main` outside the loop, `exit` when it ends) of iteration `i` begins |
//! | `push` | `q`, `id`, `s`, `due`?, `task`? | an entry joins queue `q` (`tick`, `micro`, `timer`, `pending`, `immediate`, `close`); a timer pushed again with its `id` is re-armed |
//! | `cancel` | `q`, `id` | the entry left without running |
//! | `name` | `q`, `id`, `name` | a `set_name` label |
//! | `run` | `q`, `id`?, `s`, `task`?, `tok`? | a callback starts: from queue `q`, or `main` (the main script), `io` (readiness of source `tok`), `post` (a cross-thread post), `pool` (job `id`'s completion), `call` (a task's first poll, nested in the running callback) |
//! | `ret` | `panic`? | the running callback returns |
//! | `out` | `text` | one line of standard output |
//! | `job` | `ev`, `id`, `s`, `th`? | pool job `id` is `queued` or `cancelled`, or `start`s / is `done` on pool thread `th` |
//! | `io` | `tok`, `r`, `w` | the OS reported source `tok` readable / writable; its callback runs next |
//! | `wait` / `wake` | `timeout` / – | the poll phase starts / stops waiting |
//!
//! A seeded loop's run is the same for the same seed, but the real clock
//! is not: on a page that a seeded loop (`Builder::seed`) records to, every
//! step's `t` is virtual, the recording loop's `ms` in µs (a step without
//! `ms` repeats the last `t`), and the loop itself records its pool jobs'
//! `start` and `done` (with `ms`) where its model of the pool puts them,
//! on the thread the model gave the job. So the same seed writes the same
//! page, byte for byte.
//!
//! Recording is off by default and costs nothing then: the hooks sit on
//! the observed copy of the loop's code (see the parent module) or behind
//! the loop's one `Option<Observer>` test.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::rt::callback::Site;
use crate::rt::trace::capture::Capture;
use crate::rt::watcher::table::Kind;

/// Steps kept per recording: past this the run goes on unrecorded and the
/// page says so (about 15 MB of page; the page itself stays responsive).
pub(crate) const MAX_STEPS: usize = 200_000;

/// Source files larger than this are named but not embedded.
const MAX_FILE: u64 = 1 << 20;

/// A queue the page draws as a list of boxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    Tick,
    Micro,
    Timer,
    Pending,
    Immediate,
    Close,
}

impl Queue {
    fn name(self) -> &'static str {
        match self {
            Queue::Tick => "tick",
            Queue::Micro => "micro",
            Queue::Timer => "timer",
            Queue::Pending => "pending",
            Queue::Immediate => "immediate",
            Queue::Close => "close",
        }
    }

    /// The queue's entry in words ("next tick"), for the stepper.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Queue::Tick => "next tick",
            Queue::Micro => "microtask",
            Queue::Timer => "timer",
            Queue::Pending => "pending callback",
            Queue::Immediate => "immediate",
            Queue::Close => "close callback",
        }
    }

    /// The queues whose entries run in push order, so a `run` names the
    /// front entry: their ids are kept here rather than in the loop's queue.
    fn fifo(self) -> Option<usize> {
        match self {
            Queue::Tick => Some(0),
            Queue::Micro => Some(1),
            Queue::Pending => Some(2),
            Queue::Close => Some(3),
            Queue::Timer | Queue::Immediate => None,
        }
    }
}

/// Where the next callback comes from (set by the code that pops it, read
/// when it starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum From {
    /// A FIFO queue's front entry.
    Fifo(Queue),
    /// The entry at this position of a queue (the close phase takes its
    /// batch newest first).
    Nth(Queue, usize),
    /// A timer or an immediate, by flow id.
    Keyed(Queue, u64),
    /// A task's poll, taken from the microtask queue.
    TaskPoll(u64),
    /// The main script.
    Main,
    /// An I/O source's readiness.
    Io(usize),
    /// A cross-thread post.
    Post,
    /// A pool job's completion.
    Pool(usize),
    /// A task's first poll, inside `spawn`.
    Call(u64),
    /// An idle, prepare or check handle's callback.
    Watcher(Kind),
}

/// All recordings of the process, by page path.
static RECORDINGS: Mutex<Vec<Recording>> = Mutex::new(Vec::new());

/// The standard-output capture shared by every recording.
static CAPTURE: Mutex<Option<Capture>> = Mutex::new(None);

fn recordings() -> MutexGuard<'static, Vec<Recording>> {
    RECORDINGS.lock().unwrap_or_else(|p| p.into_inner())
}

/// One page's recording.
struct Recording {
    path: PathBuf,
    epoch: Instant,
    files: Vec<String>,
    file_ids: HashMap<&'static str, usize>,
    sites: Vec<(usize, u32)>,
    site_ids: HashMap<(usize, u32), usize>,
    loops: Vec<(u32, String)>,
    /// Comma-separated JSON step objects.
    steps: String,
    count: usize,
    truncated: bool,
    /// The loop that recorded the last step (whose track output goes on
    /// when no loop records it).
    last_loop: u32,
    /// Loops recording here that have not been dropped.
    alive: usize,
    /// When the page was last written.
    written: Option<Instant>,
    /// When this recording last took a step (`STEPS_TAKEN` then).
    last_used: u64,
    /// A seeded loop records here: `t` is virtual (see the module doc).
    virtual_t: bool,
    /// The last step's `t`.
    last_t: f64,
}

/// Steps recorded in the process, all recordings together: which
/// recording was used last.
static STEPS_TAKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Recording {
    fn new(path: PathBuf) -> Recording {
        Recording {
            path,
            epoch: Instant::now(),
            files: Vec::new(),
            file_ids: HashMap::new(),
            sites: Vec::new(),
            site_ids: HashMap::new(),
            loops: Vec::new(),
            steps: String::new(),
            count: 0,
            truncated: false,
            last_loop: 0,
            alive: 0,
            written: None,
            last_used: 0,
            virtual_t: false,
            last_t: 0.0,
        }
    }

    fn site(&mut self, site: Site) -> usize {
        let file = match self.file_ids.get(site.file()) {
            Some(&f) => f,
            None => {
                self.files.push(site.file().to_string());
                self.file_ids.insert(site.file(), self.files.len() - 1);
                self.files.len() - 1
            }
        };
        let key = (file, site.line());
        if let Some(&s) = self.site_ids.get(&key) {
            return s;
        }
        self.sites.push(key);
        self.site_ids.insert(key, self.sites.len() - 1);
        self.sites.len() - 1
    }

    /// Starts a step: `{"l":..,"t":..,"ms":..,"k":"kind"`, to be closed by
    /// the caller with its fields and `}`. `None` past the cap.
    fn begin(&mut self, loop_id: u32, ms: Option<u64>, kind: &str) -> Option<&mut String> {
        if self.count >= MAX_STEPS {
            self.truncated = true;
            return None;
        }
        self.count += 1;
        if loop_id != 0 {
            self.last_loop = loop_id;
        }
        self.last_used = STEPS_TAKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let t = match ms {
            _ if !self.virtual_t => self.epoch.elapsed().as_nanos() as f64 / 1000.0,
            Some(ms) => ms as f64 * 1000.0,
            None => self.last_t,
        };
        self.last_t = t;
        if !self.steps.is_empty() {
            self.steps.push_str(",\n");
        }
        let _ = write!(self.steps, r#"{{"l":{loop_id},"t":{t:.1}"#);
        if let Some(ms) = ms {
            let _ = write!(self.steps, r#","ms":{ms}"#);
        }
        let _ = write!(self.steps, r#","k":"{kind}""#);
        Some(&mut self.steps)
    }

    /// A line of standard output, on the track of `loop_id` if it records
    /// here, else of the loop that recorded last (the output was written
    /// on some thread between two steps; the loop that records next, or
    /// last, is the best guess at whose it was).
    fn output_line(&mut self, line: &str, loop_id: Option<u32>) {
        let l = loop_id
            .filter(|id| self.loops.iter().any(|(l, _)| l == id))
            .unwrap_or(self.last_loop);
        if let Some(s) = self.begin(l, None, "out") {
            let _ = write!(s, r#","text":{}}}"#, json_str(line));
        }
    }

    /// The page: the template with this recording's JSON in it.
    fn page(&self) -> String {
        let program = std::env::args()
            .next()
            .map(|a| {
                Path::new(&a)
                    .file_name()
                    .map_or(a.clone(), |n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_default();
        let mut json = String::with_capacity(self.steps.len() + 4096);
        let _ = write!(
            json,
            r#"{{"format":1,"program":{},"truncated":{},"files":["#,
            json_str(&program),
            self.truncated
        );
        for (i, f) in self.files.iter().enumerate() {
            let text = read_source(f);
            let _ = write!(
                json,
                r#"{}{{"path":{},"text":{}}}"#,
                if i > 0 { "," } else { "" },
                json_str(f),
                text.as_deref().map_or("null".to_string(), json_str)
            );
        }
        json.push_str(r#"],"sites":["#);
        for (i, (f, l)) in self.sites.iter().enumerate() {
            let _ = write!(json, "{}[{f},{l}]", if i > 0 { "," } else { "" });
        }
        json.push_str(r#"],"loops":["#);
        for (i, (id, name)) in self.loops.iter().enumerate() {
            let _ = write!(
                json,
                r#"{}{{"id":{id},"name":{}}}"#,
                if i > 0 { "," } else { "" },
                json_str(name)
            );
        }
        json.push_str("],\"steps\":[\n");
        json.push_str(&self.steps);
        json.push_str("\n]}");
        // Inside a <script> element nothing may look like a closing tag.
        let json = json.replace('<', "\\u003c");
        TEMPLATE.replacen("__EVLOOP_REPLAY_DATA__", &json, 1)
    }

    fn write(&mut self) {
        self.written = Some(Instant::now());
        if let Err(e) = std::fs::write(&self.path, self.page()) {
            log::error!(target: "evloop", "cannot write the replay page {}: {e}", self.path.display());
        }
    }
}

/// The page template (`replay.html`): the recording goes where it says
/// `__EVLOOP_REPLAY_DATA__`.
const TEMPLATE: &str = include_str!("replay.html");

/// A source file's text, if it is readable and not too large. A site's
/// path is relative to the root of the crate that was built, which is the
/// working directory under `cargo run`; otherwise it is looked for above
/// the executable (`target/debug/examples/x` is three levels below the
/// root) and in evloop's own directory (its examples).
fn read_source(path: &str) -> Option<String> {
    let exe_root = std::env::current_exe()
        .ok()
        .and_then(|e| e.ancestors().nth(4).map(Path::to_path_buf));
    let candidates = [
        Some(PathBuf::from(path)),
        exe_root.map(|r| r.join(path)),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file())?;
    if std::fs::metadata(&found).ok()?.len() > MAX_FILE {
        return None;
    }
    std::fs::read_to_string(found).ok()
}

/// JSON string escaping.
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Moves whatever the program wrote to standard output since the last look
/// into every recording, as `out` steps. Called under the recordings' lock
/// before each step, so a line lands before the step that followed it.
///
/// A line belongs to the recordings that have a loop alive, or, when none
/// has (between two loops, after the last), to the one that recorded last:
/// a program that records several runs to several pages one after another
/// gets each run's lines in its own page.
fn take_output(all: &mut [Recording], loop_id: Option<u32>) {
    let mut capture = CAPTURE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = capture.as_mut() {
        c.drain(|line| output_to(all, line, loop_id));
    }
}

/// See [`take_output`].
fn output_to(all: &mut [Recording], line: &str, loop_id: Option<u32>) {
    let any_alive = all.iter().any(|r| r.alive > 0);
    let latest = all.iter().map(|r| r.last_used).max().unwrap_or(0);
    for r in all.iter_mut() {
        if r.alive > 0 || (!any_alive && r.last_used == latest) {
            r.output_line(line, loop_id);
        }
    }
}

/// The end of the process (an `atexit` handler): the last output lines,
/// then every page written once more.
pub(crate) fn finish() {
    let mut all = recordings();
    {
        let mut capture = CAPTURE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = capture.as_mut() {
            c.finish(|line| output_to(&mut all, line, None));
        }
    }
    for r in all.iter_mut() {
        r.write();
    }
}

/// One loop's handle on its recording, kept in its observer.
pub(crate) struct Replay {
    index: usize,
    loop_id: u32,
    /// Ids of the entries waiting in each FIFO queue (see `Queue::fifo`).
    fifo: std::cell::RefCell<[VecDeque<u64>; 4]>,
    next_id: std::cell::Cell<u64>,
    /// The recording reached its step cap.
    full: std::cell::Cell<bool>,
}

impl Replay {
    /// Starts recording loop `loop_id` into the page at `path` (joining the
    /// recording already writing there, if any); `seeded` makes the page's
    /// times virtual.
    pub(crate) fn start(path: &Path, loop_id: u32, seeded: bool) -> Replay {
        let mut all = recordings();
        let index = match all.iter().position(|r| r.path == path) {
            Some(i) => i,
            None => {
                all.push(Recording::new(path.to_path_buf()));
                all.len() - 1
            }
        };
        let name = match std::thread::current().name() {
            Some("main") => format!("loop {loop_id} (main thread)"),
            Some(n) => format!("loop {loop_id} ({n})"),
            None => format!("loop {loop_id}"),
        };
        all[index].loops.push((loop_id, name));
        all[index].virtual_t |= seeded;
        all[index].alive += 1;
        drop(all);
        crate::rt::trace::capture::start(&CAPTURE, take_output_now, finish);
        Replay {
            index,
            loop_id,
            fifo: Default::default(),
            next_id: std::cell::Cell::new(1),
            full: std::cell::Cell::new(false),
        }
    }

    /// Adds one step: `fields` writes its fields after the common ones.
    fn step(&self, ms: Option<u64>, kind: &str, fields: impl FnOnce(&mut Recording) -> String) {
        if self.full.get() {
            // Past the cap nothing more is kept: skip the lock (the reader
            // thread still passes the output on).
            return;
        }
        if !add_step(self.index, self.loop_id, ms, kind, fields) {
            self.full.set(true);
        }
    }

    fn fresh_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    pub(crate) fn phase(&self, ms: u64, phase: &str, iteration: u64) {
        self.step(Some(ms), "phase", |_| {
            format!(r#","p":"{phase}","i":{iteration}"#)
        });
    }

    /// An entry joins queue `q`: `id` for timers and immediates (their flow
    /// id), a fresh one for the FIFO queues.
    pub(crate) fn push(&self, ms: u64, q: Queue, id: Option<u64>, site: Site, extra: &str) {
        let id = match (q.fifo(), id) {
            (_, Some(flow)) => page_id(q, flow),
            (Some(f), None) => {
                let id = self.fresh_id();
                self.fifo.borrow_mut()[f].push_back(id);
                id
            }
            (None, None) => self.fresh_id(),
        };
        self.step(Some(ms), "push", |r| {
            format!(
                r#","q":"{}","id":{id},"s":{}{extra}"#,
                q.name(),
                r.site(site)
            )
        });
    }

    pub(crate) fn cancel(&self, ms: u64, q: Queue, flow: u64) {
        let id = page_id(q, flow);
        self.step(Some(ms), "cancel", |_| {
            format!(r#","q":"{}","id":{id}"#, q.name())
        });
    }

    pub(crate) fn name(&self, ms: u64, q: Queue, flow: u64, name: &str) {
        let id = page_id(q, flow);
        self.step(Some(ms), "name", |_| {
            format!(r#","q":"{}","id":{id},"name":{}"#, q.name(), json_str(name))
        });
    }

    /// A callback starts, from `from`, scheduled at `site`.
    pub(crate) fn run(&self, ms: u64, from: From, site: Site) {
        let fields = match from {
            From::Fifo(q) | From::Nth(q, _) => {
                let at = match from {
                    From::Nth(_, at) => at,
                    _ => 0,
                };
                let id = q
                    .fifo()
                    .and_then(|f| self.fifo.borrow_mut()[f].remove(at))
                    .unwrap_or(0);
                format!(r#","q":"{}","id":{id}"#, q.name())
            }
            From::TaskPoll(task) => {
                let id = self.fifo.borrow_mut()[1].pop_front().unwrap_or(0);
                format!(r#","q":"micro","id":{id},"task":{}"#, task_number(task))
            }
            From::Keyed(q, flow) => format!(r#","q":"{}","id":{}"#, q.name(), page_id(q, flow)),
            From::Main => r#","q":"main""#.to_string(),
            From::Io(tok) => format!(r#","q":"io","tok":{tok}"#),
            From::Post => r#","q":"post""#.to_string(),
            From::Pool(id) => format!(r#","q":"pool","id":{id}"#),
            From::Call(task) => format!(r#","q":"call","task":{}"#, task_number(task)),
            From::Watcher(kind) => format!(r#","q":"{}""#, kind.type_name().to_lowercase()),
        };
        self.step(Some(ms), "run", |r| {
            format!(r#"{fields},"s":{}"#, r.site(site))
        });
    }

    /// The OS reported source `tok` ready; its callback runs next.
    pub(crate) fn io(&self, ms: u64, tok: usize, readable: bool, writable: bool) {
        self.step(Some(ms), "io", |_| {
            format!(r#","tok":{tok},"r":{readable},"w":{writable}"#)
        });
    }

    pub(crate) fn ret(&self, ms: u64, panicked: bool) {
        self.step(Some(ms), "ret", |_| {
            if panicked { r#","panic":true"# } else { "" }.to_string()
        });
    }

    pub(crate) fn wait(&self, ms: u64, timeout: Option<u64>) {
        self.step(Some(ms), "wait", |_| match timeout {
            Some(t) => format!(r#","timeout":{t}"#),
            None => r#","timeout":null"#.to_string(),
        });
    }

    pub(crate) fn wake(&self, ms: u64) {
        self.step(Some(ms), "wake", |_| String::new());
    }

    /// A sink for the pool threads of this loop.
    pub(crate) fn pool_sink(&self) -> ReplaySink {
        ReplaySink {
            index: self.index,
            loop_id: self.loop_id,
        }
    }

    /// Writes the page now (a recording loop is being dropped).
    pub(crate) fn flush(&self) {
        add_step(self.index, self.loop_id, None, "phase", |_| {
            r#","p":"exit","i":0"#.to_string()
        });
        let mut all = recordings();
        let r = &mut all[self.index];
        r.alive = r.alive.saturating_sub(1);
        // A program that runs many loops (a test suite) would rewrite a
        // large page at every drop: past 1 MB, at most once a second (the
        // exit hook writes the last state).
        let small = r.steps.len() < 1 << 20;
        if small
            || r.written
                .is_none_or(|w| w.elapsed() >= Duration::from_secs(1))
        {
            r.write();
        }
    }
}

/// A timer's or immediate's flow id as the page's id: a JavaScript number
/// is exact only up to 2^53, and a timer's flow id uses all 64 bits (the
/// slot, then 21 bits of its generation, tell timers apart within a run).
fn page_id(q: Queue, flow: u64) -> u64 {
    const EXACT: u64 = (1 << 53) - 1;
    match q {
        Queue::Timer => ((flow >> 31) & 0xffff_ffff) << 21 | (flow & 0x1f_ffff),
        _ => flow & EXACT,
    }
}

/// A task's number as the page shows it: its slot, which is what a reader
/// can tell apart ("task 3"); the generation only guards reuse.
fn task_number(packed: u64) -> u64 {
    packed >> 32
}

/// Where a pool thread records the jobs of one loop.
#[derive(Clone, Debug)]
pub(crate) struct ReplaySink {
    index: usize,
    loop_id: u32,
}

impl ReplaySink {
    /// Job `id` (scheduled at `site`) is queued, starts or is done; `thread`
    /// for the last two. `ms`: the loop's time, when the loop records it.
    pub(crate) fn job(
        &self,
        ms: Option<u64>,
        event: &str,
        id: usize,
        site: Site,
        thread: Option<usize>,
    ) {
        add_step(self.index, self.loop_id, ms, "job", |r| {
            let mut fields = format!(r#","ev":"{event}","id":{id},"s":{}"#, r.site(site));
            if let Some(th) = thread {
                let _ = write!(fields, r#","th":{th}"#);
            }
            fields
        });
    }
}

/// Adds one step of loop `loop_id` to recording `index`, after the output
/// written since the last step: `fields` writes its fields after the common
/// ones. Returns whether it was kept (`false` past the step cap).
fn add_step(
    index: usize,
    loop_id: u32,
    ms: Option<u64>,
    kind: &str,
    fields: impl FnOnce(&mut Recording) -> String,
) -> bool {
    let mut all = recordings();
    take_output(&mut all, Some(loop_id));
    let r = &mut all[index];
    let fields = fields(r);
    match r.begin(loop_id, ms, kind) {
        Some(s) => {
            s.push_str(&fields);
            s.push('}');
            true
        }
        None => false,
    }
}

/// Empties the captured output into the recordings now (the reader
/// thread, when the pipe becomes readable).
pub(crate) fn take_output_now() {
    let mut all = recordings();
    take_output(&mut all, None);
}
