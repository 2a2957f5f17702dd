//! Earlier snapshot formats, still restored: version 7 (no recent identified writes),
//! version 6 (no network coordinates either),
//! version 5 (no operator settings either), version 4 (no Connect tables either),
//! version 3 (no ACL tables either) and version 2 (no prepared queries either). Each
//! converts into the next, filling what it lacks with empty tables and zero indexes.

use std::sync::Arc;

use proconsul_api::coordinate::Coordinate;
use proconsul_api::query::PreparedQuery;
use proconsul_api::{AgentService, HealthCheck, KvPair, Node, Session, UserEvent};
use serde::{Deserialize, Serialize};

use super::SnapshotBody;
use crate::acl::AclSnapshot;
use crate::connect::ConnectSnapshot;
use crate::operator::OperatorTables;
use crate::state::{Key, TableIndexes};

/// Decodes a body written in an earlier `version` and brings it up to the current
/// format; `None` for a version that never existed.
pub(super) fn upgrade(version: u8, body: &[u8]) -> Option<Result<SnapshotBody, postcard::Error>> {
    use postcard::from_bytes;
    if version == 7 {
        return Some(from_bytes::<SnapshotBodyV7>(body).map(SnapshotBody::from));
    }
    let v6 = match version {
        6 => from_bytes::<SnapshotBodyV6>(body),
        5 => from_bytes::<SnapshotBodyV5>(body).map(SnapshotBodyV6::from),
        4 => from_bytes::<SnapshotBodyV4>(body).map(|v4| SnapshotBodyV5::from(v4).into()),
        3 => from_bytes::<SnapshotBodyV3>(body)
            .map(|v3| SnapshotBodyV5::from(SnapshotBodyV4::from(v3)).into()),
        2 => from_bytes::<SnapshotBodyV2>(body)
            .map(|v2| SnapshotBodyV5::from(SnapshotBodyV4::from(SnapshotBodyV3::from(v2))).into()),
        _ => return None,
    };
    Some(v6.map(SnapshotBody::from))
}

/// Version 6's body: the current one without network coordinates (and their table
/// index).
#[derive(Serialize, Deserialize)]
pub(super) struct SnapshotBodyV6 {
    last_applied: u64,
    table_indexes: TableIndexesV6,
    service_indexes: Vec<(Key, u64)>,
    nodes: Vec<Arc<Node>>,
    services: Vec<(Key, Arc<AgentService>)>,
    checks: Vec<Arc<HealthCheck>>,
    kvs: Vec<Arc<KvPair>>,
    sessions: Vec<Arc<Session>>,
    lock_delays: Vec<(Key, u64)>,
    events: Vec<Arc<UserEvent>>,
    prepared_queries: Vec<Arc<PreparedQuery>>,
    acl: AclSnapshot,
    connect: ConnectSnapshot,
    operator: OperatorTables,
}

/// The table indexes of versions 5 and 6.
#[derive(Serialize, Deserialize, Default)]
struct TableIndexesV6 {
    nodes: u64,
    services: u64,
    checks: u64,
    kvs: u64,
    sessions: u64,
    events: u64,
    prepared_queries: u64,
    acl_tokens: u64,
    acl_policies: u64,
    acl_roles: u64,
    acl_auth_methods: u64,
    acl_binding_rules: u64,
    intentions: u64,
}

impl From<SnapshotBodyV6> for SnapshotBody {
    fn from(v6: SnapshotBodyV6) -> SnapshotBody {
        let t = v6.table_indexes;
        SnapshotBody {
            last_applied: v6.last_applied,
            table_indexes: TableIndexes {
                nodes: t.nodes,
                services: t.services,
                checks: t.checks,
                kvs: t.kvs,
                sessions: t.sessions,
                events: t.events,
                prepared_queries: t.prepared_queries,
                acl_tokens: t.acl_tokens,
                acl_policies: t.acl_policies,
                acl_roles: t.acl_roles,
                acl_auth_methods: t.acl_auth_methods,
                acl_binding_rules: t.acl_binding_rules,
                intentions: t.intentions,
                coordinates: 0,
            },
            service_indexes: v6.service_indexes,
            nodes: v6.nodes,
            services: v6.services,
            checks: v6.checks,
            kvs: v6.kvs,
            sessions: v6.sessions,
            lock_delays: v6.lock_delays,
            events: v6.events,
            prepared_queries: v6.prepared_queries,
            acl: v6.acl,
            connect: v6.connect,
            operator: v6.operator,
            coordinates: Vec::new(),
            recent_requests: Vec::new(),
        }
    }
}

