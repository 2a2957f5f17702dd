//! ACL objects in the replicated state: tokens (by AccessorID, with an index of
//! SecretIDs for O(1) resolution of a request's token), policies and roles (by ID, with
//! unique names), auth methods (by name) and binding rules (by ID), the built-in objects,
//! bootstrap, and token expiry.
//!
//! Consul's rules are kept: IDs are UUIDs compared without regard to case, names are
//! unique without regard to case, links to policies and roles are stored by ID and
//! resolved when read (a deleted policy silently drops out of the tokens that named it,
//! a renamed one shows its new name), and refusals carry Consul's texts. Times enter only
//! through commands (`now`, stamped by the proposer), so every replica agrees.

mod auth;
mod bootstrap;
mod command;
mod hash;
mod identity;
mod policy;
mod query;
mod replication;
mod role;
mod tables;
mod texts;
mod token;

pub use command::{
    AclBootstrap, AclInit, AclInitialManagement, AclOutcome, AclTokenOp, AclTokenWrite, AclWriteOp,
};
pub use query::{AclPrivileges, AclTokenFilter};
pub use replication::{AclReplicaSet, AclReplicate, AclReplicatedKind};
pub(crate) use tables::{AclSnapshot, AclTables};
pub use texts::*;
pub use token::{ACL_TOKEN_MAX_EXPIRATION_TTL, ACL_TOKEN_MIN_EXPIRATION_TTL};
