//! The replicated state machine of Proconsul.
//!
//! Every write to the cluster is a [`Command`] in the Raft log; [`State::apply`] applies it
//! at its log index, and that index becomes the `CreateIndex`/`ModifyIndex` clients see.
//! The state is a set of persistent (imbl) tables, so cloning a `State` is O(1): the
//! consensus layer publishes a fresh clone after each batch and readers keep whatever
//! version they loaded, the way Consul's memdb read transactions do.
//!
//! **Architecture invariant:** this crate does no I/O, reads no clock and spawns nothing.
//! Given the same commands at the same indexes it always reaches the same state.

mod acl;
mod archive;
mod backup;
mod catalog;
mod command;
mod connect;
mod coordinate;
mod counts;
mod event;
mod health;
mod kv;
mod operator;
mod prepared_query;
mod recent_requests;
mod session;
mod snapshot;
mod state;
mod txn;
mod usage;

pub use acl::{
    ACL_ANONYMOUS_DELETE, ACL_AUTH_METHOD_DELETE_NOT_FOUND, ACL_BINDING_RULE_DELETE_NOT_FOUND,
    ACL_BOOTSTRAP_NOT_ALLOWED, ACL_NOT_FOUND, ACL_POLICY_DELETE_NOT_FOUND,
    ACL_ROLE_DELETE_NOT_FOUND, ACL_TOKEN_MAX_EXPIRATION_TTL, ACL_TOKEN_MIN_EXPIRATION_TTL,
    AclBootstrap, AclInit, AclInitialManagement, AclOutcome, AclPrivileges, AclReplicaSet,
    AclReplicate, AclReplicatedKind, AclTokenFilter, AclTokenOp, AclTokenWrite, AclWriteOp,
};
pub use archive::MAX_BACKUP_SIZE;
pub use backup::{BackupError, BackupMeta};
pub use command::{Command, CommandOutcome, KvCommand, KvOp};
pub use connect::MatchBy;
pub use coordinate::CoordinateUpdate;
pub use counts::TableCounts;
pub use event::MAX_EVENTS;
pub use health::{NodeChecks, NodeChecksCursor};
pub use prepared_query::{
    CompiledTemplate, ExecuteRequest, Execution, PreparedQueryOp, QUERY_NOT_FOUND, looks_like_uuid,
    validate_query,
};
pub use recent_requests::{RECENT_REQUESTS, RequestId};
pub use snapshot::SnapshotError;
pub use state::{State, Table, TableIndexes};
pub use txn::{CatalogVerb, KvVerb, TxnError, TxnOp, TxnResult};
