//! The leader's part of sessions: TTL timers and invalidation.
//!
//! Time is not in the state machine, so the leader watches it: each session with a TTL
//! has a deadline of twice its TTL (Consul's promise: invalidated within 2×TTL), reset
//! by every renewal; when it passes, the leader proposes the session's destruction,
//! stamped with its clock so that lock delays agree on every replica. A second task
//! watches the nodes and checks tables and ends sessions whose node is gone or whose
//! bound checks are gone or critical. At start-up every session's timer is armed with
//! its full TTL, as a new leader does in Consul.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proconsul_api::Session;
use proconsul_api::duration::parse_duration;
use proconsul_state::{Command, Table};
use tokio::time::Instant;

use proconsul_consensus::Consensus;
use tokio_util::sync::CancellationToken;

use crate::deadlines::DeadlineQueue;

/// Deadlines of the sessions with a TTL.
#[derive(Debug, Default)]
pub struct SessionTimers {
    queue: DeadlineQueue,
}

impl SessionTimers {
    /// (Re)starts the TTL of `session`, if it has one.
    pub fn arm(&self, session: &Session) {
        if let Some(ttl) = ttl_of(session) {
            self.queue.set(&session.id, Instant::now() + ttl * 2);
        }
    }

    /// Forgets a session's deadline.
    pub fn remove(&self, id: &str) {
        self.queue.remove(id);
    }

    /// How many sessions have a TTL running (`session_ttl.active`).
    pub fn armed(&self) -> usize {
        self.queue.len()
    }
}

fn ttl_of(session: &Session) -> Option<Duration> {
    parse_duration(&session.ttl)
        .ok()
        .filter(|ttl| !ttl.is_zero())
}

/// Milliseconds since the epoch: the clock that session destruction carries.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Ends a session through Raft.
async fn destroy(timers: &SessionTimers, consensus: &Consensus, id: &str, why: &str) {
    timers.remove(id);
    let command = Command::SessionDestroy {
        id: id.to_string(),
        now_ms: now_ms(),
    };
    match consensus.write(command).await {
        Ok(_) => tracing::info!(session = %id, reason = why, "session invalidated"),
        Err(error) => tracing::warn!(session = %id, %error, "could not invalidate a session"),
    }
}

/// Invalidates sessions whose TTL passed, until the agent shuts down.
pub async fn expire(timers: &SessionTimers, consensus: &Consensus, shutdown: &CancellationToken) {
    for session in consensus.reader().current().sessions() {
        timers.arm(session);
    }
    let invalidate = metrics::histogram!("session_ttl.invalidate");
    while let Some(expired) = timers.queue.next_due(shutdown).await {
        for id in expired {
            // Renewed after it came due: the renewal wins.
            if timers.queue.contains(&id) {
                continue;
            }
            let _timer = crate::telemetry::Timer::start(&invalidate);
            destroy(timers, consensus, &id, "TTL expired").await;
        }
    }
}

/// Invalidates sessions bound to failed nodes or checks, until the agent shuts down.
pub async fn watch_bindings(
    timers: &SessionTimers,
    consensus: &Consensus,
    shutdown: &CancellationToken,
) {
    let reader = consensus.reader().clone();
    let mut nodes = reader.subscribe(Table::Nodes);
    let mut checks = reader.subscribe(Table::Checks);
    let mut sessions = reader.subscribe(Table::Sessions);
    let mut sessions_seen = None;
    loop {
        nodes.borrow_and_update();
        checks.borrow_and_update();
        sessions.borrow_and_update();
        let state = reader.current();
        let sessions_index = state.table_indexes().sessions;
        if sessions_seen != Some(sessions_index) {
            sessions_seen = Some(sessions_index);
            // Sessions that arrived without this agent's API (a restored snapshot) get
            // their timers here.
            for session in state.sessions() {
                if !timers.queue.contains(&session.id) {
                    timers.arm(session);
                }
            }
        }
        for id in state.sessions_to_invalidate() {
            destroy(timers, consensus, &id, "its node or a bound check failed").await;
        }
        tokio::select! {
            result = nodes.changed() => if result.is_err() { return },
            result = checks.changed() => if result.is_err() { return },
            result = sessions.changed() => if result.is_err() { return },
            () = shutdown.cancelled() => return,
        }
    }
}
