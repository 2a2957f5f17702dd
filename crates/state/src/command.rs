//! The commands that travel through the Raft log, and what applying one answers.

use proconsul_api::acl::{AclAuthMethod, AclBindingRule, AclPolicy, AclRole};
use proconsul_api::connect::{CaConfiguration, Intention};
use proconsul_api::go_time::GoTime;
use proconsul_api::operator::AutopilotConfiguration;
use proconsul_api::query::PreparedQuery;
use proconsul_api::{CatalogDeregistration, CatalogRegistration, Session, UserEvent};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::acl::{AclBootstrap, AclInit, AclOutcome, AclReplicate, AclTokenWrite, AclWriteOp};
use crate::coordinate::CoordinateUpdate;
use crate::prepared_query::PreparedQueryOp;
use crate::recent_requests::RequestId;
use crate::txn::{TxnError, TxnOp, TxnResult};

/// One replicated write. Validation that needs no state happens before a command is
/// proposed; whatever depends on the state is decided deterministically in `apply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// `PUT /v1/catalog/register` and agent registrations: a node, and optionally a
    /// service and checks on it, in one atomic step.
    Register(Box<CatalogRegistration>),
    /// `PUT /v1/catalog/deregister`: a node with everything on it, or one service or check.
    Deregister(CatalogDeregistration),
    /// A KV write or delete.
    Kv(KvCommand),
    /// `PUT /v1/session/create`: the session with its ID chosen by the proposer.
    SessionCreate(Box<Session>),
    /// Ends a session (destroyed by a client, expired, or bound to something that
    /// failed): its locks are released or its keys deleted, per its behavior.
    /// `now_ms` (the proposer's clock, in the log so that every replica agrees) starts
    /// the lock delay of the keys it held.
    SessionDestroy { id: String, now_ms: u64 },
    /// `PUT /v1/txn`: operations applied all together or not at all.
    Txn(Vec<TxnOp>),
    /// `PUT /v1/event/fire/:name`: kept among the latest [`crate::MAX_EVENTS`] events.
    EventFire(Box<UserEvent>),
    /// `PUT /v1/snapshot`: the whole state replaced by a backup file's (checked again
    /// on apply; a bad file changes nothing).
    Restore(Vec<u8>),
    /// `POST /v1/query` and `PUT /v1/query/:id`: the query with its ID chosen by the
    /// proposer.
    PreparedQuerySet {
        op: PreparedQueryOp,
        query: Box<PreparedQuery>,
    },
    /// `DELETE /v1/query/:id`.
    PreparedQueryDelete { id: String },
    /// Proposed by a new leader: the built-in ACL objects and the `initial_management`
    /// token, where missing.
    AclInit(Box<AclInit>),
    /// `PUT /v1/acl/bootstrap`.
    AclBootstrap(Box<AclBootstrap>),
    /// `PUT /v1/acl/token[/:id[/clone]]`.
    AclTokenSet(Box<AclTokenWrite>),
    /// `DELETE /v1/acl/token/:id`.
    AclTokenDelete { accessor_id: String },
    /// Proposed by the leader when tokens' `ExpirationTime` has passed on its clock:
    /// deletes the tokens expired at `now`.
    AclTokensExpire { now: GoTime },
    /// `PUT /v1/acl/policy[/:id]`, with the ID chosen by the proposer on create.
    AclPolicySet {
        op: AclWriteOp,
        policy: Box<AclPolicy>,
    },
    /// `DELETE /v1/acl/policy/:id`.
    AclPolicyDelete { id: String },
    /// `PUT /v1/acl/role[/:id]`, with the ID chosen by the proposer on create.
    AclRoleSet { op: AclWriteOp, role: Box<AclRole> },
    /// `DELETE /v1/acl/role/:id`.
    AclRoleDelete { id: String },
    /// `PUT /v1/acl/auth-method[/:name]`: creates or replaces the method of that name.
    AclAuthMethodSet(Box<AclAuthMethod>),
    /// `DELETE /v1/acl/auth-method/:name`, with its binding rules and tokens.
    AclAuthMethodDelete { name: String },
    /// `PUT /v1/acl/binding-rule[/:id]`, with the ID chosen by the proposer on create.
    AclBindingRuleSet {
        op: AclWriteOp,
        rule: Box<AclBindingRule>,
    },
    /// `DELETE /v1/acl/binding-rule/:id`.
    AclBindingRuleDelete { id: String },
    /// `PUT /v1/connect/intentions/exact` and the writes by ID: creates or replaces the
    /// intention of its (source, destination) pair; one with the same ID under another
    /// pair is moved.
    IntentionSet(Box<Intention>),
    /// `DELETE /v1/connect/intentions/exact` (and by ID, resolved by the proposer).
    IntentionDelete { source: String, destination: String },
    /// `PUT /v1/connect/ca/configuration`.
    CaConfigSet(Box<CaConfiguration>),
    /// `PUT /v1/operator/autopilot/configuration[?cas=]`; answered `Applied`.
    AutopilotConfigSet {
        config: Box<AutopilotConfiguration>,
        cas: Option<u64>,
    },
    /// Network coordinates collected by a server (`PUT /v1/coordinate/update`, the
    /// agents' own): stored for the nodes the catalog knows, skipped for the others.
    CoordinateBatchUpdate(Vec<CoordinateUpdate>),
    /// A write a follower forwarded under a request ID: applied at its first arrival
    /// only, so sending it again after a lost answer cannot apply it twice
    /// ([`crate::recent_requests`]). New variants go after the others, so earlier ones
    /// keep their tags in logs.
    Identified {
        id: RequestId,
        command: Arc<Command>,
    },
    /// A secondary datacenter's leader brings its policies, roles or global tokens in
    /// line with the primary datacenter's (added after the others: the log
    /// encodes variants by position).
    AclReplicate(Box<AclReplicate>),
}

/// A KV write, with the check-and-set index when the client asked for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvCommand {
    pub op: KvOp,
    pub key: String,
    pub value: Vec<u8>,
    pub flags: u64,
    /// `?cas=N`: `Some(0)` means "only if absent", `Some(n)` "only if ModifyIndex is n".
    pub cas: Option<u64>,
}

/// What a [`KvCommand`] does to its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    Set,
    Delete,
    DeleteTree,
    /// `?acquire=<session>`: set the value and take the lock if it is free (or already
    /// this session's).
    Acquire(String),
    /// `?release=<session>`: set the value and give the lock up if this session holds it.
    Release(String),
}

/// The answer of applying a command, returned to the client that proposed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandOutcome {
    /// The command took effect (or changed nothing because nothing differed).
    Done,
    /// A conditional write: whether its condition held and it was applied.
    Applied(bool),
    /// A transaction: its results, or the errors of the operations that failed (then
    /// nothing was applied).
    Txn(Result<Vec<TxnResult>, Vec<TxnError>>),
    /// The command was refused by the state (e.g. a check for an unknown service). The
    /// text is Consul's error message, shown to the client as a 400/500 body.
    Rejected(String),
    /// An ACL write: the object as stored.
    Acl(AclOutcome),
}
