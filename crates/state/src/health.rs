//! Health queries: checks joined with the nodes and services they watch.

use std::collections::HashMap;
use std::sync::Arc;

use proconsul_api::{AgentService, HealthCheck, HealthStatus, Node, ServiceEntry};

use crate::state::{State, scoped_key};

/// One node's checks, read once and grouped: the node-level ones and each instance's.
/// Instances come ordered by node, so a query over many instances on one node (an agent
/// with a thousand services) reads that node's checks once instead of once per instance.
pub struct NodeChecks<'a> {
    node: &'a str,
    node_level: Vec<&'a Arc<HealthCheck>>,
    by_service: HashMap<&'a str, Vec<&'a Arc<HealthCheck>>>,
}

impl<'a> NodeChecks<'a> {
    /// The checks that decide one instance's health: node-level ones, then its own.
    pub fn of_instance(&self, service_id: &str) -> impl Iterator<Item = &'a Arc<HealthCheck>> + '_ {
        self.node_level
            .iter()
            .chain(self.by_service.get(service_id).into_iter().flatten())
            .copied()
    }
}

/// Reuses the grouping while consecutive instances are on the same node.
#[derive(Default)]
pub struct NodeChecksCursor<'a> {
    current: Option<NodeChecks<'a>>,
}

impl<'a> NodeChecksCursor<'a> {
    /// The grouped checks of `node`, read from `state` only when the node changes.
    pub fn at(&mut self, state: &'a State, node: &'a str) -> &NodeChecks<'a> {
        if self
            .current
            .as_ref()
            .is_none_or(|current| current.node != node)
        {
            self.current = Some(state.grouped_checks(node));
        }
        self.current.as_ref().expect("set above")
    }
}

impl State {
    /// One node's checks, grouped by the instance they belong to.
    pub fn grouped_checks<'a>(&'a self, node: &'a str) -> NodeChecks<'a> {
        let mut grouped = NodeChecks {
            node,
            node_level: Vec::new(),
            by_service: HashMap::new(),
        };
        for check in self.checks_on_node(node) {
            if check.service_id.is_empty() {
                grouped.node_level.push(check);
            } else {
                grouped
                    .by_service
                    .entry(check.service_id.as_str())
                    .or_default()
                    .push(check);
            }
        }
        grouped
    }

    /// `/v1/health/service/:name`: every instance with its node and the checks that
    /// decide its health (the node's own checks and the instance's), ordered by node.
    pub fn health_service(&self, name: &str) -> Vec<ServiceEntry> {
        self.entries(self.service_instances(name))
    }

    /// `/v1/health/connect/:name`: the Connect-capable instances for a service, with
    /// their health.
    pub fn health_connect(&self, name: &str) -> Vec<ServiceEntry> {
        self.entries(self.connect_instances(name))
    }

    fn entries<'a>(
        &'a self,
        instances: impl Iterator<Item = (&'a Arc<Node>, &'a Arc<AgentService>)>,
    ) -> Vec<ServiceEntry> {
        let mut cursor = NodeChecksCursor::default();
        instances
            .map(|(node, service)| ServiceEntry {
                node: (**node).clone(),
                service: (**service).clone(),
                checks: cursor
                    .at(self, &node.node)
                    .of_instance(&service.id)
                    .map(|check| (**check).clone())
                    .collect(),
            })
            .collect()
    }

    /// `/v1/health/node/:node`: every check on one node.
    pub fn node_checks(&self, node: &str) -> Vec<Arc<HealthCheck>> {
        self.checks_on_node(node).cloned().collect()
    }

    /// `/v1/health/checks/:service`: the checks bound to instances of one service.
    pub fn service_checks(&self, name: &str) -> Vec<Arc<HealthCheck>> {
        let mut cursor = NodeChecksCursor::default();
        let mut checks = Vec::new();
        for (node, service) in self.service_instances(name) {
            let grouped = cursor.at(self, &node.node);
            checks.extend(
                grouped
                    .by_service
                    .get(service.id.as_str())
                    .into_iter()
                    .flatten()
                    .map(|check| Arc::clone(check)),
            );
        }
        checks
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
        self.checks.get(&scoped_key(node, check_id))
    }
}
