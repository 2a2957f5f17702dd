//! TTL checks: a check whose TTL passes without a pass/warn/fail/update turns critical
//! with the output "TTL expired", as in Consul. One task serves every TTL check.

use std::sync::Arc;

use proconsul_api::HealthStatus;
use tokio::time::Instant;

use crate::agent::AgentInner;
use crate::deadlines::DeadlineQueue;
use crate::local::LocalCheck;

/// The output Consul gives a TTL check that expired.
pub const TTL_EXPIRED: &str = "TTL expired";

/// The deadline of every TTL check this agent owns.
#[derive(Debug, Default)]
pub struct TtlTimers {
    queue: DeadlineQueue,
}

impl TtlTimers {
    /// (Re)starts the TTL of `check` if it is a TTL check.
    pub fn watch(&self, check: &LocalCheck) {
        if let Some(ttl) = check.definition.ttl {
            self.queue.set(&check.check.check_id, Instant::now() + ttl);
        }
    }

    /// Forgets a check's deadline (the check was deregistered).
    pub fn remove(&self, check_id: &str) {
        self.queue.remove(check_id);
    }
}

/// Marks TTL checks critical as their deadlines pass, until the agent shuts down.
pub async fn expire_checks(agent: Arc<AgentInner>) {
    while let Some(expired) = agent.ttl.queue.next_due(&agent.shutdown).await {
        for check_id in expired {
            // Renewed after it came due: the renewal wins.
            if agent.ttl.queue.contains(&check_id) {
                continue;
            }
            let Some(local) = agent.local.check(&check_id) else {
                continue;
            };
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
