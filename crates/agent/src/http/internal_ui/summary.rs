//! The summaries behind `/v1/internal/ui/services` and `/v1/internal/ui/catalog-overview`,
//! in Consul's JSON shapes (`ServiceListingSummary`, `CatalogSummary`).
//!
//! Pure functions of what the caller hands in: the handler decides what the token may
//! see (ACLs) and what `?filter` keeps, and passes only those instances and checks, so a
//! summary can never count or name something hidden. Deterministic: the same input
//! always gives the same bytes (maps are ordered, outputs sorted by name).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proconsul_api::{AgentService, HealthCheck, HealthStatus, Node};
use serde::{Serialize, Serializer};

/// Consul's `ServiceListingSummary` as written for Consul CE: no `Namespace`/`Partition`,
/// no `PeerName` (no peerings). Empty `Tags`, `Nodes` and `ExternalSources` are `null`,
/// as Go writes a nil slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceListingSummary {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    pub name: String,
    pub datacenter: String,
    #[serde(serialize_with = "null_if_empty")]
    pub tags: Vec<String>,
    #[serde(serialize_with = "null_if_empty")]
    pub nodes: Vec<String>,
    #[serde(serialize_with = "null_if_empty")]
    pub external_sources: Vec<String>,
    pub instance_count: u64,
    pub checks_passing: u64,
    pub checks_warning: u64,
    pub checks_critical: u64,
    pub gateway_config: GatewayConfig,
    pub transparent_proxy: bool,
    pub connect_native: bool,
    pub connected_with_proxy: bool,
    pub connected_with_gateway: bool,
}

/// A gateway's linked services and addresses: always `{}` until gateways exist (both
/// fields are `omitempty` in Consul).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GatewayConfig {}

/// One service instance as the summary sees it: its node, itself, and the checks that
/// decide its health (the node's own and the instance's, as `/v1/health/service` lists
/// them).
pub struct Instance<'a> {
    pub node: &'a Node,
    pub service: &'a AgentService,
    pub checks: Vec<&'a HealthCheck>,
}

/// The meta key naming the system that registered a service (Consul's
/// `structs.MetaExternalSource`).
const EXTERNAL_SOURCE: &str = "external-source";

/// What is gathered per service name before it is written out.
#[derive(Default)]
struct Gathered {
    kind: String,
    datacenter: String,
    tags: BTreeSet<String>,
    nodes: BTreeSet<String>,
    external_sources: Vec<String>,
    instances: u64,
    /// Unique per node and check ID: a node check is counted once however many of the
    /// service's instances run on that node.
    checks: HashMap<(String, String), HealthStatus>,
    connect_native: bool,
    /// `None` until a proxy for this service is seen; then whether all were transparent.
    transparent_proxy: Option<bool>,
    has_proxy: bool,
}

impl Gathered {
    fn add_checks(&mut self, node: &str, checks: &[&HealthCheck]) {
        for check in checks {
            self.checks
                .insert((node.to_string(), check.check_id.clone()), check.status);
        }
    }
}

