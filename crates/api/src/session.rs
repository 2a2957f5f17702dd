//! Sessions (`/v1/session/*`): the leases that KV locks hang on.

use serde::{Deserialize, Serialize};

/// A session as Consul returns it. `LockDelay` is in nanoseconds on the wire, as in
/// Consul; `TTL` keeps the text it was created with (`""` for none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Session {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub node: String,
    pub lock_delay: u64,
    pub behavior: SessionBehavior,
    #[serde(rename = "TTL")]
    pub ttl: String,
    pub node_checks: Vec<String>,
    /// `null` when empty, as Consul writes it (see `go_json`).
    #[serde(deserialize_with = "crate::decode::null_as_default")]
    pub service_checks: Vec<ServiceCheckRef>,
    pub create_index: u64,
    pub modify_index: u64,
}

/// What invalidating a session does to the keys it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionBehavior {
    /// The locks are released; the keys stay.
    #[default]
    Release,
    /// The keys are deleted.
    Delete,
}

/// A service check a session is bound to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceCheckRef {
    #[serde(rename = "ID")]
    pub id: String,
    pub namespace: String,
}
