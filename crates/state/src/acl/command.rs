//! What ACL commands carry and what applying one answers.

use std::sync::Arc;

use proconsul_api::acl::{AclAuthMethod, AclBindingRule, AclPolicy, AclRole, AclToken};
use proconsul_api::go_time::GoTime;
use serde::{Deserialize, Serialize};

/// Whether a policy, role or binding rule write makes a new object or changes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclWriteOp {
    /// A new object; its ID (chosen by the proposer) must be free.
    Create,
    /// Changes the object with the given ID, which must exist.
    Update,
}

/// How a token write treats the token it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclTokenOp {
    /// A new token; the proposer fills in an AccessorID and SecretID the client left
    /// out.
    Create,
    /// Changes the token with the carried AccessorID.
    Update,
    /// `PUT /v1/acl/token/:source/clone`: a new token (the carried AccessorID and
    /// SecretID, and Description if not empty) with the privileges of `source`.
    Clone { source_accessor_id: String },
}

/// A token create, update or clone, stamped with the proposer's clock: `now` becomes a
/// new token's `CreateTime`, the base of its `ExpirationTTL`, and decides whether an
/// existing token has expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclTokenWrite {
    pub op: AclTokenOp,
    pub token: AclToken,
    pub now: GoTime,
}

/// Proposed by a leader once it leads: creates what is missing of the built-in policies,
/// the anonymous token and the `initial_management` token (which bootstraps the cluster
/// if nothing did). Applying it again changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclInit {
    pub now: GoTime,
    pub initial_management: Option<AclInitialManagement>,
}

/// The `acl.tokens.initial_management` token: its secret (any string) from the config,
/// its AccessorID chosen by the proposer (used only if no token has that secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclInitialManagement {
    pub accessor_id: String,
    pub secret_id: String,
}

/// `PUT /v1/acl/bootstrap`: the first management token, allowed once. `reset_index` is
/// what the operator wrote to `<data_dir>/acl-bootstrap-reset` (0 when there is no such
/// file); it allows one more bootstrap when it equals the index of the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclBootstrap {
    pub accessor_id: String,
    pub secret_id: String,
    pub now: GoTime,
    pub reset_index: u64,
}

/// What an ACL write answers: the object as stored (links carrying their names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclOutcome {
    Token(Arc<AclToken>),
    Policy(Arc<AclPolicy>),
    Role(Arc<AclRole>),
    AuthMethod(Arc<AclAuthMethod>),
    BindingRule(Arc<AclBindingRule>),
    /// The AccessorIDs of the tokens an expiry removed.
    Expired(Vec<String>),
}
