//! User events (`/v1/event/*`): named payloads fired at the cluster, optionally aimed at
//! nodes, services and tags.

use serde::{Deserialize, Serialize};

/// An event as Consul returns it. `Payload` is base64 in JSON (`null` when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UserEvent {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    #[serde(with = "crate::kv::base64_value")]
    pub payload: Option<Vec<u8>>,
    /// A regular expression on node names.
    pub node_filter: String,
    /// A regular expression on service names.
    pub service_filter: String,
    /// A regular expression on tags (with a service filter).
    pub tag_filter: String,
    pub version: u32,
    /// The event's logical time: the Raft index it was fired at.
    #[serde(rename = "LTime")]
    pub ltime: u64,
}
