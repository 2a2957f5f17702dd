//! A set of named deadlines that one task sleeps on: the scheduling core shared by TTL
//! expiry and the check runner. Ordered by time, so the earliest is O(log n) away, and
//! a change to the earliest deadline wakes the sleeper.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tokio::sync::Notify;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Named deadlines; one name has at most one deadline.
#[derive(Debug, Default)]
pub struct DeadlineQueue {
    deadlines: Mutex<Deadlines>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct Deadlines {
    by_name: HashMap<String, Instant>,
    queue: BTreeSet<(Instant, String)>,
}

impl DeadlineQueue {
    /// Sets `name`'s deadline to `at`, replacing any earlier one.
    pub fn set(&self, name: &str, at: Instant) {
        let mut deadlines = self.lock();
        if let Some(old) = deadlines.by_name.insert(name.to_string(), at) {
            deadlines.queue.remove(&(old, name.to_string()));
        }
        deadlines.queue.insert((at, name.to_string()));
        drop(deadlines);
        self.changed.notify_one();
    }

    /// Forgets `name`'s deadline.
    pub fn remove(&self, name: &str) {
        let mut deadlines = self.lock();
        if let Some(old) = deadlines.by_name.remove(name) {
            deadlines.queue.remove(&(old, name.to_string()));
        }
    }

    /// How many deadlines are pending.
    pub fn len(&self) -> usize {
        self.lock().by_name.len()
    }

    /// Whether `name` has a pending deadline.
    pub fn contains(&self, name: &str) -> bool {
        self.lock().by_name.contains_key(name)
    }

    /// Waits until a deadline is due (returning the due names, removed from the queue),
    /// or until `shutdown` is cancelled (returning `None`).
    pub async fn next_due(&self, shutdown: &CancellationToken) -> Option<Vec<String>> {
        const IDLE: Duration = Duration::from_secs(3600);
        loop {
            let now = Instant::now();
            let due = self.pop_due(now);
            if !due.is_empty() {
                return Some(due);
            }
            let wake_at = self.earliest().unwrap_or(now + IDLE);
            tokio::select! {
                _ = shutdown.cancelled() => return None,
                _ = self.changed.notified() => {}
                _ = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    fn earliest(&self) -> Option<Instant> {
        self.lock().queue.first().map(|(at, _)| *at)
    }

    fn pop_due(&self, now: Instant) -> Vec<String> {
        let mut deadlines = self.lock();
        let mut due = Vec::new();
        while deadlines.queue.first().is_some_and(|(at, _)| *at <= now) {
            let (_, name) = deadlines.queue.pop_first().expect("checked non-empty");
            deadlines.by_name.remove(&name);
            due.push(name);
        }
        due
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Deadlines> {
        // Each method leaves both maps consistent before it can panic, so a poisoned
        // lock still holds consistent data.
        self.deadlines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deadlines_come_due_in_order_and_moves_are_honoured() {
        let queue = DeadlineQueue::default();
        let now = Instant::now();
        queue.set("a", now + Duration::from_millis(10));
        queue.set("b", now + Duration::from_millis(20));
        queue.set("a", now + Duration::from_secs(60));
        let shutdown = CancellationToken::new();
        assert_eq!(queue.next_due(&shutdown).await, Some(vec!["b".to_string()]));
        assert!(queue.contains("a"));
        queue.remove("a");
        assert!(!queue.contains("a"));
        shutdown.cancel();
        assert_eq!(queue.next_due(&shutdown).await, None);
    }
}
