//! Health queries: checks joined with the nodes and services they watch.

use std::sync::Arc;

use proconsul_api::{AgentService, HealthCheck, HealthStatus, Node, ServiceEntry};

use crate::state::State;

impl State {
    /// `/v1/health/service/:name`: every instance with its node and the checks that
    /// decide its health (the node's own checks and the instance's), ordered by node.
    pub fn health_service(&self, name: &str) -> Vec<ServiceEntry> {
        self.service_instances(name)
            .map(|(node, service)| self.entry(node, service))
            .collect()
    }

    /// `/v1/health/connect/:name`: the Connect-capable instances for a service, with
    /// their health.
    pub fn health_connect(&self, name: &str) -> Vec<ServiceEntry> {
        self.connect_instances(name)
            .map(|(node, service)| self.entry(node, service))
            .collect()
    }

    fn entry(&self, node: &Node, service: &AgentService) -> ServiceEntry {
        ServiceEntry {
            node: node.clone(),
            service: service.clone(),
            checks: self
                .instance_checks(&node.node, service)
                .map(|check| (**check).clone())
                .collect(),
        }
    }

    /// The checks that decide one instance's health: node-level ones, then its own.
    pub fn instance_checks<'a>(
        &'a self,
        node: &'a str,
        service: &'a AgentService,
    ) -> impl Iterator<Item = &'a Arc<HealthCheck>> + 'a {
        self.checks_on_node(node)
            .filter(|check| check.service_id.is_empty())
            .chain(
                self.checks_on_node(node)
                    .filter(move |check| check.service_id == service.id),
            )
    }

    /// `/v1/health/node/:node`: every check on one node.
    pub fn node_checks(&self, node: &str) -> Vec<Arc<HealthCheck>> {
        self.checks_on_node(node).cloned().collect()
    }

    /// `/v1/health/checks/:service`: the checks bound to instances of one service.
    pub fn service_checks(&self, name: &str) -> Vec<Arc<HealthCheck>> {
        self.service_instances(name)
            .flat_map(|(node, service)| {
                self.checks_on_node(&node.node)
                    .filter(move |check| check.service_id == service.id)
                    .cloned()
            })
            .collect()
    }

    /// `/v1/health/state/:state`: every check, or those in one status.
    pub fn checks_in_state(&self, status: Option<HealthStatus>) -> Vec<Arc<HealthCheck>> {
        self.checks
            .values()
            .filter(|check| status.is_none_or(|wanted| check.status == wanted))
            .cloned()
            .collect()
    }

    /// One check by node and ID.
    pub fn check(&self, node: &str, check_id: &str) -> Option<&Arc<HealthCheck>> {
        self.checks.get(&(node.to_string(), check_id.to_string()))
    }
}
