//! Catalog usage as `/v1/operator/usage` reports it: nodes, service names and
//! instances, instances per Connect kind, and the billable ones (typical services but
//! `consul`). One pass over the instances.

use std::collections::{BTreeMap, BTreeSet};

use proconsul_api::operator::ServiceUsage;

use crate::State;

/// The Connect kinds Consul always lists, zeros included.
const CONNECT_KINDS: [&str; 6] = [
    "api-gateway",
    "connect-native",
    "connect-proxy",
    "ingress-gateway",
    "mesh-gateway",
    "terminating-gateway",
];

impl State {
    /// This datacenter's usage.
    pub fn service_usage(&self) -> ServiceUsage {
        let mut connect: BTreeMap<String, usize> = CONNECT_KINDS
            .iter()
            .map(|kind| (kind.to_string(), 0))
            .collect();
        let mut names = BTreeSet::new();
        let mut billable = 0;
        for service in self.services.values() {
            names.insert(service.service.as_str());
            let native = service.connect.as_ref().is_some_and(|c| c.native);
            if native {
                *connect.entry("connect-native".to_string()).or_default() += 1;
            }
            if service.kind.is_empty() {
                if service.service != "consul" {
                    billable += 1;
                }
            } else if let Some(count) = connect.get_mut(service.kind.as_str()) {
                *count += 1;
            }
        }
        ServiceUsage {
            nodes: self.nodes.len(),
            services: names.len(),
            service_instances: self.services.len(),
            connect_service_instances: connect,
            billable_service_instances: billable,
            ..ServiceUsage::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use proconsul_api::{AgentService, CatalogRegistration, ServiceConnect};

    use crate::{Command, State};

    fn register(state: &mut State, index: u64, service: AgentService) {
        state.apply(
            index,
            &Command::Register(Box::new(CatalogRegistration {
                node: "foobar".to_string(),
                address: "192.168.10.10".to_string(),
                service: Some(service),
                ..CatalogRegistration::default()
            })),
        );
    }

    #[test]
    fn counts_as_consul_does() {
        let mut state = State::default();
        let service = |id: &str, name: &str| AgentService {
            id: id.to_string(),
            service: name.to_string(),
            ..AgentService::default()
        };
        register(&mut state, 1, service("consul", "consul"));
        register(&mut state, 2, service("redis1", "redis"));
        register(&mut state, 3, service("redis2", "redis"));
        register(
            &mut state,
            4,
            AgentService {
                kind: "connect-proxy".to_string(),
                ..service("proxy1", "proxy")
            },
        );
        register(
            &mut state,
            5,
            AgentService {
                connect: Some(ServiceConnect { native: true }),
                ..service("web-native", "web")
            },
        );
        let usage = state.service_usage();
        assert_eq!(usage.nodes, 1);
        assert_eq!(usage.services, 4);
        assert_eq!(usage.service_instances, 5);
        assert_eq!(usage.billable_service_instances, 3);
        assert_eq!(usage.connect_service_instances["connect-proxy"], 1);
        assert_eq!(usage.connect_service_instances["connect-native"], 1);
        assert_eq!(usage.connect_service_instances["mesh-gateway"], 0);
        assert_eq!(usage.connect_service_instances.len(), 6);
    }
}