/// One summary per service name, sorted by name, as Consul's UI list shows them.
///
/// As in Consul, a `connect-proxy` instance also counts its checks toward the service
/// it fronts and marks that service `ConnectedWithProxy` (and `TransparentProxy` when
/// every such proxy is in transparent mode). `destination_visible` says whether the
/// caller may see a destination name: a destination it may not read is neither listed
/// nor credited (Consul would list it; Proconsul never names what a token cannot read).
pub fn services<'a>(
    instances: impl IntoIterator<Item = Instance<'a>>,
    destination_visible: impl Fn(&str) -> bool,
) -> Vec<ServiceListingSummary> {
    let mut gathered: BTreeMap<String, Gathered> = BTreeMap::new();
    for instance in instances {
        let service = instance.service;
        let node = instance.node.node.as_str();
        let entry = gathered.entry(service.service.clone()).or_default();
        entry.nodes.insert(node.to_string());
        entry.kind.clone_from(&service.kind);
        entry.datacenter.clone_from(&instance.node.datacenter);
        entry.instances += 1;
        if service
            .connect
            .as_ref()
            .is_some_and(|connect| connect.native)
        {
            entry.connect_native = true;
        }
        entry.tags.extend(service.tags.iter().cloned());
        if let Some(source) = service.meta.get(EXTERNAL_SOURCE)
            && !source.is_empty()
            && !entry.external_sources.contains(source)
        {
            entry.external_sources.push(source.clone());
        }
        entry.add_checks(node, &instance.checks);
        if service.kind == "connect-proxy"
            && let Some(proxy) = &service.proxy
            && !proxy.destination_service_name.is_empty()
            && destination_visible(&proxy.destination_service_name)
        {
            let destination = gathered
                .entry(proxy.destination_service_name.clone())
                .or_default();
            destination.has_proxy = true;
            destination.add_checks(node, &instance.checks);
            let transparent = proxy.mode == "transparent";
            destination.transparent_proxy =
                Some(destination.transparent_proxy.unwrap_or(true) && transparent);
        }
    }
    gathered
        .into_iter()
        .map(|(name, gathered)| {
            let count = |status| {
                let matching = gathered.checks.values().filter(|s| **s == status);
                matching.count() as u64
            };
            ServiceListingSummary {
                kind: gathered.kind,
                name,
                datacenter: gathered.datacenter,
                tags: gathered.tags.into_iter().collect(),
                nodes: gathered.nodes.into_iter().collect(),
                external_sources: gathered.external_sources,
                instance_count: gathered.instances,
                checks_passing: count(HealthStatus::Passing),
                checks_warning: count(HealthStatus::Warning),
                checks_critical: count(HealthStatus::Critical),
                gateway_config: GatewayConfig::default(),
                transparent_proxy: gathered.transparent_proxy.unwrap_or(false),
                connect_native: gathered.connect_native,
                connected_with_proxy: gathered.has_proxy,
                connected_with_gateway: false,
            }
        })
        .collect()
}

/// Consul's `CatalogSummary`: how many nodes, service instances and checks are passing,
/// warning or critical. Empty lists are `null` (Go's nil slices).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CatalogOverview {
    #[serde(serialize_with = "null_if_empty")]
    pub nodes: Vec<HealthSummary>,
    #[serde(serialize_with = "null_if_empty")]
    pub services: Vec<HealthSummary>,
    #[serde(serialize_with = "null_if_empty")]
    pub checks: Vec<HealthSummary>,
}

/// Consul's `HealthSummary`: counts by status, named except for the nodes' one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthSummary {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub total: u64,
    pub passing: u64,
    pub warning: u64,
    pub critical: u64,
}

impl HealthSummary {
    fn named(name: &str) -> HealthSummary {
        HealthSummary {
            name: name.to_string(),
            ..HealthSummary::default()
        }
    }

    fn add(&mut self, status: HealthStatus) {
        self.total += 1;
        match status {
            HealthStatus::Passing => self.passing += 1,
            HealthStatus::Warning => self.warning += 1,
            HealthStatus::Critical => self.critical += 1,
        }
    }
}

