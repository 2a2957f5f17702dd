//! ACL tokens (`structs.ACLToken`) and their list entries (`structs.ACLTokenListStub`).

use serde::{Deserialize, Serialize};

use super::identity::{AclLink, AclNodeIdentity, AclServiceIdentity, AclTemplatedPolicy};
use crate::go_time::GoTime;

/// A token as stored and returned, and the body of token create and update requests.
///
/// `ExpirationTTL` is input only (a Go duration, `"10m"`): the server turns it into
/// `ExpirationTime` and stores it empty. `Hash` is an opaque digest of the token's
/// privileges; base64 in JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclToken {
    #[serde(rename = "AccessorID")]
    pub accessor_id: String,
    #[serde(rename = "SecretID")]
    pub secret_id: String,
    pub description: String,
    pub policies: Vec<AclLink>,
    pub roles: Vec<AclLink>,
    pub service_identities: Vec<AclServiceIdentity>,
    pub node_identities: Vec<AclNodeIdentity>,
    pub templated_policies: Vec<AclTemplatedPolicy>,
    pub local: bool,
    /// The auth method that made it (login only).
    pub auth_method: String,
    pub expiration_time: Option<GoTime>,
    #[serde(rename = "ExpirationTTL")]
    pub expiration_ttl: String,
    pub create_time: GoTime,
    #[serde(with = "crate::kv::base64_value")]
    pub hash: Option<Vec<u8>>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl AclToken {
    /// Whether the token has expired at `now`: its `ExpirationTime` is before `now`.
    pub fn is_expired(&self, now: GoTime) -> bool {
        self.expiration_time.is_some_and(|at| at < now)
    }

    /// The entry `GET /v1/acl/tokens` lists for this token.
    pub fn stub(&self) -> AclTokenListStub {
        AclTokenListStub {
            accessor_id: self.accessor_id.clone(),
            secret_id: self.secret_id.clone(),
            description: self.description.clone(),
            policies: self.policies.clone(),
            roles: self.roles.clone(),
            service_identities: self.service_identities.clone(),
            node_identities: self.node_identities.clone(),
            templated_policies: self.templated_policies.clone(),
            local: self.local,
            auth_method: self.auth_method.clone(),
            expiration_time: self.expiration_time,
            create_time: self.create_time,
            hash: self.hash.clone(),
            create_index: self.create_index,
            modify_index: self.modify_index,
        }
    }
}

/// One entry of `GET /v1/acl/tokens`: the token without `ExpirationTTL`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclTokenListStub {
    #[serde(rename = "AccessorID")]
    pub accessor_id: String,
    #[serde(rename = "SecretID")]
    pub secret_id: String,
    pub description: String,
    pub policies: Vec<AclLink>,
    pub roles: Vec<AclLink>,
    pub service_identities: Vec<AclServiceIdentity>,
    pub node_identities: Vec<AclNodeIdentity>,
    pub templated_policies: Vec<AclTemplatedPolicy>,
    pub local: bool,
    pub auth_method: String,
    pub expiration_time: Option<GoTime>,
    pub create_time: GoTime,
    #[serde(with = "crate::kv::base64_value")]
    pub hash: Option<Vec<u8>>,
    pub create_index: u64,
    pub modify_index: u64,
}
