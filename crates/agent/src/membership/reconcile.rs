//! The leader's reconciliation of gossip members into the catalog, as a pure function of
//! one member (or the whole member list) and one catalog version: which write, if any,
//! brings the catalog in line. The loop that calls it (`leader.rs`) owns timing and
//! Raft; keeping the decision pure lets every case be tested against a real `State`.
//!
//! Consul's rules: an alive member is registered with `serfHealth` passing (servers also
//! with the `consul` service); a failed one keeps its node and services but its
//! `serfHealth` turns critical; a member that left, or was reaped, is deregistered; a
//! catalog node with a `serfHealth` check that no member owns is deregistered too. The
//! leader never deregisters its own node.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use proconsul_api::{
    AgentService, CatalogDeregistration, CatalogRegistration, HealthCheck, HealthStatus,
};
use proconsul_state::{Command, State};

use super::tags;

/// The check gossip owns on every node.
pub const SERF_CHECK_ID: &str = "serfHealth";
const SERF_CHECK_NAME: &str = "Serf Health Status";
const ALIVE_OUTPUT: &str = "Agent alive and reachable";
const FAILED_OUTPUT: &str = "Agent not live or unreachable";

/// A member's status as reconciliation sees it; `Reaped` is a member gossip forgot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    Alive,
    Leaving,
    Left,
    Failed,
    Reaped,
}

/// One member as gossip reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub name: String,
    pub addr: IpAddr,
    pub tags: BTreeMap<String, String>,
    pub state: MemberState,
}

/// Who reconciles: the leader's datacenter and node.
#[derive(Debug, Clone)]
pub struct Reconciler {
    pub datacenter: String,
    pub local_node: String,
}

impl Reconciler {
    /// The write that brings the catalog in line with `member`, if one is needed.
    pub fn plan(&self, member: &MemberView, state: &State) -> Option<Command> {
        if !tags::is_local_member(&member.tags, &self.datacenter) {
            return None;
        }
        match member.state {
            MemberState::Alive => self.plan_alive(member, state),
            MemberState::Failed => self.plan_failed(member, state),
            MemberState::Left | MemberState::Reaped => self.plan_gone(&member.name, state),
            MemberState::Leaving => None,
        }
    }

    /// Deregistrations of catalog nodes with a `serfHealth` check that no member owns
    /// (members of any status count as owners).
    pub fn plan_orphans(&self, members: &[MemberView], state: &State) -> Vec<Command> {
        let known: BTreeSet<&str> = members.iter().map(|m| m.name.as_str()).collect();
        state
            .nodes()
            .filter(|node| node.node != self.local_node && !known.contains(node.node.as_str()))
            .filter(|node| {
                state
                    .node_checks(&node.node)
                    .iter()
                    .any(|check| check.check_id == SERF_CHECK_ID)
            })
            .filter_map(|node| self.plan_gone(&node.node, state))
            .collect()
    }

    fn plan_alive(&self, member: &MemberView, state: &State) -> Option<Command> {
        let address = member.addr.to_string();
        let service = tags::is_server(&member.tags)
            .then(|| consul_service(&member.tags, &self.datacenter))
            .flatten();
        let node = state.node(&member.name);
        if let Some(node) = node {
            let passing = serf_check(state, &member.name)
                .is_some_and(|check| check.status == HealthStatus::Passing);
            let service_current = match &service {
                None => true,
                Some(wanted) => state
                    .node_service(&member.name, "consul")
                    .is_some_and(|have| have.port == wanted.port && have.meta == wanted.meta),
            };
            if node.address == address && passing && service_current {
                return None;
            }
        }
        let (tagged_addresses, node_meta) = match node {
            // Keep what the agent wrote of its node; addresses that named the old
            // address now name the new one.
            Some(node) => (
                node.tagged_addresses
                    .iter()
                    .map(|(kind, value)| {
                        let value = if *value == node.address {
                            address.clone()
                        } else {
                            value.clone()
                        };
                        (kind.clone(), value)
                    })
                    .collect(),
                node.meta.clone(),
            ),
            None => (
                default_tagged_addresses(&address),
                default_node_meta(&member.tags),
            ),
        };
        Some(Command::Register(Box::new(CatalogRegistration {
            id: member.tags.get("id").cloned().unwrap_or_default(),
            node: member.name.clone(),
            address,
            datacenter: self.datacenter.clone(),
            tagged_addresses,
            node_meta,
            service,
            checks: vec![serf_health(&member.name, HealthStatus::Passing)],
            ..CatalogRegistration::default()
        })))
    }

    fn plan_failed(&self, member: &MemberView, state: &State) -> Option<Command> {
        state.node(&member.name)?;
        if serf_check(state, &member.name)
            .is_some_and(|check| check.status == HealthStatus::Critical)
        {
            return None;
        }
        Some(Command::Register(Box::new(CatalogRegistration {
            node: member.name.clone(),
            datacenter: self.datacenter.clone(),
            checks: vec![serf_health(&member.name, HealthStatus::Critical)],
            skip_node_update: true,
            ..CatalogRegistration::default()
        })))
    }