/// Version 7's body: the current one without the recent identified writes.
#[derive(Serialize, Deserialize)]
pub(super) struct SnapshotBodyV7 {
    last_applied: u64,
    table_indexes: TableIndexes,
    service_indexes: Vec<(Key, u64)>,
    nodes: Vec<Arc<Node>>,
    services: Vec<(Key, Arc<AgentService>)>,
    checks: Vec<Arc<HealthCheck>>,
    kvs: Vec<Arc<KvPair>>,
    sessions: Vec<Arc<Session>>,
    lock_delays: Vec<(Key, u64)>,
    events: Vec<Arc<UserEvent>>,
    prepared_queries: Vec<Arc<PreparedQuery>>,
    acl: AclSnapshot,
    connect: ConnectSnapshot,
    operator: OperatorTables,
    coordinates: Vec<(Key, Key, Arc<Coordinate>)>,
}

impl From<SnapshotBodyV7> for SnapshotBody {
    fn from(v7: SnapshotBodyV7) -> SnapshotBody {
        SnapshotBody {
            last_applied: v7.last_applied,
            table_indexes: v7.table_indexes,
            service_indexes: v7.service_indexes,
            nodes: v7.nodes,
            services: v7.services,
            checks: v7.checks,
            kvs: v7.kvs,
            sessions: v7.sessions,
            lock_delays: v7.lock_delays,
            events: v7.events,
            prepared_queries: v7.prepared_queries,
            acl: v7.acl,
            connect: v7.connect,
            operator: v7.operator,
            coordinates: v7.coordinates,
            recent_requests: Vec::new(),
        }
    }
}

/// Version 5's body: version 6's without operator settings.
#[derive(Serialize, Deserialize)]
pub(super) struct SnapshotBodyV5 {
    last_applied: u64,
    table_indexes: TableIndexesV6,
    service_indexes: Vec<(Key, u64)>,
    nodes: Vec<Arc<Node>>,
    services: Vec<(Key, Arc<AgentService>)>,
    checks: Vec<Arc<HealthCheck>>,
    kvs: Vec<Arc<KvPair>>,
    sessions: Vec<Arc<Session>>,
    lock_delays: Vec<(Key, u64)>,
    events: Vec<Arc<UserEvent>>,
    prepared_queries: Vec<Arc<PreparedQuery>>,
    acl: AclSnapshot,
    connect: ConnectSnapshot,
}

impl From<SnapshotBodyV5> for SnapshotBodyV6 {
    fn from(v5: SnapshotBodyV5) -> SnapshotBodyV6 {
        SnapshotBodyV6 {
            last_applied: v5.last_applied,
            table_indexes: v5.table_indexes,
            service_indexes: v5.service_indexes,
            nodes: v5.nodes,
            services: v5.services,
            checks: v5.checks,
            kvs: v5.kvs,
            sessions: v5.sessions,
            lock_delays: v5.lock_delays,
            events: v5.events,
            prepared_queries: v5.prepared_queries,
            acl: v5.acl,
            connect: v5.connect,
            operator: Default::default(),
        }
    }
}

/// Version 4's body: version 5's without Connect tables (and their table index).
#[derive(Serialize, Deserialize)]
pub(super) struct SnapshotBodyV4 {
    last_applied: u64,
    table_indexes: TableIndexesV4,
    service_indexes: Vec<(Key, u64)>,
    nodes: Vec<Arc<Node>>,
    services: Vec<(Key, Arc<AgentService>)>,
    checks: Vec<Arc<HealthCheck>>,
    kvs: Vec<Arc<KvPair>>,
    sessions: Vec<Arc<Session>>,
    lock_delays: Vec<(Key, u64)>,
    events: Vec<Arc<UserEvent>>,
    prepared_queries: Vec<Arc<PreparedQuery>>,
    acl: AclSnapshot,
}

#[derive(Serialize, Deserialize, Default)]
struct TableIndexesV4 {
    nodes: u64,
    services: u64,
    checks: u64,
    kvs: u64,
    sessions: u64,
    events: u64,
    prepared_queries: u64,
    acl_tokens: u64,
    acl_policies: u64,
    acl_roles: u64,
    acl_auth_methods: u64,
    acl_binding_rules: u64,
}

