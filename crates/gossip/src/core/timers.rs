//! The core's timer queue: foca's timers (with delays Lifeguard may stretch) and the core's
//! own periodic work, ordered by deadline on the caller's clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::identity::NodeId;

/// Something to do at a deadline.
#[derive(Debug)]
pub(crate) enum TimerKind {
    /// A timer foca asked for.
    Foca(foca::Timer<NodeId>),
    /// The (possibly moved) end of our suspicion of a member.
    SuspicionEnd(Arc<str>),
    /// Remind a member we suspect that it should refute.
    SuspicionNotice(Arc<str>),
    /// Send a nack if the indirect probe we relayed is still unanswered.
    Nack {
        target: Arc<str>,
        probe_number: u8,
        requester: Arc<str>,
    },
    /// Full state exchange with a random member (and reconnect attempts).
    PushPull,
    /// Reap failed and left members.
    Reap,
    /// Gossip the latest local coordinate.
    CoordinateBroadcast,
}

/// Deadline-ordered timers; equal deadlines fire in insertion order.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    queue: BTreeMap<(Duration, u64), TimerKind>,
    seq: u64,
}

impl Timers {
    pub fn add(&mut self, at: Duration, kind: TimerKind) {
        self.seq += 1;
        self.queue.insert((at, self.seq), kind);
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    /// The earliest timer due at `now`, removed.
    pub fn pop_due(&mut self, now: Duration) -> Option<TimerKind> {
        let (&(at, seq), _) = self.queue.iter().next()?;
        if at > now {
            return None;
        }
        self.queue.remove(&(at, seq))
    }
}
