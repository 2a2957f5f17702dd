//! TTL checks: a check whose TTL passes without a pass/warn/fail/update turns critical
//! with the output "TTL expired", as in Consul.
//!
//! One task serves every TTL check: the deadlines live in an ordered set, and the task
//! sleeps until the earliest (or until a deadline changes). No task or timer per check.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use proconsul_api::HealthStatus;
use proconsul_api::duration::parse_duration;
use tokio::sync::Notify;
use tokio::time::{Duration, Instant};

use crate::agent::AgentInner;
use crate::local::LocalCheck;

/// The output Consul gives a TTL check that expired.
pub const TTL_EXPIRED: &str = "TTL expired";

/// The deadline of every TTL check this agent owns.
#[derive(Debug, Default)]
pub struct TtlTimers {
    deadlines: Mutex<Deadlines>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct Deadlines {
    by_check: HashMap<String, Instant>,
    queue: BTreeSet<(Instant, String)>,
}

impl TtlTimers {
    /// (Re)starts the TTL of `check` if it is a TTL check.
    pub fn watch(&self, check: &LocalCheck) {
        let Some(ttl) = check
            .definition
            .ttl
            .as_deref()
            .and_then(|text| parse_duration(text).ok())
        else {
            return;
        };
        self.reset(&check.check.check_id, ttl);
    }

    fn reset(&self, check_id: &str, ttl: Duration) {
        let deadline = Instant::now() + ttl;
        let mut deadlines = self.lock();
        if let Some(old) = deadlines.by_check.insert(check_id.to_string(), deadline) {
            deadlines.queue.remove(&(old, check_id.to_string()));
        }
        deadlines.queue.insert((deadline, check_id.to_string()));
        drop(deadlines);
        self.changed.notify_one();
    }

    /// Forgets a check's deadline (the check was deregistered).
    pub fn remove(&self, check_id: &str) {
        let mut deadlines = self.lock();
        if let Some(old) = deadlines.by_check.remove(check_id) {
            deadlines.queue.remove(&(old, check_id.to_string()));
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.lock().queue.first().map(|(deadline, _)| *deadline)
    }

    /// Removes and returns the checks whose deadline is at or before `now`.
    fn pop_expired(&self, now: Instant) -> Vec<String> {
        let mut deadlines = self.lock();
        let mut expired = Vec::new();
        while let Some((deadline, _)) = deadlines.queue.first() {
            if *deadline > now {
                break;
            }
            let (_, check_id) = deadlines.queue.pop_first().expect("first exists");
            deadlines.by_check.remove(&check_id);
            expired.push(check_id);
        }
        expired
    }

    /// Whether the check has a pending deadline (it was renewed after it expired).
    fn is_pending(&self, check_id: &str) -> bool {
        self.lock().by_check.contains_key(check_id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Deadlines> {
        // Each method leaves both maps consistent before it can panic, so a poisoned
        // lock still holds consistent data.
        self.deadlines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Marks TTL checks critical as their deadlines pass, until the agent shuts down.
pub async fn expire_checks(agent: Arc<AgentInner>) {
    const IDLE: Duration = Duration::from_secs(3600);
    loop {
        let wake_at = agent
            .ttl
            .next_deadline()
            .unwrap_or_else(|| Instant::now() + IDLE);
        tokio::select! {
            _ = agent.shutdown.cancelled() => return,
            _ = agent.ttl.changed.notified() => continue,
            _ = tokio::time::sleep_until(wake_at) => {}
        }
        for check_id in agent.ttl.pop_expired(Instant::now()) {
            let Some(local) = agent.local.check(&check_id) else {
                continue;
            };
            if agent.ttl.is_pending(&check_id) {
                continue;
            }
            tracing::debug!(check = %check_id, "TTL expired");
            if let Err(error) = agent
                .set_check_status(&local, HealthStatus::Critical, TTL_EXPIRED.to_string())
                .await
            {
                tracing::warn!(check = %check_id, %error, "could not mark an expired TTL check critical");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deadlines_pop_in_order_and_resets_move_them() {
        let timers = TtlTimers::default();
        timers.reset("a", Duration::from_millis(10));
        timers.reset("b", Duration::from_millis(20));
        timers.reset("a", Duration::from_secs(60));
        let later = Instant::now() + Duration::from_millis(30);
        assert_eq!(timers.pop_expired(later), ["b"]);
        assert!(timers.is_pending("a"));
        timers.remove("a");
        assert_eq!(timers.next_deadline(), None);
    }
}