/// Version 3's body: version 4's without ACL tables (and their table indexes).
#[derive(Serialize, Deserialize)]
pub(super) struct SnapshotBodyV3 {
    last_applied: u64,
    table_indexes: TableIndexesV3,
    service_indexes: Vec<(Key, u64)>,
    nodes: Vec<Arc<Node>>,
    services: Vec<(Key, Arc<AgentService>)>,
    checks: Vec<Arc<HealthCheck>>,
    kvs: Vec<Arc<KvPair>>,
    sessions: Vec<Arc<Session>>,
    lock_delays: Vec<(Key, u64)>,
    events: Vec<Arc<UserEvent>>,
    prepared_queries: Vec<Arc<PreparedQuery>>,
}

#[derive(Serialize, Deserialize)]
struct TableIndexesV3 {
    nodes: u64,
    services: u64,
    checks: u64,
    kvs: u64,
    sessions: u64,
    events: u64,
    prepared_queries: u64,
}

/// Version 2's body: version 3's without prepared queries (and their table index).
#[derive(Serialize, Deserialize)]
pub(super) struct SnapshotBodyV2 {
    last_applied: u64,
    table_indexes: TableIndexesV2,
    service_indexes: Vec<(Key, u64)>,
    nodes: Vec<Arc<Node>>,
    services: Vec<(Key, Arc<AgentService>)>,
    checks: Vec<Arc<HealthCheck>>,
    kvs: Vec<Arc<KvPair>>,
    sessions: Vec<Arc<Session>>,
    lock_delays: Vec<(Key, u64)>,
    events: Vec<Arc<UserEvent>>,
}

#[derive(Serialize, Deserialize)]
struct TableIndexesV2 {
    nodes: u64,
    services: u64,
    checks: u64,
    kvs: u64,
    sessions: u64,
    events: u64,
}

impl From<SnapshotBodyV2> for SnapshotBodyV3 {
    fn from(v2: SnapshotBodyV2) -> SnapshotBodyV3 {
        let t = v2.table_indexes;
        SnapshotBodyV3 {
            last_applied: v2.last_applied,
            table_indexes: TableIndexesV3 {
                nodes: t.nodes,
                services: t.services,
                checks: t.checks,
                kvs: t.kvs,
                sessions: t.sessions,
                events: t.events,
                prepared_queries: 0,
            },
            service_indexes: v2.service_indexes,
            nodes: v2.nodes,
            services: v2.services,
            checks: v2.checks,
            kvs: v2.kvs,
            sessions: v2.sessions,
            lock_delays: v2.lock_delays,
            events: v2.events,
            prepared_queries: Vec::new(),
        }
    }
}

impl From<SnapshotBodyV3> for SnapshotBodyV4 {
    fn from(v3: SnapshotBodyV3) -> SnapshotBodyV4 {
        let t = v3.table_indexes;
        SnapshotBodyV4 {
            last_applied: v3.last_applied,
            table_indexes: TableIndexesV4 {
                nodes: t.nodes,
                services: t.services,
                checks: t.checks,
                kvs: t.kvs,
                sessions: t.sessions,
                events: t.events,
                prepared_queries: t.prepared_queries,
                ..TableIndexesV4::default()
            },
            service_indexes: v3.service_indexes,
            nodes: v3.nodes,
            services: v3.services,
            checks: v3.checks,
            kvs: v3.kvs,
            sessions: v3.sessions,
            lock_delays: v3.lock_delays,
            events: v3.events,
            prepared_queries: v3.prepared_queries,
            acl: AclSnapshot::default(),
        }
    }
}

