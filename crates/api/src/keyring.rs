//! The gossip keyring as `/v1/operator/keyring` shows it: one answer per gossip pool,
//! the shape of Consul's `KeyringResponse`, and the body that installs, uses or removes
//! a key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One pool's keys: how many members hold each key, and how many use it as primary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct KeyringResponse {
    #[serde(rename = "WAN")]
    pub wan: bool,
    pub datacenter: String,
    pub segment: String,
    /// Per member that failed to answer, its error.
    pub messages: BTreeMap<String, String>,
    pub keys: BTreeMap<String, usize>,
    pub primary_keys: BTreeMap<String, usize>,
    pub num_nodes: usize,
}

/// The body of `POST`, `PUT` and `DELETE /v1/operator/keyring`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct KeyringRequest {
    pub key: String,
}