/// The overview of the given nodes, service instances and checks, as Consul computes
/// it: a node's status is the worst of its node-level checks, an instance's the worst of
/// its own checks (node checks not included), and checks are counted by name. Something
/// without checks is passing.
pub fn catalog_overview<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    instances: impl IntoIterator<Item = (&'a str, &'a AgentService)>,
    checks: impl IntoIterator<Item = &'a HealthCheck>,
) -> CatalogOverview {
    // The worst status per node (node-level checks) and per (node, service ID).
    let mut node_status: HashMap<&str, HealthStatus> = HashMap::new();
    let mut instance_status: HashMap<(&str, &str), HealthStatus> = HashMap::new();
    let mut by_check_name: BTreeMap<&str, HealthSummary> = BTreeMap::new();
    for check in checks {
        by_check_name
            .entry(&check.name)
            .or_insert_with(|| HealthSummary::named(&check.name))
            .add(check.status);
        let worst = if check.service_id.is_empty() {
            node_status
                .entry(&check.node)
                .or_insert(HealthStatus::Passing)
        } else {
            instance_status
                .entry((&check.node, &check.service_id))
                .or_insert(HealthStatus::Passing)
        };
        *worst = (*worst).max(check.status);
    }
    let mut node_summary = HealthSummary::default();
    for node in nodes {
        let status = node_status.get(node.node.as_str()).copied();
        node_summary.add(status.unwrap_or(HealthStatus::Passing));
    }
    let mut by_service: BTreeMap<&str, HealthSummary> = BTreeMap::new();
    for (node, service) in instances {
        let status = instance_status.get(&(node, service.id.as_str())).copied();
        by_service
            .entry(&service.service)
            .or_insert_with(|| HealthSummary::named(&service.service))
            .add(status.unwrap_or(HealthStatus::Passing));
    }
    CatalogOverview {
        nodes: if node_summary.total == 0 {
            Vec::new()
        } else {
            vec![node_summary]
        },
        services: by_service.into_values().collect(),
        checks: by_check_name.into_values().collect(),
    }
}