impl From<SnapshotBodyV4> for SnapshotBodyV5 {
    fn from(v4: SnapshotBodyV4) -> SnapshotBodyV5 {
        let t = v4.table_indexes;
        SnapshotBodyV5 {
            last_applied: v4.last_applied,
            table_indexes: TableIndexesV6 {
                nodes: t.nodes,
                services: t.services,
                checks: t.checks,
                kvs: t.kvs,
                sessions: t.sessions,
                events: t.events,
                prepared_queries: t.prepared_queries,
                acl_tokens: t.acl_tokens,
                acl_policies: t.acl_policies,
                acl_roles: t.acl_roles,
                acl_auth_methods: t.acl_auth_methods,
                acl_binding_rules: t.acl_binding_rules,
                intentions: 0,
            },
            service_indexes: v4.service_indexes,
            nodes: v4.nodes,
            services: v4.services,
            checks: v4.checks,
            kvs: v4.kvs,
            sessions: v4.sessions,
            lock_delays: v4.lock_delays,
            events: v4.events,
            prepared_queries: v4.prepared_queries,
            acl: v4.acl,
            connect: ConnectSnapshot::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::MAGIC_PREFIX;
    use super::*;
    use crate::state::State;

    /// A snapshot of format `version` holding `body`.
    fn snapshot<T: Serialize>(version: u8, body: &T) -> Vec<u8> {
        let mut bytes = MAGIC_PREFIX.to_vec();
        bytes.push(version);
        bytes.extend(postcard::to_stdvec(body).unwrap());
        bytes
    }

    fn kv_state() -> State {
        let mut state = State::default();
        state.apply(
            3,
            &crate::command::Command::Kv(crate::command::KvCommand {
                op: crate::command::KvOp::Set,
                key: "k".into(),
                value: b"v".to_vec(),
                flags: 0,
                cas: None,
            }),
        );
        state
    }

    fn node(name: &str) -> Arc<Node> {
        Arc::new(Node {
            node: name.into(),
            ..Node::default()
        })
    }

    fn key(name: &str) -> Arc<KvPair> {
        Arc::new(KvPair {
            key: name.into(),
            ..KvPair::default()
        })
    }

    #[test]
    fn version_2_snapshots_still_restore() {
        let v2 = SnapshotBodyV2 {
            last_applied: 7,
            table_indexes: TableIndexesV2 {
                nodes: 3,
                services: 0,
                checks: 0,
                kvs: 7,
                sessions: 0,
                events: 0,
            },
            service_indexes: Vec::new(),
            nodes: vec![node("n1")],
            services: Vec::new(),
            checks: Vec::new(),
            kvs: vec![key("k")],
            sessions: Vec::new(),
            lock_delays: Vec::new(),
            events: Vec::new(),
        };
        let bytes = snapshot(2, &v2);
        let state = State::from_snapshot(&bytes).unwrap();
        assert_eq!(state.last_applied(), 7);
        assert_eq!(state.table_indexes().kvs, 7);
        assert_eq!(state.table_indexes().prepared_queries, 0);
        assert!(state.node("n1").is_some());
        assert_eq!(state.prepared_queries().count(), 0);
        assert!(state.acl_tokens(&Default::default()).is_empty());
        // And the current version round-trips.
        let again = State::from_snapshot(&state.to_snapshot()).unwrap();
        assert_eq!(again, state);
    }

    #[test]
    fn version_3_snapshots_still_restore_without_acl_tables() {
        let query = Arc::new(PreparedQuery {
            id: "q1".into(),
            name: "web".into(),
            ..PreparedQuery::default()
        });
        let v3 = SnapshotBodyV3 {
            last_applied: 9,
            table_indexes: TableIndexesV3 {
                nodes: 3,
                services: 0,
                checks: 0,
                kvs: 7,
                sessions: 0,
                events: 0,
                prepared_queries: 9,
            },
            service_indexes: Vec::new(),
            nodes: vec![node("n1")],
            services: Vec::new(),
            checks: Vec::new(),
            kvs: vec![key("k")],
            sessions: Vec::new(),
            lock_delays: Vec::new(),
            events: Vec::new(),
            prepared_queries: vec![query],
        };
        let bytes = snapshot(3, &v3);
        let state = State::from_snapshot(&bytes).unwrap();
        assert_eq!(state.last_applied(), 9);
        assert_eq!(state.table_indexes().prepared_queries, 9);
        assert_eq!(state.table_indexes().acl_tokens, 0);
        assert!(state.prepared_query("q1").is_some());
        assert!(state.kv_get("k").is_some());
        assert!(state.acl_tokens(&Default::default()).is_empty());
        assert_eq!(state.acl_bootstrap_reset_index(), None);
        let again = State::from_snapshot(&state.to_snapshot()).unwrap();
        assert_eq!(again, state);
    }

    #[test]
    fn version_4_snapshots_still_restore_without_connect_tables() {
        let state = kv_state();
        // A version 4 body is the current one without its last field and with one
        // table index fewer: written here field by field, as version 4 wrote it.
        let v4 = SnapshotBodyV4 {
            last_applied: 3,
            table_indexes: TableIndexesV4 {
                kvs: 3,
                ..TableIndexesV4::default()
            },
            service_indexes: Vec::new(),
            nodes: Vec::new(),
            services: Vec::new(),
            checks: Vec::new(),
            kvs: vec![state.kv_get("k").unwrap().clone()],
            sessions: Vec::new(),
            lock_delays: Vec::new(),
            events: Vec::new(),
            prepared_queries: Vec::new(),
            acl: AclSnapshot::default(),
        };
        let bytes = snapshot(4, &v4);
        let restored = State::from_snapshot(&bytes).unwrap();
        assert_eq!(restored.kv_get("k"), state.kv_get("k"));
        assert_eq!(restored.table_indexes().kvs, 3);
        assert!(restored.intentions().is_empty());
        let again = State::from_snapshot(&restored.to_snapshot()).unwrap();
        assert_eq!(again, restored);
    }

    #[test]
    fn version_5_snapshots_still_restore_without_operator_settings() {
        let state = kv_state();
        // A version 5 body is version 6's without its last field.
        let v5 = SnapshotBodyV5 {
            last_applied: 3,
            table_indexes: TableIndexesV6 {
                kvs: 3,
                ..TableIndexesV6::default()
            },
            service_indexes: Vec::new(),
            nodes: Vec::new(),
            services: Vec::new(),
            checks: Vec::new(),
            kvs: vec![state.kv_get("k").unwrap().clone()],
            sessions: Vec::new(),
            lock_delays: Vec::new(),
            events: Vec::new(),
            prepared_queries: Vec::new(),
            acl: AclSnapshot::default(),
            connect: ConnectSnapshot::default(),
        };
        let bytes = snapshot(5, &v5);
        let restored = State::from_snapshot(&bytes).unwrap();
        assert_eq!(restored.kv_get("k"), state.kv_get("k"));
        assert!(restored.autopilot_configuration().is_none());
        let again = State::from_snapshot(&restored.to_snapshot()).unwrap();
        assert_eq!(again, restored);
    }

    #[test]
    fn version_6_snapshots_still_restore_without_coordinates() {
        let state = kv_state();
        let v6 = SnapshotBodyV6 {
            last_applied: 3,
            table_indexes: TableIndexesV6 {
                kvs: 3,
                intentions: 2,
                ..TableIndexesV6::default()
            },
            service_indexes: Vec::new(),
            nodes: vec![node("n1")],
            services: Vec::new(),
            checks: Vec::new(),
            kvs: vec![state.kv_get("k").unwrap().clone()],
            sessions: Vec::new(),
            lock_delays: Vec::new(),
            events: Vec::new(),
            prepared_queries: Vec::new(),
            acl: AclSnapshot::default(),
            connect: ConnectSnapshot::default(),
            operator: OperatorTables::default(),
        };
        let restored = State::from_snapshot(&snapshot(6, &v6)).unwrap();
        assert_eq!(restored.kv_get("k"), state.kv_get("k"));
        assert!(restored.node("n1").is_some());
        assert_eq!(restored.table_indexes().intentions, 2);
        assert_eq!(restored.table_indexes().coordinates, 0);
        assert_eq!(restored.coordinates().count(), 0);
        let again = State::from_snapshot(&restored.to_snapshot()).unwrap();
        assert_eq!(again, restored);
    }

    #[test]
    fn version_7_snapshots_still_restore_without_recent_requests() {
        let mut state = State::default();
        state.apply(
            1,
            &crate::Command::Kv(crate::KvCommand {
                op: crate::KvOp::Set,
                key: "k".to_string(),
                value: b"v".to_vec(),
                flags: 0,
                cas: None,
            }),
        );
        let v7 = SnapshotBodyV7 {
            last_applied: 1,
            table_indexes: state.table_indexes(),
            service_indexes: Vec::new(),
            nodes: Vec::new(),
            services: Vec::new(),
            checks: Vec::new(),
            kvs: vec![state.kv_get("k").unwrap().clone()],
            sessions: Vec::new(),
            lock_delays: Vec::new(),
            events: Vec::new(),
            prepared_queries: Vec::new(),
            acl: AclSnapshot::default(),
            connect: ConnectSnapshot::default(),
            operator: OperatorTables::default(),
            coordinates: Vec::new(),
        };
        let restored = State::from_snapshot(&snapshot(7, &v7)).unwrap();
        assert_eq!(restored, state);
    }

    #[test]
    fn unknown_versions_are_refused() {
        for version in [0, 1, 9, 255] {
            assert!(matches!(
                State::from_snapshot(&snapshot(version, &0u8)),
                Err(crate::SnapshotError::BadHeader)
            ));
        }
    }
}
