//! Snapshot encoding: the whole state as one versioned postcard document.
//!
//! Only primary data is written; derived indexes are rebuilt on restore, so a snapshot
//! cannot carry an index that disagrees with its tables.

use std::sync::Arc;

use imbl::OrdMap;
use proconsul_api::coordinate::Coordinate;
use proconsul_api::query::PreparedQuery;
use proconsul_api::{AgentService, HealthCheck, KvPair, Node, Session, UserEvent};
use serde::{Deserialize, Serialize};

use crate::acl::{AclSnapshot, AclTables};
use crate::command::CommandOutcome;
use crate::connect::{ConnectSnapshot, ConnectTables};
use crate::operator::OperatorTables;
use crate::recent_requests::{RecentRequests, RequestId};
use crate::state::{Key, NodeScopedKey, State, TableIndexes};

mod legacy;

/// The first bytes of every snapshot, followed by one byte: the format version.
const MAGIC_PREFIX: &[u8; 7] = b"PCSNAP\0";
/// The version written: 8 added the outcomes of recent identified writes, 7 network
/// coordinates. Versions 2 to 7 still restore (`legacy.rs`).
const VERSION: u8 = 8;

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a Proconsul snapshot (bad header)")]
    BadHeader,
    #[error("corrupt snapshot: {0}")]
    Corrupt(#[from] postcard::Error),
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SnapshotBody {
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
    recent_requests: Vec<(RequestId, CommandOutcome)>,
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
            acl: self.acl.to_snapshot(),
            connect: self.connect.to_snapshot(),
            operator: self.operator.clone(),
            coordinates: self
                .coordinates
                .iter()
                .map(|((node, segment), coord)| (node.clone(), segment.clone(), coord.clone()))
                .collect(),
            recent_requests: self.recent_requests.to_snapshot(),
        };
        let mut bytes = MAGIC_PREFIX.to_vec();
        bytes.push(VERSION);
        bytes.extend(postcard::to_stdvec(&body).expect("serializing to memory cannot fail"));
        bytes
    }

    /// Rebuilds a state from [`State::to_snapshot`]'s output.
    pub fn from_snapshot(bytes: &[u8]) -> Result<State, SnapshotError> {
        let (version, body) = bytes
            .strip_prefix(MAGIC_PREFIX)
            .and_then(<[u8]>::split_first)
            .ok_or(SnapshotError::BadHeader)?;
        let body: SnapshotBody = match *version {
            VERSION => postcard::from_bytes(body)?,
            earlier => legacy::upgrade(earlier, body).ok_or(SnapshotError::BadHeader)??,
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
            acl: AclTables::from_snapshot(body.acl),
            connect: ConnectTables::from_snapshot(body.connect),
            operator: body.operator,
            coordinates: body
                .coordinates
                .into_iter()
                .map(|(node, segment, coord)| ((node, segment), coord))
                .collect(),
            recent_requests: RecentRequests::from_snapshot(body.recent_requests),
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
