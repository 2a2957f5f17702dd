//! ACL replication in a secondary datacenter (`primary_datacenter` names another one):
//! while this server leads, it pulls the primary's policies, roles and (with
//! `acl.enable_token_replication`) global tokens and commits what differs through its
//! own Raft, so tokens resolve here from this datacenter's replica, and keep resolving
//! while the primary cannot be reached (`down_policy` only matters for what was never
//! replicated).
//!
//! One loop per kind, as Consul runs them: each asks a primary server (over the WAN
//! link, `/agent/http`) for the kind's objects with a blocking query on that kind's table
//! index (`GET /v1/internal/acl/replicate/:kind`, made with `acl.tokens.replication`),
//! diffs them against this datacenter's state (`State::acl_replication_diff`, pure) and
//! proposes `AclReplicate` in bounded pieces. One call at a time per kind; a failure
//! waits with a growing pause. Every loop ends on the agent's shutdown token; followers
//! only poll whether they lead. [`ReplicationStatus`] is what `GET /v1/acl/replication`
//! reports.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use proconsul_api::acl::AclReplicationStatus;
use proconsul_api::go_time::GoTime;
use proconsul_consensus::agent_rpc::ForwardedHttpRequest;
use proconsul_state::{AclReplicaSet, AclReplicate, AclReplicatedKind, Command};

use crate::agent::AgentInner;
use crate::agent_tokens::AgentTokenKind;
use crate::http::origin::Origin;

/// How long one blocking fetch waits at the primary for a change.
const BLOCKING_WAIT: Duration = Duration::from_secs(20);
/// Added to the wait for the call's deadline (a stopped primary answers nothing).
const CALL_SLACK: Duration = Duration::from_secs(10);
/// How often a follower looks whether it leads now.
const LEADERSHIP_POLL: Duration = Duration::from_millis(500);
/// The first and the longest pause after a failed round.
const RETRY_MIN: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(10);
/// Objects per Raft entry.
const CHUNK: usize = 256;

/// What `GET /v1/acl/replication` reports: this server's replication, as Consul's
/// `structs.ACLReplicationStatus`. A primary's stays the zero status.
#[derive(Debug, Default)]
pub struct ReplicationStatus {
    status: Mutex<AclReplicationStatus>,
}

