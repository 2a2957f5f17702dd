//! `DeregisterCriticalServiceAfter`: services whose check has stayed critical too long
//! are deregistered, so dead instances do not linger in the catalog (Consul's reaper:
//! every 30 seconds, never sooner than one minute of being critical).

use std::sync::Arc;

use tokio::time::MissedTickBehavior;

use crate::agent::AgentInner;

/// Deregisters overdue services every `check_reap_interval`, until shutdown.
pub async fn reap_critical_services(agent: Arc<AgentInner>) {
    let mut ticker = tokio::time::interval(agent.config.check_reap_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = agent.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let minimum = agent.config.check_deregister_minimum;
        for (service_id, after) in agent.local.overdue_services(minimum) {
            match agent.remove_service(&service_id).await {
                Ok(()) => tracing::info!(
                    service = %service_id,
                    after = ?after,
                    "deregistered a service whose check stayed critical past DeregisterCriticalServiceAfter"
                ),
                Err(error) => {
                    tracing::warn!(service = %service_id, %error, "could not reap a critical service")
                }
            }
        }
    }
}
