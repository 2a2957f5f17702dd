//! Anti-entropy: the agent's services and checks are the truth about its node, and the
//! catalog is made to agree with them. Every change is written at once; this loop
//! repairs what drifts anyway (a write that failed, or a change made through the catalog
//! API behind the agent's back) with a full comparison every `ae_interval`.
//!
//! Only entries that differ are written, so a quiet agent writes nothing to Raft. With
//! `EnableTagOverride`, tags changed in the catalog are kept and copied into the agent.

use std::sync::Arc;

use proconsul_api::HealthCheck;
use tokio::time::MissedTickBehavior;

use crate::agent::AgentInner;
use crate::error::WriteError;
use crate::local::CatalogIndexes;

/// The service the servers register for themselves on their node, not the agent's.
const SERVER_SERVICE: &str = "consul";
/// The node check gossip owns, not the agent.
const SERF_CHECK: &str = "serfHealth";

/// What one sync pass changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub services_written: usize,
    pub checks_written: usize,
    pub services_removed: usize,
    pub checks_removed: usize,
    /// Entries whose tokens did not allow the write (each logged).
    pub blocked: usize,
}

/// Runs a full sync every `ae_interval` until shutdown.
pub async fn run(agent: Arc<AgentInner>) {
    let mut ticker = tokio::time::interval(agent.config.ae_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = agent.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match sync(&agent).await {
            Ok(report) if report.blocked > 0 => {
                tracing::warn!(
                    ?report,
                    "anti-entropy: ACLs blocked part of the sync; will retry"
                );
            }
            Ok(report) if report != SyncReport::default() => {
                tracing::info!(?report, "anti-entropy: repaired the catalog");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "anti-entropy: sync failed; will retry"),
        }
    }
}

/// Compares the agent's state with the catalog's view of its node and repairs the
/// catalog.
pub async fn sync(agent: &AgentInner) -> Result<SyncReport, WriteError> {
    let node = agent.node.name.as_str();
    let mut report = SyncReport::default();
    let state = agent.consensus.reader().current();
    if state.node(node).is_none() {
        crate::agent::register_self(agent)
            .await
            .map_err(|error| WriteError::Rejected(error.to_string()))?;
    }
    let state = agent.consensus.reader().current();

    let local_services = agent.local.services();
    for (id, local) in &local_services {
        let catalog = state.node_service(node, id);
        let mut wanted = local.clone();
        if let Some(catalog) = catalog
            && local.enable_tag_override
            && catalog.tags != local.tags
        {
            // Tags set through the catalog win; the agent adopts them.
            wanted.tags = catalog.tags.clone();
            agent.local.set_service_tags(id, catalog.tags.clone());
        }
        if catalog.is_none_or(|catalog| !catalog.same_but_indexes(&wanted)) {
            let blocked = agent.register_local(Some(wanted), Vec::new()).await?;
            report.services_written += 1 - blocked;
            report.blocked += blocked;
        }
    }

    let local_checks = agent.local.checks();
    let changed_checks: Vec<HealthCheck> = local_checks
        .values()
        .filter(|local| {
            state
                .check(node, &local.check.check_id)
                .is_none_or(|catalog| !same_check(catalog, &local.check))
        })
        .map(|local| local.check.clone())
        .collect();
    if !changed_checks.is_empty() {
        let wanted = changed_checks.len();
        let blocked = agent.register_local(None, changed_checks).await?;
        report.checks_written = wanted - blocked;
        report.blocked += blocked;
    }

    // Ownership is read from the local state as it is now, not from the copy above, so
    // a service registered meanwhile is not taken for a stranger.
    let state = agent.consensus.reader().current();
    for service in state.node_services(node) {
        if service.id != SERVER_SERVICE && agent.local.service(&service.id).is_none() {
            if agent.deregister_local(&service.id, "", "").await? {
                report.services_removed += 1;
            } else {
                report.blocked += 1;
            }
        }
    }
    for check in state.node_checks(node) {
        if check.check_id != SERF_CHECK && agent.local.check(&check.check_id).is_none() {
            if agent.deregister_local("", &check.check_id, "").await? {
                report.checks_removed += 1;
            } else {
                report.blocked += 1;
            }
        }
    }
    Ok(report)
}

/// Equal in everything the agent decides.
fn same_check(catalog: &HealthCheck, local: &HealthCheck) -> bool {
    catalog.status == local.status
        && catalog.output == local.output
        && catalog.name == local.name
        && catalog.notes == local.notes
        && catalog.service_id == local.service_id
        && catalog.check_type == local.check_type
        && catalog.definition == local.definition
}