impl ReplicationStatus {
    /// The status now.
    pub fn current(&self) -> AclReplicationStatus {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AclReplicationStatus> {
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn enable(&self, source: &str, tokens: bool) {
        let mut status = self.lock();
        status.enabled = true;
        status.source_datacenter = source.to_string();
        status.replication_type = if tokens { "tokens" } else { "policies" }.to_string();
    }

    fn set_running(&self, running: bool) {
        self.lock().running = running;
    }

    fn succeeded(&self, kind: AclReplicatedKind, remote_index: u64) {
        let mut status = self.lock();
        match kind {
            AclReplicatedKind::Policies => status.replicated_index = remote_index,
            AclReplicatedKind::Roles => status.replicated_role_index = remote_index,
            AclReplicatedKind::Tokens => status.replicated_token_index = remote_index,
        }
        status.last_success = now_seconds();
    }

    fn failed(&self, message: String) {
        let mut status = self.lock();
        status.last_error = now_seconds();
        status.last_error_message = message;
    }
}

/// Consul stamps the status with the time rounded to the second, in UTC.
fn now_seconds() -> GoTime {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    GoTime::from_unix_millis(now.as_secs().saturating_mul(1000))
}

/// Runs replication until shutdown (on a secondary's servers; the caller checks
/// [`crate::config::AgentConfig::is_acl_secondary`]).
pub async fn run(agent: Arc<AgentInner>) {
    let tokens = agent.config.acl.enable_token_replication;
    agent
        .acl_replication
        .enable(agent.config.primary_datacenter(), tokens);
    let mut kinds = vec![AclReplicatedKind::Policies, AclReplicatedKind::Roles];
    if tokens {
        kinds.push(AclReplicatedKind::Tokens);
    }
    let loops = kinds
        .into_iter()
        .map(|kind| replicate_kind(agent.clone(), kind));
    futures::future::join_all(loops).await;
    agent.acl_replication.set_running(false);
}

/// One kind's loop.
async fn replicate_kind(agent: Arc<AgentInner>, kind: AclReplicatedKind) {
    let Ok(consensus) = agent.consensus().cloned() else {
        return;
    };
    let mut remote_index = 0;
    let mut retry = RETRY_MIN;
    loop {
        let pause = if !consensus.is_leader() {
            agent.acl_replication.set_running(false);
            remote_index = 0;
            LEADERSHIP_POLL
        } else {
            agent.acl_replication.set_running(true);
            let round = tokio::select! {
                () = agent.shutdown.cancelled() => return,
                round = round(&agent, kind, remote_index) => round,
            };
            match round {
                Ok(index) => {
                    // An index that went back (the primary restored a snapshot) starts over.
                    remote_index = if index < remote_index { 0 } else { index };
                    agent.acl_replication.succeeded(kind, remote_index);
                    retry = RETRY_MIN;
                    Duration::ZERO
                }
                Err(message) => {
                    tracing::warn!(kind = kind.as_str(), error = %message, "acl: replication failed; will retry");
                    agent.acl_replication.failed(message);
                    let pause = retry;
                    retry = (retry * 2).min(RETRY_MAX);
                    pause
                }
            }
        };
        if pause.is_zero() {
            if agent.shutdown.is_cancelled() {
                return;
            }
            continue;
        }
        tokio::select! {
            () = agent.shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// One fetch (blocking on `remote_index`) and the writes that bring this datacenter in
/// line; the primary's index of the kind.
async fn round(
    agent: &AgentInner,
    kind: AclReplicatedKind,
    remote_index: u64,
) -> Result<u64, String> {
    let (index, remote) = fetch(agent, kind, remote_index).await?;
    if remote.kind() != kind {
        return Err(format!(
            "the primary answered {} for {}",
            remote.kind().as_str(),
            kind.as_str()
        ));
    }
    let consensus = agent.consensus().map_err(|error| error.to_string())?;
    let diff = consensus.reader().current().acl_replication_diff(&remote);
    if diff.is_empty() {
        return Ok(index);
    }
    let (set, delete) = (diff.set.len(), diff.delete.len());
    let mut deletes = Some(diff.delete);
    let mut pieces = diff.set.chunks(CHUNK);
    if pieces.is_empty() {
        pieces.push(diff.set);
    }
    for piece in pieces {
        let write = AclReplicate {
            set: piece,
            delete: deletes.take().unwrap_or_default(),
        };
        consensus
            .write(Command::AclReplicate(Box::new(write)))
            .await
            .map_err(|error| error.to_string())?;
    }
    tracing::info!(
        kind = kind.as_str(),
        updated = set,
        deleted = delete,
        remote_index = index,
        "acl: replicated from the primary datacenter"
    );
    Ok(index)
}

/// The primary's objects of `kind` once its index passes `remote_index` (or the wait
/// ends), with that index.
async fn fetch(
    agent: &AgentInner,
    kind: AclReplicatedKind,
    remote_index: u64,
) -> Result<(u64, AclReplicaSet), String> {
    let wan = agent
        .wan
        .as_ref()
        .ok_or_else(|| "no WAN pool to reach the primary datacenter".to_string())?;
    let primary = agent.config.primary_datacenter();
    let link = wan
        .datacenters
        .route(primary)
        .map_err(|error| error.to_string())?;
    let token = agent
        .acl_tokens
        .get(AgentTokenKind::Replication)
        .unwrap_or_default();
    let request = ForwardedHttpRequest {
        method: "GET".to_string(),
        uri: format!(
            "/v1/internal/acl/replicate/{}?stale&index={remote_index}&wait={}s",
            kind.as_str(),
            BLOCKING_WAIT.as_secs()
        ),
        headers: vec![("x-consul-token".to_string(), token.into_bytes())],
        body: Vec::new(),
        peer: None,
        origin: Origin {
            node: agent.node.name.clone(),
            services: Vec::new(),
        }
        .encode(),
    };
    let answer = link
        .http(
            &request,
            BLOCKING_WAIT + BLOCKING_WAIT / 16 + CALL_SLACK,
            true,
        )
        .await
        .map_err(|error| format!("failed to reach the primary datacenter {primary}: {error}"))?;
    if answer.status != 200 {
        return Err(format!(
            "the primary datacenter answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body).trim()
        ));
    }
    let index = answer
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-consul-index"))
        .and_then(|(_, value)| std::str::from_utf8(value).ok()?.parse().ok())
        .ok_or_else(|| "the primary's answer has no X-Consul-Index".to_string())?;
    let set = postcard::from_bytes(&answer.body)
        .map_err(|error| format!("the primary's answer does not decode: {error}"))?;
    Ok((index, set))
}
