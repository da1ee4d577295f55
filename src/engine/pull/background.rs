//! Running one future in the background of another without a runtime.
//!
//! The engine is platform-free and single-threaded (in the browser every future runs on the
//! JS event loop), so overlapping two pieces of I/O — the next page's fetch while this page
//! commits — needs no executor, only a future that polls both. [`Background`] owns the
//! future that may outlive the step it overlaps: it is driven while [`Background::drive_while`]
//! runs a foreground future, keeps its output if it finishes first, and is either awaited
//! later ([`Background::finish`]) or dropped, which cancels it (nothing more of it runs).
//!
//! The foreground is polled first on every wake-up, so a foreground that completes at once
//! (an in-memory store) never starts the background: what that background would do happens
//! only when it is finished, in the same order as without overlap.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Wakes nothing: [`Background::start`]'s first poll has no task to wake yet.
struct NoWake;

impl Wake for NoWake {
    fn wake(self: Arc<Self>) {}
}

/// A future that runs while other work is awaited.
pub enum Background<F: Future> {
    Running(Pin<Box<F>>),
    Done(F::Output),
}

impl<F: Future> Background<F> {
    /// Wraps `future`; nothing of it runs until it is driven or finished.
    pub fn new(future: F) -> Self {
        Background::Running(Box::pin(future))
    }

    /// Polls the background future once now, so whatever it does first happens before
    /// anything created after this call (a storage transaction is created at the first
    /// poll). Whoever drives it later brings the waker that matters.
    pub fn start(&mut self) {
        self.step(&mut Context::from_waker(&Waker::from(Arc::new(NoWake))));
    }

    /// True once the background future has produced its output.
    pub fn is_done(&self) -> bool {
        matches!(self, Background::Done(_))
    }

    fn step(&mut self, cx: &mut Context<'_>) {
        if let Background::Running(f) = self {
            if let Poll::Ready(out) = f.as_mut().poll(cx) {
                *self = Background::Done(out);
            }
        }
    }

    /// Awaits `foreground`, driving the background future whenever the foreground is
    /// pending. Returns as soon as the foreground is done, whether or not the background is.
    pub async fn drive_while<A: Future>(&mut self, foreground: A) -> A::Output {
        let mut foreground = pin!(foreground);
        poll_fn(|cx| {
            if let Poll::Ready(out) = foreground.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            self.step(cx);
            Poll::Pending
        })
        .await
    }

    /// Awaits `foreground` like [`drive_while`](Self::drive_while), but steps the background
    /// future *before* the foreground on every wake-up — for a background that logically
    /// comes first (the commit of the page before), so one that completes at once (an
    /// in-memory store) is done before the foreground does anything — and gives up as soon
    /// as the background is done with an output `stop` refuses: the foreground is then
    /// dropped unfinished (cancelled) and `None` returned.
    pub async fn lead_unless<A: Future>(
        &mut self,
        foreground: A,
        stop: impl Fn(&F::Output) -> bool,
    ) -> Option<A::Output> {
        let mut foreground = pin!(foreground);
        poll_fn(|cx| {
            self.step(cx);
            if let Background::Done(out) = self {
                if stop(out) {
                    return Poll::Ready(None);
                }
            }
            foreground.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// Drives the background future until it is done, keeping its output here (a future
    /// that borrows this `Background`: dropping it leaves the work where it got to).
    pub async fn until_done(&mut self) {
        poll_fn(|cx| {
            self.step(cx);
            if self.is_done() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// The background future's output, awaiting the rest of it if it is still running.
    pub async fn finish(self) -> F::Output {
        match self {
            Background::Running(f) => f.await,
            Background::Done(out) => out,
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Pending `n` times (waking itself), then ready with `value`.
    fn yields(n: u32, value: u32, log: &Cell<u32>) -> impl Future<Output = u32> + '_ {
        let mut left = n;
        poll_fn(move |cx| {
            log.set(log.get() + 1);
            if left == 0 {
                Poll::Ready(value)
            } else {
                left -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
    }

    #[test]
    fn a_ready_foreground_never_starts_the_background() {
        let polls = Cell::new(0);
        let mut bg = Background::new(yields(0, 7, &polls));
        let out = futures::executor::block_on(bg.drive_while(async { 1 }));
        assert_eq!((out, polls.get(), bg.is_done()), (1, 0, false));
        assert_eq!(futures::executor::block_on(bg.finish()), 7);
        assert_eq!(polls.get(), 1);
    }

    #[test]
    fn the_background_runs_while_the_foreground_waits_and_keeps_its_output() {
        let (fg_polls, bg_polls) = (Cell::new(0), Cell::new(0));
        let mut bg = Background::new(yields(1, 7, &bg_polls));
        let out = futures::executor::block_on(bg.drive_while(yields(3, 1, &fg_polls)));
        assert_eq!(out, 1);
        assert!(bg.is_done());
        // Polled twice (pending, ready), then left alone.
        assert_eq!((fg_polls.get(), bg_polls.get()), (4, 2));
        assert_eq!(futures::executor::block_on(bg.finish()), 7);
        assert_eq!(bg_polls.get(), 2);
    }

    #[test]
    fn an_unfinished_background_is_returned_and_dropping_it_cancels_it() {
        let (fg_polls, bg_polls) = (Cell::new(0), Cell::new(0));
        let mut bg = Background::new(yields(10, 7, &bg_polls));
        futures::executor::block_on(bg.drive_while(yields(2, 1, &fg_polls)));
        assert!(!bg.is_done());
        assert_eq!(bg_polls.get(), 2);
        drop(bg);
        assert_eq!(bg_polls.get(), 2);
    }
}
