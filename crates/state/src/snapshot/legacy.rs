//! Earlier snapshot formats, still restored: version 3 (no ACL tables) and version 2
//! (no prepared queries either). Each converts into the next, filling what it lacks
//! with empty tables and zero indexes.

use std::sync::Arc;

use proconsul_api::query::PreparedQuery;
use proconsul_api::{AgentService, HealthCheck, KvPair, Node, Session, UserEvent};
use serde::{Deserialize, Serialize};

use super::SnapshotBody;
use crate::acl::AclSnapshot;
use crate::state::{Key, TableIndexes};

/// Version 3's body: the current one without ACL tables (and their table indexes).
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

impl From<SnapshotBodyV3> for SnapshotBody {
    fn from(v3: SnapshotBodyV3) -> SnapshotBody {
        let t = v3.table_indexes;
        SnapshotBody {
            last_applied: v3.last_applied,
            table_indexes: TableIndexes {
                nodes: t.nodes,
                services: t.services,
                checks: t.checks,
                kvs: t.kvs,
                sessions: t.sessions,
                events: t.events,
                prepared_queries: t.prepared_queries,
                ..TableIndexes::default()
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

#[cfg(test)]
mod tests {
    use super::super::{MAGIC_V2, MAGIC_V3};
    use super::*;
    use crate::state::State;

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
        let mut bytes = MAGIC_V2.to_vec();
        bytes.extend(postcard::to_stdvec(&v2).unwrap());
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
        let mut bytes = MAGIC_V3.to_vec();
        bytes.extend(postcard::to_stdvec(&v3).unwrap());
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
}
