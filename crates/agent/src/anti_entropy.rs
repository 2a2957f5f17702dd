//! Anti-entropy: the agent's services and checks are the truth about its node, and the
//! catalog is made to agree with them. Every change is written at once; this loop
//! repairs what drifts anyway (a write that failed, or a change made through the catalog
//! API behind the agent's back) with a full comparison every `ae_interval`.
//!
//! Only entries that differ are written, so a quiet agent writes nothing to Raft. With
//! `EnableTagOverride`, tags changed in the catalog are kept and copied into the agent.
//! The node's own entry is written again when its ID or metadata differ (the leader
//! registers a client's node from gossip, without the agent's `node_meta`).

use std::collections::HashMap;
use std::sync::Arc;

use proconsul_api::{AgentService, HealthCheck};
use tokio::time::MissedTickBehavior;

use crate::acl::AclRefusal;
use crate::agent::AgentInner;
use crate::error::WriteError;
use crate::local::CatalogIndexes;
use crate::server_link::LinkError;

/// The service the servers register for themselves on their node, not the agent's.
const SERVER_SERVICE: &str = "consul";
/// The node check gossip owns, not the agent.
const SERF_CHECK: &str = "serfHealth";

/// How soon a failed sync is tried again (Consul's `retryFailIntv`): a client agent
/// whose servers were unreachable catches up soon after they answer again.
const RETRY_AFTER_FAILURE: std::time::Duration = std::time::Duration::from_secs(15);

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

/// Runs a full sync every `ae_interval`, and when [`AgentInner::sync_now`] is notified,
/// until shutdown.
pub async fn run(agent: Arc<AgentInner>) {
    let mut ticker = tokio::time::interval(agent.config.ae_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = agent.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
            // A new agent or default token: its writes may now be allowed (Consul syncs
            // at once too).
            () = agent.sync_now.notified() => {}
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
            Err(error) => {
                tracing::warn!(%error, "anti-entropy: sync failed; will retry");
                ticker.reset_after(RETRY_AFTER_FAILURE.min(agent.config.ae_interval));
            }
        }
    }
}

/// Compares the agent's state with the catalog's view of its node and repairs the
/// catalog.
pub async fn sync(agent: &AgentInner) -> Result<SyncReport, WriteError> {
    let node = agent.node.name.as_str();
    let mut report = SyncReport::default();
    let mut view = agent.catalog.node_view(node).await?;
    let own_meta = crate::agent::own_node_meta(agent);
    if view
        .node
        .as_ref()
        .is_none_or(|entry| entry.meta != own_meta || entry.id != agent.node.id)
    {
        // Node info, written with the agent token (`node:write` on this node).
        match crate::agent::register_self(agent).await {
            Ok(()) => view = agent.catalog.node_view(node).await?,
            Err(WriteError::Servers(LinkError::Denied(refusal))) => {
                crate::sync_acl::log_blocked("Node info update", node, &AclRefusal(refusal));
                report.blocked += 1;
            }
            Err(error) => return Err(error),
        }
    }
    let catalog_services: HashMap<&str, &AgentService> = view
        .services
        .iter()
        .map(|service| (service.id.as_str(), &**service))
        .collect();
    let catalog_checks: HashMap<&str, &HealthCheck> = view
        .checks
        .iter()
        .map(|check| (check.check_id.as_str(), &**check))
        .collect();

    let local_services = agent.local.services();
    for (id, local) in &local_services {
        let catalog = catalog_services.get(id.as_str());
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
            catalog_checks
                .get(local.check.check_id.as_str())
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
    let view = agent.catalog.node_view(node).await?;
    for service in &view.services {
        if service.id != SERVER_SERVICE && agent.local.service(&service.id).is_none() {
            if agent.deregister_local(&service.id, "", "").await? {
                report.services_removed += 1;
            } else {
                report.blocked += 1;
            }
        }
    }
    for check in &view.checks {
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