/// Writes an empty list as `null`, as Go's `encoding/json` writes a nil slice.
fn null_if_empty<T: Serialize, S: Serializer>(
    items: &[T],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if items.is_empty() {
        serializer.serialize_none()
    } else {
        items.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::{ServiceConnect, ServiceProxy};
    use serde_json::json;

    fn node(name: &str) -> Node {
        Node {
            node: name.to_string(),
            datacenter: "dc1".to_string(),
            ..Node::default()
        }
    }

    fn service(id: &str, name: &str, tags: &[&str]) -> AgentService {
        AgentService {
            id: id.to_string(),
            service: name.to_string(),
            tags: tags.iter().map(|tag| tag.to_string()).collect(),
            ..AgentService::default()
        }
    }

    fn check(node: &str, id: &str, service_id: &str, status: HealthStatus) -> HealthCheck {
        HealthCheck {
            node: node.to_string(),
            check_id: id.to_string(),
            name: id.to_string(),
            service_id: service_id.to_string(),
            status,
            ..HealthCheck::default()
        }
    }

    #[test]
    fn instances_on_two_nodes_make_one_summary_with_node_checks_counted_once() {
        let (n1, n2) = (node("n1"), node("n2"));
        let mut web1 = service("web1", "web", &["b", "a"]);
        web1.meta.insert(EXTERNAL_SOURCE.into(), "nomad".into());
        let mut web2 = service("web2", "web", &["a", "c"]);
        web2.meta.insert(EXTERNAL_SOURCE.into(), "nomad".into());
        let web3 = service("web3", "web", &[]);
        let serf1 = check("n1", "serfHealth", "", HealthStatus::Passing);
        let serf2 = check("n2", "serfHealth", "", HealthStatus::Critical);
        let c1 = check("n1", "web1-http", "web1", HealthStatus::Warning);
        let c3 = check("n1", "web3-http", "web3", HealthStatus::Passing);
        let instances = vec![
            Instance {
                node: &n1,
                service: &web1,
                checks: vec![&serf1, &c1],
            },
            Instance {
                node: &n1,
                service: &web3,
                checks: vec![&serf1, &c3],
            },
            Instance {
                node: &n2,
                service: &web2,
                checks: vec![&serf2],
            },
        ];
        let summaries = services(instances, |_| true);
        assert_eq!(summaries.len(), 1);
        let json = serde_json::to_value(&summaries[0]).unwrap();
        assert_eq!(
            json,
            json!({"Name": "web", "Datacenter": "dc1", "Tags": ["a", "b", "c"],
                   "Nodes": ["n1", "n2"], "ExternalSources": ["nomad"], "InstanceCount": 3,
                   "ChecksPassing": 2, "ChecksWarning": 1, "ChecksCritical": 1,
                   "GatewayConfig": {}, "TransparentProxy": false, "ConnectNative": false,
                   "ConnectedWithProxy": false, "ConnectedWithGateway": false})
        );
    }

    #[test]
    fn empty_lists_are_null_and_kind_is_written_only_when_set() {
        let n1 = node("n1");
        let mut proxy = service("p1", "web-sidecar-proxy", &[]);
        proxy.kind = "connect-proxy".into();
        proxy.proxy = Some(Box::new(ServiceProxy {
            destination_service_name: "web".into(),
            mode: "transparent".into(),
            ..ServiceProxy::default()
        }));
        let native = AgentService {
            connect: Some(ServiceConnect { native: true }),
            ..service("n", "native", &[])
        };
        let failing = check("n1", "p1-check", "p1", HealthStatus::Critical);
        let instances = vec![
            Instance {
                node: &n1,
                service: &native,
                checks: vec![],
            },
            Instance {
                node: &n1,
                service: &proxy,
                checks: vec![&failing],
            },
        ];
        let summaries = services(instances, |_| true);
        let names: Vec<&str> = summaries.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["native", "web", "web-sidecar-proxy"]);
        let native = serde_json::to_value(&summaries[0]).unwrap();
        assert_eq!(native["Tags"], json!(null));
        assert_eq!(native["ExternalSources"], json!(null));
        assert_eq!(native["ConnectNative"], json!(true));
        assert!(native.get("Kind").is_none());
        // The destination exists only through its proxy: credited, but no instances.
        let web = serde_json::to_value(&summaries[1]).unwrap();
        assert_eq!(web["InstanceCount"], 0);
        assert_eq!(web["Nodes"], json!(null));
        assert_eq!(web["ChecksCritical"], 1);
        assert_eq!(web["ConnectedWithProxy"], true);
        assert_eq!(web["TransparentProxy"], true);
        assert_eq!(summaries[2].kind, "connect-proxy");
        // A destination the caller may not read is neither listed nor credited.
        let hidden = services(
            vec![Instance {
                node: &n1,
                service: &proxy,
                checks: vec![&failing],
            }],
            |name| name != "web",
        );
        assert_eq!(hidden.len(), 1);
        assert_eq!(hidden[0].name, "web-sidecar-proxy");
    }

    #[test]
    fn the_overview_counts_nodes_instances_and_checks_by_their_worst_status() {
        let (n1, n2, n3) = (node("n1"), node("n2"), node("n3"));
        let (web1, web2, db) = (
            service("web1", "web", &[]),
            service("web2", "web", &[]),
            service("db", "db", &[]),
        );
        let checks = [
            check("n1", "serfHealth", "", HealthStatus::Passing),
            check("n2", "serfHealth", "", HealthStatus::Passing),
            check("n2", "disk", "", HealthStatus::Warning),
            check("n1", "web1-http", "web1", HealthStatus::Critical),
            check("n1", "web1-tcp", "web1", HealthStatus::Passing),
        ];
        let overview = catalog_overview(
            [&n1, &n2, &n3],
            [("n1", &web1), ("n2", &web2), ("n2", &db)],
            &checks,
        );
        assert_eq!(
            serde_json::to_value(&overview).unwrap(),
            json!({
                "Nodes": [{"Total": 3, "Passing": 2, "Warning": 1, "Critical": 0}],
                "Services": [
                    {"Name": "db", "Total": 1, "Passing": 1, "Warning": 0, "Critical": 0},
                    {"Name": "web", "Total": 2, "Passing": 1, "Warning": 0, "Critical": 1}],
                "Checks": [
                    {"Name": "disk", "Total": 1, "Passing": 0, "Warning": 1, "Critical": 0},
                    {"Name": "serfHealth", "Total": 2, "Passing": 2, "Warning": 0, "Critical": 0},
                    {"Name": "web1-http", "Total": 1, "Passing": 0, "Warning": 0, "Critical": 1},
                    {"Name": "web1-tcp", "Total": 1, "Passing": 1, "Warning": 0, "Critical": 0}]
            })
        );
        let empty = catalog_overview([], [], []);
        assert_eq!(
            serde_json::to_value(&empty).unwrap(),
            json!({"Nodes": null, "Services": null, "Checks": null})
        );
    }
}
