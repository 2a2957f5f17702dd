//! ACL policies (`structs.ACLPolicy`, their list stubs) and roles (`structs.ACLRole`).

use serde::{Deserialize, Serialize};

use super::identity::{AclLink, AclNodeIdentity, AclServiceIdentity, AclTemplatedPolicy};

/// A policy: named rules (kept verbatim, HCL or JSON text), valid in the listed
/// datacenters (all when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclPolicy {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub rules: String,
    pub datacenters: Vec<String>,
    #[serde(with = "crate::kv::base64_value")]
    pub hash: Option<Vec<u8>>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl AclPolicy {
    /// The entry `GET /v1/acl/policies` lists for this policy.
    pub fn stub(&self) -> AclPolicyListStub {
        AclPolicyListStub {
            id: self.id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            datacenters: (!self.datacenters.is_empty()).then(|| self.datacenters.clone()),
            hash: self.hash.clone(),
            create_index: self.create_index,
            modify_index: self.modify_index,
        }
    }
}

/// One entry of `GET /v1/acl/policies`: no `Rules`, and `Datacenters` always present
/// (`null` when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclPolicyListStub {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub datacenters: Option<Vec<String>>,
    #[serde(with = "crate::kv::base64_value")]
    pub hash: Option<Vec<u8>>,
    pub create_index: u64,
    pub modify_index: u64,
}

/// A role: a named set of policies and identities that tokens link to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclRole {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub policies: Vec<AclLink>,
    pub service_identities: Vec<AclServiceIdentity>,
    pub node_identities: Vec<AclNodeIdentity>,
    pub templated_policies: Vec<AclTemplatedPolicy>,
    #[serde(with = "crate::kv::base64_value")]
    pub hash: Option<Vec<u8>>,
    pub create_index: u64,
    pub modify_index: u64,
}
