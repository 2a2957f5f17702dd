//! What a token or role is linked to besides its policies: links by ID, service and node
//! identities, and templated policies.

use serde::{Deserialize, Serialize};

/// A link to a policy or a role (`ACLTokenPolicyLink`, `ACLTokenRoleLink`,
/// `ACLRolePolicyLink`). A request may name the target by `ID` or by `Name`; the state
/// keeps the ID only and fills the current name in when the link is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclLink {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
}

/// A service identity: the synthetic policy for one service (and its sidecar proxy),
/// valid in the listed datacenters (all when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclServiceIdentity {
    pub service_name: String,
    pub datacenters: Vec<String>,
}

/// A node identity: the synthetic policy for one node in one datacenter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclNodeIdentity {
    pub node_name: String,
    pub datacenter: String,
}

/// A use of one of the built-in policy templates (`builtin/service`, ...), with the
/// variables it is rendered with. `TemplateID` is filled in by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclTemplatedPolicy {
    #[serde(rename = "TemplateID")]
    pub template_id: String,
    pub template_name: String,
    pub template_variables: Option<AclTemplatedPolicyVariables>,
    pub datacenters: Vec<String>,
}

/// The variables of a templated policy. Consul's struct tag makes the key lower-case
/// (`{"name": "web"}`) on the way out; any case is accepted on the way in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct AclTemplatedPolicyVariables {
    #[serde(rename = "name", alias = "Name")]
    pub name: String,
}
