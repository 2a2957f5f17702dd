//! Snapshot encoding: the whole state as one versioned postcard document.
//!
//! Only primary data is written; derived indexes are rebuilt on restore, so a snapshot
//! cannot carry an index that disagrees with its tables.

use std::sync::Arc;

use imbl::OrdMap;
use proconsul_api::query::PreparedQuery;
use proconsul_api::{AgentService, HealthCheck, KvPair, Node, Session, UserEvent};
use serde::{Deserialize, Serialize};

use crate::state::{Key, NodeScopedKey, State, TableIndexes};

/// The first bytes of every snapshot, the last one being the format version.
const MAGIC: &[u8; 8] = b"PCSNAP\0\x03";
/// Version 2: no prepared queries (still restored).
const MAGIC_V2: &[u8; 8] = b"PCSNAP\0\x02";

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a Proconsul snapshot (bad header)")]
    BadHeader,
    #[error("corrupt snapshot: {0}")]
    Corrupt(#[from] postcard::Error),
}

#[derive(Serialize, Deserialize)]
struct SnapshotBody {
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
}

/// Version 2's body: the same without prepared queries (and their table index).
#[derive(Serialize, Deserialize)]
struct SnapshotBodyV2 {
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

impl From<SnapshotBodyV2> for SnapshotBody {
    fn from(v2: SnapshotBodyV2) -> SnapshotBody {
        let t = v2.table_indexes;
        SnapshotBody {
            last_applied: v2.last_applied,
            table_indexes: TableIndexes {
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

impl State {
    /// Serializes the whole state.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let body = SnapshotBody {
            last_applied: self.last_applied,
            table_indexes: self.table_indexes,
            service_indexes: self
                .service_indexes
                .iter()
                .map(|(name, index)| (name.clone(), *index))
                .collect(),
            nodes: self.nodes.values().cloned().collect(),
            services: self
                .services
                .iter()
                .map(|((node, _), service)| (node.clone(), service.clone()))
                .collect(),
            checks: self.checks.values().cloned().collect(),
            kvs: self.kvs.values().cloned().collect(),
            sessions: self.sessions.values().cloned().collect(),
            lock_delays: self
                .lock_delays
                .iter()
                .map(|(key, until)| (key.clone(), *until))
                .collect(),
            events: self.events.iter().cloned().collect(),
            prepared_queries: self.prepared_queries.values().cloned().collect(),
        };
        let mut bytes = MAGIC.to_vec();
        bytes.extend(postcard::to_stdvec(&body).expect("serializing to memory cannot fail"));
        bytes
    }

    /// Rebuilds a state from [`State::to_snapshot`]'s output.
    pub fn from_snapshot(bytes: &[u8]) -> Result<State, SnapshotError> {
        let body: SnapshotBody = if let Some(body) = bytes.strip_prefix(MAGIC) {
            postcard::from_bytes(body)?
        } else if let Some(body) = bytes.strip_prefix(MAGIC_V2) {
            postcard::from_bytes::<SnapshotBodyV2>(body)?.into()
        } else {
            return Err(SnapshotError::BadHeader);
        };
        let mut state = State {
            last_applied: body.last_applied,
            table_indexes: body.table_indexes,
            service_indexes: body.service_indexes.into_iter().collect(),
            nodes: body
                .nodes
                .into_iter()
                .map(|node| (Key::new(&node.node), node))
                .collect(),
            checks: body
                .checks
                .into_iter()
                .map(|check| ((Key::new(&check.node), Key::new(&check.check_id)), check))
                .collect(),
            kvs: body
                .kvs
                .into_iter()
                .map(|entry| (Key::new(&entry.key), entry))
                .collect(),
            sessions: body
                .sessions
                .into_iter()
                .map(|session| (Key::new(&session.id), session))
                .collect(),
            lock_delays: body.lock_delays.into_iter().collect(),
            events: body.events.into_iter().collect(),
            ..State::default()
        };
        let mut instances_by_name: OrdMap<Key, imbl::OrdSet<NodeScopedKey>> = OrdMap::new();
        for (node, service) in body.services {
            let key = (node, Key::new(&service.id));
            instances_by_name
                .entry(Key::new(&service.service))
                .or_default()
                .insert(key.clone());
            state.services.insert(key, service);
        }
        state.instances_by_name = instances_by_name;
        for query in body.prepared_queries {
            state.query_indexes.insert(&query);
            state.prepared_queries.insert(Key::new(&query.id), query);
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            nodes: vec![Arc::new(Node {
                node: "n1".into(),
                ..Node::default()
            })],
            services: Vec::new(),
            checks: Vec::new(),
            kvs: vec![Arc::new(KvPair {
                key: "k".into(),
                ..KvPair::default()
            })],
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
        // And the current version round-trips.
        let again = State::from_snapshot(&state.to_snapshot()).unwrap();
        assert_eq!(again, state);
    }
}
