//! The agent's own services and checks kept in `data_dir`, so that a server restarted
//! outside `-dev` owns them again (Consul keeps them under `data_dir/services` and
//! `data_dir/checks`). Maintenance mode is a pair of checks, so it survives too.
//!
//! One task writes the whole local state as one JSON file whenever it changes,
//! coalescing bursts (a status change of many checks is one write); the file is
//! replaced atomically. At start-up the file is read back and every entry registered
//! again through the usual path, which schedules its checks and syncs the catalog.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use proconsul_api::{AgentService, CheckRegistration, HealthCheck};
use serde::{Deserialize, Serialize};

use crate::agent::AgentInner;
use crate::local::{Entry, LocalCheck};

/// The file in `data_dir`.
const FILE: &str = "local-state.json";
/// How long a burst of changes is gathered before one write.
const COALESCE: Duration = Duration::from_millis(200);

#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    services: Vec<AgentService>,
    checks: Vec<PersistedCheck>,
    /// The tokens services were registered with, by service ID (as Consul keeps them
    /// beside each persisted service); the file is therefore readable by its owner only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    service_tokens: BTreeMap<String, String>,
    /// The same for checks, by check ID.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    check_tokens: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PersistedCheck {
    check: HealthCheck,
    definition: CheckRegistration,
}

/// What is kept: every service and check definition, and the status of the checks
/// that clients set (TTL checks and maintenance, which have no probe). Other checks are
/// kept with their initial status, as their probes set the rest again, so that status
/// changes of probed checks do not rewrite the file (Consul keeps TTL state alone too).
fn snapshot(agent: &AgentInner) -> Persisted {
    let mut service_tokens = BTreeMap::new();
    let mut check_tokens = BTreeMap::new();
    for (entry, token) in agent.local.tokens() {
        match entry {
            Entry::Service(id) => service_tokens.insert(id, token),
            Entry::Check(id) => check_tokens.insert(id, token),
        };
    }
    Persisted {
        service_tokens,
        check_tokens,
        services: agent.local.services().into_values().collect(),
        checks: agent
            .local
            .checks()
            .into_values()
            .map(|local| {
                let mut check = local.check;
                let definition = local.definition.decode();
                let client_set = local.definition.ttl.is_some() || check.check_id.starts_with('_');
                if !client_set {
                    check.status = definition.status.unwrap_or_default();
                    check.output = String::new();
                }
                PersistedCheck { check, definition }
            })
            .collect(),
    }
}

/// Writes the local state to `data_dir` on every change, until shutdown.
pub async fn keep(agent: Arc<AgentInner>, data_dir: PathBuf) {
    let path = data_dir.join(FILE);
    let mut changes = agent.local.subscribe();
    let mut written: Vec<u8> = std::fs::read(&path).unwrap_or_default();
    // The first pass saves what changed before this task started.
    let mut first = true;
    loop {
        let stopping = if std::mem::take(&mut first) {
            false
        } else {
            let stopping = tokio::select! {
                changed = changes.changed() => changed.is_err(),
                () = agent.shutdown.cancelled() => true,
            };
            if !stopping {
                tokio::time::sleep(COALESCE).await;
            }
            stopping
        };
        changes.borrow_and_update();
        let bytes = match serde_json::to_vec(&snapshot(&agent)) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, "could not encode the agent's services and checks");
                continue;
            }
        };
        if bytes == written {
            if stopping {
                return;
            }
            continue;
        }
        let (target, contents) = (path.clone(), bytes.clone());
        match tokio::task::spawn_blocking(move || crate::private_file::replace(&target, &contents))
            .await
        {
            Ok(Ok(())) => written = bytes,
            Ok(Err(error)) => {
                tracing::warn!(%error, path = %path.display(), "could not save the agent's services and checks")
            }
            Err(error) => tracing::warn!(%error, "saving the agent's services and checks failed"),
        }
        if stopping {
            return;
        }
    }
}

/// Registers again what the agent owned before it stopped.
pub async fn restore(agent: &AgentInner, data_dir: &Path) -> Result<usize, String> {
    let path = data_dir.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    let persisted: Persisted = serde_json::from_slice(&bytes)
        .map_err(|error| format!("{} is corrupt: {error}", path.display()))?;
    let mut checks: Vec<PersistedCheck> = persisted.checks;
    let mut restored = 0;
    for service in persisted.services {
        let (own, rest): (Vec<_>, Vec<_>) = checks
            .into_iter()
            .partition(|check| check.check.service_id == service.id);
        checks = rest;
        let own = own
            .into_iter()
            .map(|check| LocalCheck::new(check.check, &check.definition))
            .collect();
        // The local state is set before the catalog write; a failed write is repaired by
        // anti-entropy, so it does not stop the rest from being restored.
        let token = persisted.service_tokens.get(&service.id).cloned();
        if let Err(error) = agent
            .add_service(service, own, true, &token.unwrap_or_default())
            .await
        {
            tracing::warn!(%error, "restored a service locally; the catalog write failed");
        }
        restored += 1;
    }
    for check in checks {
        let token = persisted.check_tokens.get(&check.check.check_id).cloned();
        if let Err(error) = agent
            .add_check(
                LocalCheck::new(check.check, &check.definition),
                &token.unwrap_or_default(),
            )
            .await
        {
            tracing::warn!(%error, "restored a check locally; the catalog write failed");
        }
        restored += 1;
    }
    Ok(restored)
}
