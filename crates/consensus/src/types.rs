//! The openraft type configuration: what travels in the log and what comes back.

use std::fmt;
use std::sync::Arc;

use proconsul_state::{Command, CommandOutcome};
use serde::{Deserialize, Serialize};

/// A log entry's payload: one state machine command. A newtype because openraft wants
/// `Display` on its payloads and the state crate has no reason to provide it. Shared, so
/// that the log, a retry and a forwarded batch hold the same command without copying it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Proposal(pub Arc<Command>);

impl fmt::Display for Proposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_ref() {
            Command::Register(r) => write!(f, "register node={}", r.node),
            Command::Deregister(d) => write!(f, "deregister node={}", d.node),
            Command::Kv(kv) => write!(f, "kv {:?} key={}", kv.op, kv.key),
            Command::SessionCreate(session) => write!(f, "session create id={}", session.id),
            Command::SessionDestroy { id, .. } => write!(f, "session destroy id={id}"),
            Command::Txn(ops) => write!(f, "txn ops={}", ops.len()),
            Command::EventFire(event) => write!(f, "event name={}", event.name),
            Command::Restore(backup) => write!(f, "restore bytes={}", backup.len()),
            Command::PreparedQuerySet { op, query } => {
                write!(f, "prepared query {op:?} id={}", query.id)
            }
            Command::PreparedQueryDelete { id } => write!(f, "prepared query delete id={id}"),
            // ACL commands: never a SecretID (log lines are not secret).
            Command::AclInit(_) => write!(f, "acl init"),
            Command::AclBootstrap(b) => write!(f, "acl bootstrap accessor={}", b.accessor_id),
            Command::AclTokenSet(w) => write!(f, "acl token {:?}", w.op),
            Command::AclTokenDelete { accessor_id } => {
                write!(f, "acl token delete accessor={accessor_id}")
            }
            Command::AclTokensExpire { now } => write!(f, "acl tokens expire now={now}"),
            Command::AclPolicySet { op, policy } => write!(f, "acl policy {op:?} id={}", policy.id),
            Command::AclPolicyDelete { id } => write!(f, "acl policy delete id={id}"),
            Command::IntentionSet(i) => write!(
                f,
                "intention set {} => {}",
                i.source_name, i.destination_name
            ),
            Command::IntentionDelete {
                source,
                destination,
            } => write!(f, "intention delete {source} => {destination}"),
            Command::CaConfigSet(c) => write!(f, "ca config set provider={}", c.provider),
            Command::AutopilotConfigSet { cas, .. } => {
                write!(f, "autopilot config set cas={cas:?}")
            }
            Command::AclRoleSet { op, role } => write!(f, "acl role {op:?} id={}", role.id),
            Command::AclRoleDelete { id } => write!(f, "acl role delete id={id}"),
            Command::AclAuthMethodSet(m) => write!(f, "acl auth method set name={}", m.name),
            Command::AclAuthMethodDelete { name } => {
                write!(f, "acl auth method delete name={name}")
            }
            Command::AclBindingRuleSet { op, rule } => {
                write!(f, "acl binding rule {op:?} id={}", rule.id)
            }
            Command::AclBindingRuleDelete { id } => write!(f, "acl binding rule delete id={id}"),
            Command::AclReplicate(r) => write!(
                f,
                "acl replicate {} set={} delete={}",
                r.set.kind().as_str(),
                r.set.len(),
                r.delete.len()
            ),
            Command::CoordinateBatchUpdate(updates) => {
                write!(f, "coordinate batch update entries={}", updates.len())
            }
            Command::Identified { id, command } => write!(
                f,
                "{} (request {:x}-{})",
                Proposal(command.clone()),
                id.origin,
                id.seq
            ),
        }
    }
}

/// A server as the Raft configuration records it: where its server RPC listens, and the
/// node name operators know it by (`/v1/operator/raft/configuration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerNode {
    pub addr: String,
    pub name: String,
    /// The node ID (a UUID) the server's agent is known by.
    pub id: String,
}

impl fmt::Display for ServerNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.addr)
    }
}

openraft::declare_raft_types!(
    /// Proconsul's Raft: node IDs are u64, nodes carry their server RPC address and name.
    pub TypeConfig:
        D = Proposal,
        R = CommandOutcome,
        NodeId = u64,
        Node = ServerNode,
);

/// The Raft instance, typed by our state machine adapter.
pub type Raft = openraft::Raft<TypeConfig, crate::state_machine::StateMachine>;
