//! The terminal stepper (`EVLOOP_STEP=1`): before each callback, the call
//! stack and what waits in every queue, with the places that scheduled it;
//! then, on a terminal, a pause until Enter. Without a terminal every step
//! is printed and the run goes on. It writes to standard error, so the
//! program's own output stays as it is.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, IsTerminal, Write};

use crate::rt::trace::counts::Snapshot;
use crate::rt::trace::replay::From;

/// The stepper's state: the call stack as it describes it.
pub(crate) struct Stepper {
    stack: RefCell<Vec<String>>,
    interactive: bool,
    steps: Cell<u64>,
}

impl Stepper {
    pub(crate) fn new() -> Stepper {
        Stepper {
            stack: RefCell::new(Vec::new()),
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            steps: Cell::new(0),
        }
    }

    /// A callback is about to run: show the stack it joins and the queues,
    /// then wait for Enter on a terminal.
    pub(crate) fn enter(&self, what: String, snap: &Snapshot) {
        self.stack.borrow_mut().push(what);
        let n = self.steps.get() + 1;
        self.steps.set(n);
        let mut out = String::new();
        out.push_str(&format!(
            "\n── step {n} · iteration {} · {} phase ──\n",
            snap.iteration,
            snap.phase.name()
        ));
        out.push_str("call stack (top first):\n");
        for frame in self.stack.borrow().iter().rev() {
            out.push_str(&format!("  {frame}\n"));
        }
        if let Some(labels) = &snap.labels {
            let queues: [(&str, &Vec<String>); 4] = [
                ("next-tick queue", &labels.next_ticks),
                ("microtask queue", &labels.microtasks),
                ("timers (by deadline)", &labels.timers),
                ("check queue (immediates)", &labels.immediates),
            ];
            for (name, items) in queues {
                out.push_str(&format!("{name}: {}\n", list(items)));
            }
            out.push_str(&format!("pending callbacks: {}\n", list(&labels.pending)));
            out.push_str(&format!("close callbacks: {}\n", list(&labels.closing)));
        }
        out.push_str(&format!(
            "thread pool: {} running, {} queued\n",
            snap.pool_running, snap.pool_queued
        ));
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(out.as_bytes());
        if self.interactive {
            let _ = write!(err, "(Enter: next step) ");
            let _ = err.flush();
            drop(err);
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
    }

    /// The running callback returned.
    pub(crate) fn leave(&self) {
        self.stack.borrow_mut().pop();
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(empty)".to_string()
    } else {
        items.join(", ")
    }
}

/// What a callback is, in the stepper's words.
pub(crate) fn describe(from: From, at: &str) -> String {
    match from {
        From::Fifo(q) | From::Nth(q, _) | From::Keyed(q, _) => {
            format!("{} scheduled at {at}", q.words())
        }
        From::TaskPoll(task) => format!("poll of task {} (spawned at {at})", task >> 32),
        From::Main => "main script".to_string(),
        From::Io(tok) => format!("I/O callback of source {tok}"),
        From::Post => format!("message from another thread (posted at {at})"),
        From::Pool(id) => format!("completion of pool job {id} (queued at {at})"),
        From::Call(_) => format!("first poll of a task spawned at {at}"),
        From::Watcher(kind) => format!("{} handle started at {at}", kind.type_name()),
    }
}