    fn plan_gone(&self, name: &str, state: &State) -> Option<Command> {
        if name == self.local_node {
            return None;
        }
        state.node(name)?;
        Some(Command::Deregister(CatalogDeregistration {
            node: name.to_string(),
            datacenter: self.datacenter.clone(),
            ..CatalogDeregistration::default()
        }))
    }
}

fn serf_check(state: &State, node: &str) -> Option<std::sync::Arc<HealthCheck>> {
    state
        .node_checks(node)
        .into_iter()
        .find(|check| check.check_id == SERF_CHECK_ID)
}

/// The `serfHealth` check of `node` with Consul's name and output for `status`.
pub fn serf_health(node: &str, status: HealthStatus) -> HealthCheck {
    let output = if status == HealthStatus::Passing {
        ALIVE_OUTPUT
    } else {
        FAILED_OUTPUT
    };
    HealthCheck {
        node: node.to_string(),
        check_id: SERF_CHECK_ID.to_string(),
        name: SERF_CHECK_NAME.to_string(),
        status,
        output: output.to_string(),
        ..HealthCheck::default()
    }
}

/// A node's tagged addresses before its agent says more: every kind at its address.
pub fn default_tagged_addresses(address: &str) -> BTreeMap<String, String> {
    ["lan", "lan_ipv4", "wan", "wan_ipv4"]
        .into_iter()
        .map(|kind| (kind.to_string(), address.to_string()))
        .collect()
}

/// The node metadata Consul's agents add: the network segment and the version.
fn default_node_meta(member_tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("consul-network-segment".to_string(), String::new()),
        (
            "consul-version".to_string(),
            build_version(member_tags).to_string(),
        ),
    ])
}

/// The version in a `build` tag (`1.22.0:proconsul` → `1.22.0`).
fn build_version(member_tags: &BTreeMap<String, String>) -> &str {
    member_tags
        .get("build")
        .map_or("", |build| build.split(':').next().unwrap_or(""))
}

/// The `consul` service a server runs, from its tags; `None` without a valid `port`.
pub fn consul_service(
    member_tags: &BTreeMap<String, String>,
    datacenter: &str,
) -> Option<AgentService> {
    let port: u16 = member_tags.get("port")?.parse().ok()?;
    Some(server_service(port, datacenter, build_version(member_tags)))
}

