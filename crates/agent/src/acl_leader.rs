//! The leader's ACL duties, with ACLs enabled: once it leads, it proposes `AclInit`
//! (the built-in policies, the anonymous token and `acl.tokens.initial_management`,
//! which bootstraps the cluster), and while it leads it removes tokens as they expire,
//! proposing `AclTokensExpire` stamped with its clock when the earliest expiry passes
//! (the state machine has no clock of its own). Followers do neither; a new leader
//! starts over.
//!
//! One task does both, until shutdown. Leadership is polled (a cheap read of Raft's
//! metrics); the expiry timer is re-armed whenever the tokens table changes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proconsul_api::go_time::GoTime;
use proconsul_state::{AclInit, AclInitialManagement, Command, CommandOutcome, Table};

use crate::agent::AgentInner;
use crate::error::WriteError;
use proconsul_consensus::Consensus;

/// How often a follower looks whether it leads now.
const LEADERSHIP_POLL: Duration = Duration::from_millis(500);
/// The pause after a proposal failed, before the next try.
const RETRY: Duration = Duration::from_secs(1);

fn now() -> GoTime {
    GoTime::from(SystemTime::now())
}

/// Proposes `AclInit`; applying it again changes nothing, so every new leader does.
/// A secondary datacenter creates no `initial_management` token (as in Consul): its
/// tokens come from the primary.
pub async fn initialize(agent: &AgentInner) -> Result<(), WriteError> {
    let secondary = agent.config.is_acl_secondary();
    let initial_management = agent
        .config
        .acl
        .tokens
        .initial_management
        .clone()
        .filter(|_| !secondary)
        .map(|secret_id| AclInitialManagement {
            accessor_id: uuid::Uuid::new_v4().to_string(),
            secret_id,
        });
    let init = AclInit {
        now: now(),
        initial_management,
    };
    agent.commit(Command::AclInit(Box::new(init))).await?;
    tracing::info!("acl: initialized the built-in policies and tokens");
    Ok(())
}

/// Runs the leader's ACL duties until shutdown. `initialized`: this agent already
/// proposed `AclInit` as the leader it is now (at start-up).
pub async fn run(agent: Arc<AgentInner>, mut initialized: bool) {
    let Ok(consensus) = agent.consensus().cloned() else {
        return;
    };
    let reader = consensus.reader().clone();
    let mut tokens = reader.subscribe(Table::AclTokens);
    loop {
        tokens.borrow_and_update();
        let pause = if !consensus.is_leader() {
            initialized = false;
            LEADERSHIP_POLL
        } else if !initialized {
            match initialize(&agent).await {
                Ok(()) => {
                    initialized = true;
                    Duration::ZERO
                }
                Err(error) => {
                    tracing::warn!(%error, "acl: could not initialize; will retry");
                    RETRY
                }
            }
        } else {
            expire_due(&consensus).await
        };
        if pause.is_zero() {
            continue;
        }
        tokio::select! {
            () = agent.shutdown.cancelled() => return,
            result = tokens.changed() => if result.is_err() { return },
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Removes the tokens whose expiry has passed, if any; returns how long to wait before
/// looking again (until the next expiry, or a leadership poll, whichever comes first).
async fn expire_due(consensus: &Consensus) -> Duration {
    let Some(next) = consensus.reader().current().acl_next_token_expiry() else {
        return LEADERSHIP_POLL;
    };
    let now = now();
    if let Some(wait) = next.duration_since(now).filter(|wait| !wait.is_zero()) {
        return wait.min(LEADERSHIP_POLL);
    }
    if next == now {
        // Expiry removes tokens that expired strictly before the proposal's time.
        return Duration::from_millis(1);
    }
    match consensus.write(Command::AclTokensExpire { now }).await {
        Ok(applied) => {
            if let CommandOutcome::Acl(proconsul_state::AclOutcome::Expired(removed)) =
                applied.outcome
            {
                tracing::info!(count = removed.len(), "acl: removed expired tokens");
            }
            Duration::ZERO
        }
        Err(error) => {
            tracing::warn!(%error, "acl: could not remove expired tokens; will retry");
            RETRY
        }
    }
}
