//! Running checks: one scheduler for every HTTP, TCP, UDP, script and alias check this
//! agent owns.
//!
//! The scheduler sleeps on a deadline queue; each due check is re-armed for its next
//! interval and probed in a task of its own, bounded by its timeout and by a cap on
//! probes in flight, so a slow or hanging target never delays other checks. Results go
//! through a bounded channel to one applier, which keeps the success/failure streaks and
//! writes to the catalog only when a check's status or output changes. A check's first
//! run is spread at random over its interval, so thousands registered together do not
//! fire together.

mod http2;
mod probe;
mod thresholds;
mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use crate::agent::AgentInner;
use crate::deadlines::DeadlineQueue;
use crate::local::LocalCheck;

pub use crate::checks_tls::ChecksTls;
use probe::{HttpClients, ProbeContext, ProbeResult, ProbeSpec};
pub use probe::{OUTPUT_MAX_SIZE, truncate_output};
use thresholds::Streak;

/// Probes allowed in flight at once; a check whose turn comes while all are busy skips
/// that turn.
const MAX_PROBES_IN_FLIGHT: usize = 4096;

/// Results waiting for the applier.
const RESULT_QUEUE: usize = 4096;

/// The next run of every check the agent runs itself, and how to run it.
#[derive(Debug, Default)]
pub struct CheckRunner {
    queue: DeadlineQueue,
    /// Built once per registration, so a run parses and copies nothing.
    specs: Mutex<HashMap<String, Arc<ProbeSpec>>>,
}

impl CheckRunner {
    /// Schedules `check` if it is a kind the agent runs, first run at a random point in
    /// its interval; a re-registration as a kind the agent does not run unschedules it.
    pub fn watch(&self, check: &LocalCheck) {
        let id = &check.check.check_id;
        let Some(spec) = ProbeSpec::from_check(check) else {
            self.remove(id);
            return;
        };
        let spread = rand::rng().random_range(Duration::ZERO..=spec.interval);
        self.specs().insert(id.clone(), Arc::new(spec));
        self.queue.set(id, Instant::now() + spread);
    }

    /// Stops running a check (it was deregistered).
    pub fn remove(&self, check_id: &str) {
        self.queue.remove(check_id);
        self.specs().remove(check_id);
    }

    fn spec(&self, check_id: &str) -> Option<Arc<ProbeSpec>> {
        self.specs().get(check_id).cloned()
    }

    fn specs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ProbeSpec>>> {
        // Only whole entries are inserted or removed, so a poisoned map is consistent.
        self.specs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs checks until the agent shuts down.
pub async fn run_checks(agent: Arc<AgentInner>) {
    let tls = match tls::AgentConfigs::new(&agent.config.checks_tls) {
        Ok(tls) => tls,
        Err(error) => {
            tracing::error!(%error, "cannot use the agent's TLS material for checks; TLS checks use the system's roots");
            None
        }
    };
    let context = match HttpClients::new(&agent.config.checks_tls) {
        Ok(clients) => ProbeContext {
            clients,
            tls,
            catalog: agent.catalog.clone(),
            local_node: agent.node.name.clone(),
        },
        Err(error) => {
            tracing::error!(%error, "cannot build the HTTP client for checks; checks will not run");
            return;
        }
    };
    let (results, receiver) = mpsc::channel(RESULT_QUEUE);
    let applier = tokio::spawn(apply_results(agent.clone(), receiver));
    let in_flight = Arc::new(Semaphore::new(MAX_PROBES_IN_FLIGHT));
    while let Some(due) = agent.checks.queue.next_due(&agent.shutdown).await {
        for check_id in due {
            let Some(spec) = agent.checks.spec(&check_id) else {
                continue;
            };
            agent
                .checks
                .queue
                .set(&check_id, Instant::now() + spec.interval);
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                tracing::warn!(check = %check_id, "too many checks in flight; skipping this run");
                continue;
            };
            let context = context.clone();
            let results = results.clone();
            tokio::spawn(async move {
                let result = spec.run(&context).await;
                drop(permit);
                // The applier is gone only at shutdown, when results no longer matter.
                let _ = results.send((check_id, result)).await;
            });
        }
    }
    drop(results);
    if let Err(error) = applier.await {
        tracing::error!(%error, "check result task failed");
    }
}

/// Applies probe results in arrival order; the only owner of the streak counters.
async fn apply_results(
    agent: Arc<AgentInner>,
    mut receiver: mpsc::Receiver<(String, ProbeResult)>,
) {
    let mut streaks: HashMap<String, Streak> = HashMap::new();
    loop {
        let next = tokio::select! {
            next = receiver.recv() => next,
            _ = agent.shutdown.cancelled() => None,
        };
        let Some((check_id, result)) = next else {
            return;
        };
        // A check deregistered while its probe ran has no business in the catalog.
        let Some(local) = agent.local.check(&check_id) else {
            streaks.remove(&check_id);
            continue;
        };
        let streak = streaks.entry(check_id.clone()).or_default();
        let Some(status) = streak.record(result.status, &local.definition.thresholds) else {
            continue;
        };
        if let Err(error) = agent.set_check_status(&local, status, result.output).await {
            tracing::warn!(check = %check_id, %error, "could not record a check result");
        }
        if streaks.len() > 2 * agent.local.checks_len() + 64 {
            streaks.retain(|id, _| agent.local.check(id).is_some());
        }
    }
}
