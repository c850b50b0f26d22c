//! `Group`: the children of a combinator over an iterator of futures
//! ([`join_all`](crate::join_all), [`race`](crate::race) and the rest), and
//! when each of them is polled.

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::wakeup::Wakeup;

/// The children of a combinator over an iterator of futures, with the
/// polling policy described on [`join_all`](crate::join_all).
pub(super) struct Group<F> {
    /// `None` once finished (or dropped).
    children: Vec<Option<Pin<Box<F>>>>,
    /// Made at the first poll, one per child.
    wakers: Vec<Waker>,
    wakeup: Arc<Wakeup>,
    /// Buffer swapped with the ready list at each poll.
    batch: Vec<usize>,
    started: bool,
    /// Children not finished yet (read through `left`).
    left: usize,
}

impl<F: Future> Group<F> {
    /// The children, in input order, none polled yet.
    pub(super) fn new(futures: impl IntoIterator<Item = F>) -> Group<F> {
        let children: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
        let n = children.len();
        Group {
            children,
            wakers: Vec::new(),
            wakeup: Wakeup::new(n),
            batch: Vec::new(),
            started: false,
            left: n,
        }
    }

    /// How many children there are (finished or not).
    pub(super) fn len(&self) -> usize {
        self.children.len()
    }

    /// How many children have not finished yet.
    pub(super) fn left(&self) -> usize {
        self.left
    }

    /// Polls the children that are due and hands each one that finishes to
    /// `on_ready` with its index. The first call polls every child, in input
    /// order, even after `on_ready` has broken (JavaScript starts them all),
    /// and returns the first break; later calls poll the woken children in
    /// wake order and stop at the first break.
    pub(super) fn poll<B>(
        &mut self,
        cx: &Context<'_>,
        mut on_ready: impl FnMut(usize, F::Output) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        self.wakeup.begin(cx, &mut self.batch);
        let flow = self.poll_due(&mut on_ready);
        self.wakeup.end(cx, flow.is_continue() && self.left > 0);
        flow
    }

    /// The body of `poll`, between `Wakeup::begin` and `Wakeup::end`.
    fn poll_due<B>(
        &mut self,
        on_ready: &mut impl FnMut(usize, F::Output) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let mut flow = ControlFlow::Continue(());
        if !self.started {
            self.started = true;
            self.batch.clear(); // no child waker existed yet: nothing in it
            self.wakers.reserve_exact(self.children.len());
            for i in 0..self.children.len() {
                let waker = self.wakeup.child_waker(i);
                let child = self.children[i].as_mut().expect("not started yet");
                let polled = child.as_mut().poll(&mut Context::from_waker(&waker));
                self.wakers.push(waker);
                if let Poll::Ready(out) = polled {
                    self.children[i] = None;
                    self.left -= 1;
                    if flow.is_continue() {
                        flow = on_ready(i, out);
                    }
                }
            }
            return flow;
        }
        let mut batch = std::mem::take(&mut self.batch);
        for &i in &batch {
            self.wakeup.unlist(i);
            let Some(child) = self.children[i].as_mut() else {
                continue; // finished already: a stale wake
            };
            if let Poll::Ready(out) = child
                .as_mut()
                .poll(&mut Context::from_waker(&self.wakers[i]))
            {
                self.children[i] = None;
                self.left -= 1;
                flow = on_ready(i, out);
                if flow.is_break() {
                    break;
                }
            }
        }
        batch.clear();
        self.batch = batch;
        flow
    }

    /// Drops (cancels) every child still running, and the wakers.
    pub(super) fn finish(&mut self) {
        self.children = Vec::new();
        self.wakers = Vec::new();
        self.wakeup.clear();
    }
}

impl<F> Drop for Group<F> {
    fn drop(&mut self) {
        // The children go first (dropping one may wake another), then the
        // parent, so a child waker that outlives us wakes nothing.
        self.children = Vec::new();
        self.wakeup.clear();
    }
}

impl<F> fmt::Debug for Group<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("len", &self.children.len())
            .field("pending", &self.left)
            .finish()
    }
}

/// The panic of a combinator's future (and of `join!`'s) polled again after
/// it returned `Ready`.
#[cold]
#[track_caller]
pub(super) fn polled_after_completion(what: &str) -> ! {
    panic!("evloop: {what} polled after it completed")
}
