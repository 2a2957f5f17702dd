//! The instances of a service that DNS may return, remembered per service version.
//!
//! Working out which instances are healthy reads every check of every instance; DNS asks
//! the same few questions many times a second between changes. A service's index moves
//! whenever anything that decides its health answer does (its instances, their checks,
//! their nodes and node checks: a property the state crate tests), so an entry is valid
//! for as long as the index it was computed at is the current one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use proconsul_api::{AgentService, HealthCheck, HealthStatus, Node};
use proconsul_state::{NodeChecksCursor, State};

/// One instance that may be returned, with the SRV weight its health gives it.
#[derive(Debug, Clone)]
pub struct Healthy {
    pub node: Arc<Node>,
    pub service: Arc<AgentService>,
    pub weight: u32,
}

/// The most entries kept; past it the cache starts again empty (a bound, not a policy:
/// real workloads ask about far fewer distinct names).
const MAX_ENTRIES: usize = 4096;

/// (service, lowercased tag).
type Key = (String, Option<String>);
/// The instances, with the service index they were read at.
type Entry = (u64, Arc<[Healthy]>);

/// Healthy instances by (service, tag), each with the service index it was read at.
#[derive(Default)]
pub struct HealthyCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl HealthyCache {
    /// The instances of `service` (its registered spelling) with `tag` that are not
    /// critical (nor warning, with `only_passing`), in catalog order.
    pub fn get(
        &self,
        state: &State,
        service: &str,
        tag: Option<&str>,
        only_passing: bool,
    ) -> Arc<[Healthy]> {
        let index = state.service_index(service);
        let key = (service.to_string(), tag.map(str::to_ascii_lowercase));
        if let Ok(entries) = self.entries.lock()
            && let Some((at, instances)) = entries.get(&key)
            && *at == index
        {
            return instances.clone();
        }
        let instances: Arc<[Healthy]> = healthy_instances(state, service, tag, only_passing).into();
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (index, instances.clone()));
        }
        instances
    }
}

fn healthy_instances(
    state: &State,
    service: &str,
    tag: Option<&str>,
    only_passing: bool,
) -> Vec<Healthy> {
    let mut checks = NodeChecksCursor::default();
    state
        .service_instances(service)
        .filter(|(_, instance)| {
            tag.is_none_or(|tag| instance.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
        })
        .filter_map(|(node, instance)| {
            let grouped = checks.at(state, &node.node);
            let weight = match worst_status(grouped.of_instance(&instance.id)) {
                HealthStatus::Passing => instance.weights.passing,
                HealthStatus::Warning if !only_passing => instance.weights.warning,
                _ => return None,
            };
            Some(Healthy {
                node: node.clone(),
                service: instance.clone(),
                weight,
            })
        })
        .collect()
}

/// The worst status among the checks that decide an instance's health.
fn worst_status<'a>(checks: impl Iterator<Item = &'a Arc<HealthCheck>>) -> HealthStatus {
    let mut worst = HealthStatus::Passing;
    for check in checks {
        match check.status {
            HealthStatus::Critical => return HealthStatus::Critical,
            HealthStatus::Warning => worst = HealthStatus::Warning,
            HealthStatus::Passing => {}
        }
    }
    worst
}
