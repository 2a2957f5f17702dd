//! Consul's ACL objects (`/v1/acl/*`) in the shapes its server encodes them: tokens,
//! policies, roles, auth methods and binding rules, their list stubs, and the built-in
//! objects with their reserved IDs.
//!
//! As everywhere in this crate the types carry no `skip_serializing_if` (they also travel
//! in postcard through the Raft log); the `omitempty` of Consul's struct tags is applied
//! by [`crate::go_json`]. Links to policies and roles are stored by ID, and their names
//! are filled in when read, so a renamed policy shows its new name everywhere.

mod auth_method;
mod builtin;
mod identity;
mod policy;
mod replication;
mod templated;
mod token;

pub use auth_method::{AclAuthMethod, AclBindingRule, JsonObject};
pub use builtin::*;
pub use identity::{
    AclLink, AclNodeIdentity, AclServiceIdentity, AclTemplatedPolicy, AclTemplatedPolicyVariables,
};
pub use policy::{AclPolicy, AclPolicyListStub, AclRole};
pub use replication::AclReplicationStatus;
pub use templated::{BUILTIN_TEMPLATED_POLICIES, TemplatedPolicyBase, builtin_templated_policy};
pub use token::{AclToken, AclTokenListStub};

#[cfg(test)]
mod tests;