/// The `consul` service of a server listening for RPC on `port`, as Consul registers it.
pub fn server_service(port: u16, datacenter: &str, version: &str) -> AgentService {
    AgentService {
        id: "consul".to_string(),
        service: "consul".to_string(),
        port,
        meta: BTreeMap::from([
            ("raft_version".to_string(), "3".to_string()),
            ("serf_protocol_current".to_string(), "2".to_string()),
            ("serf_protocol_max".to_string(), "5".to_string()),
            ("serf_protocol_min".to_string(), "1".to_string()),
            ("version".to_string(), version.to_string()),
        ]),
        datacenter: datacenter.to_string(),
        ..AgentService::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::ServiceRegistration;

    fn reconciler() -> Reconciler {
        Reconciler {
            datacenter: "dc1".to_string(),
            local_node: "s1".to_string(),
        }
    }

    fn member(name: &str, ip: &str, role: &str, state: MemberState) -> MemberView {
        let tags = if role == "consul" {
            tags::server_tags(&tags::ServerFacts {
                datacenter: "dc1",
                node_id: "00000000-0000-4000-8000-000000000002",
                version: "1.22.0",
                rpc_port: 8300,
                bootstrap_expect: 0,
                bootstrap: false,
                acls_enabled: false,
                wan_join_port: Some(8302),
            })
        } else {
            tags::client_tags("dc1", "00000000-0000-4000-8000-000000000003", "1.22.0")
        };
        MemberView {
            name: name.to_string(),
            addr: ip.parse().unwrap(),
            tags,
            state,
        }
    }

    /// Plans for `member`, applies the plan (if any) and returns whether there was one.
    fn apply(state: &mut State, index: &mut u64, r: &Reconciler, member: &MemberView) -> bool {
        match r.plan(member, state) {
            Some(command) => {
                *index += 1;
                state.apply(*index, &command);
                true
            }
            None => false,
        }
    }

    fn serf_status(state: &State, node: &str) -> Option<HealthStatus> {
        serf_check(state, node).map(|check| check.status)
    }

    #[test]
    fn an_alive_member_is_registered_once_then_left_alone() {
        let (mut state, mut index) = (State::default(), 0);
        let r = reconciler();
        let server = member("s2", "127.0.0.2", "consul", MemberState::Alive);
        assert!(apply(&mut state, &mut index, &r, &server));
        assert_eq!(serf_status(&state, "s2"), Some(HealthStatus::Passing));
        let service = state.node_service("s2", "consul").unwrap();
        assert_eq!(service.port, 8300);
        assert_eq!(state.node("s2").unwrap().address, "127.0.0.2");
        assert_eq!(r.plan(&server, &state), None, "nothing left to write");

        let client = member("c1", "127.0.0.3", "node", MemberState::Alive);
        assert!(apply(&mut state, &mut index, &r, &client));
        assert!(state.node_service("c1", "consul").is_none());
        assert_eq!(r.plan(&client, &state), None);
    }

    #[test]
    fn a_failed_member_turns_critical_and_keeps_its_services() {
        let (mut state, mut index) = (State::default(), 0);
        let r = reconciler();
        let alive = member("c1", "127.0.0.3", "node", MemberState::Alive);
        apply(&mut state, &mut index, &r, &alive);
        index += 1;
        state.apply(
            index,
            &Command::Register(Box::new(CatalogRegistration {
                node: "c1".to_string(),
                address: "127.0.0.3".to_string(),
                service: Some(AgentService {
                    id: "web".to_string(),
                    service: "web".to_string(),
                    ..AgentService::default()
                }),
                skip_node_update: true,
                ..CatalogRegistration::default()
            })),
        );
        let failed = MemberView {
            state: MemberState::Failed,
            ..alive.clone()
        };
        assert!(apply(&mut state, &mut index, &r, &failed));
        assert_eq!(serf_status(&state, "c1"), Some(HealthStatus::Critical));
        assert!(state.node_service("c1", "web").is_some());
        assert_eq!(r.plan(&failed, &state), None, "already critical");
        // Back alive: passing again, the service still there.
        assert!(apply(&mut state, &mut index, &r, &alive));
        assert_eq!(serf_status(&state, "c1"), Some(HealthStatus::Passing));
        assert!(state.node_service("c1", "web").is_some());
        let _ = ServiceRegistration::default();
    }

    #[test]
    fn a_failed_member_unknown_to_the_catalog_writes_nothing() {
        let state = State::default();
        let failed = member("c9", "127.0.0.9", "node", MemberState::Failed);
        assert_eq!(reconciler().plan(&failed, &state), None);
    }

    #[test]
    fn left_and_reaped_members_are_deregistered_but_never_the_leader_itself() {
        let (mut state, mut index) = (State::default(), 0);
        let r = reconciler();
        for name in ["s1", "c1", "c2"] {
            let m = member(name, "127.0.0.4", "node", MemberState::Alive);
            apply(&mut state, &mut index, &r, &m);
        }
        let left = member("c1", "127.0.0.4", "node", MemberState::Left);
        assert!(apply(&mut state, &mut index, &r, &left));
        assert!(state.node("c1").is_none());
        let reaped = member("c2", "127.0.0.4", "node", MemberState::Reaped);
        assert!(apply(&mut state, &mut index, &r, &reaped));
        assert!(state.node("c2").is_none());
        let me = member("s1", "127.0.0.4", "node", MemberState::Left);
        assert_eq!(r.plan(&me, &state), None);
    }

    #[test]
    fn a_member_of_another_datacenter_is_ignored() {
        let state = State::default();
        let mut m = member("c1", "127.0.0.3", "node", MemberState::Alive);
        m.tags.insert("dc".to_string(), "dc2".to_string());
        assert_eq!(reconciler().plan(&m, &state), None);
    }

    #[test]
    fn a_new_address_replaces_the_old_one_in_tagged_addresses() {
        let (mut state, mut index) = (State::default(), 0);
        let r = reconciler();
        let before = member("c1", "127.0.0.3", "node", MemberState::Alive);
        apply(&mut state, &mut index, &r, &before);
        let after = member("c1", "127.0.0.7", "node", MemberState::Alive);
        assert!(apply(&mut state, &mut index, &r, &after));
        let node = state.node("c1").unwrap();
        assert_eq!(node.address, "127.0.0.7");
        assert!(node.tagged_addresses.values().all(|a| a == "127.0.0.7"));
    }

    #[test]
    fn orphans_with_serf_health_are_removed_others_kept() {
        let (mut state, mut index) = (State::default(), 0);
        let r = reconciler();
        for name in ["s1", "c1", "ghost"] {
            let m = member(name, "127.0.0.4", "node", MemberState::Alive);
            apply(&mut state, &mut index, &r, &m);
        }
        // An external node without serfHealth is not gossip's business.
        index += 1;
        state.apply(
            index,
            &Command::Register(Box::new(CatalogRegistration {
                node: "external".to_string(),
                address: "10.0.0.1".to_string(),
                ..CatalogRegistration::default()
            })),
        );
        let members = [member("c1", "127.0.0.4", "node", MemberState::Alive)];
        let plans = r.plan_orphans(&members, &state);
        assert_eq!(plans.len(), 1);
        match &plans[0] {
            Command::Deregister(d) => assert_eq!(d.node, "ghost"),
            other => panic!("{other:?}"),
        }
    }
}
