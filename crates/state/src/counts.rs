//! How big the tables are, in O(1): what Consul reports as its `consul.state.*` usage
//! gauges (nodes, distinct service names, service instances, KV entries).

use crate::State;

/// The sizes of the catalog and KV tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub nodes: usize,
    /// Distinct service names.
    pub services: usize,
    /// Service instances (one per registration on a node).
    pub service_instances: usize,
    pub kv_entries: usize,
}

impl State {
    /// The sizes of the catalog and KV tables.
    pub fn counts(&self) -> TableCounts {
        TableCounts {
            nodes: self.nodes.len(),
            services: self.instances_by_name.len(),
            service_instances: self.services.len(),
            kv_entries: self.kvs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proconsul_api::{AgentService, CatalogRegistration};

    use crate::{Command, State};

    #[test]
    fn counts_follow_registrations() {
        let mut state = State::default();
        assert_eq!(state.counts(), super::TableCounts::default());
        for (index, id) in [(1, "web-1"), (2, "web-2")] {
            let registration = CatalogRegistration {
                node: "n1".to_string(),
                address: "10.0.0.1".to_string(),
                service: Some(AgentService {
                    id: id.to_string(),
                    service: "web".to_string(),
                    ..AgentService::default()
                }),
                ..CatalogRegistration::default()
            };
            state.apply(index, &Command::Register(Box::new(registration)));
        }
        let counts = state.counts();
        assert_eq!(
            (
                counts.nodes,
                counts.services,
                counts.service_instances,
                counts.kv_entries
            ),
            (1, 1, 2, 0)
        );
    }
}
