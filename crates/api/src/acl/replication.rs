//! `GET /v1/acl/replication`: this datacenter's ACL replication status. A primary (and
//! Proconsul has only primaries) reports replication as not enabled.

use serde::{Deserialize, Serialize};

use crate::go_time::GoTime;

/// `structs.ACLReplicationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclReplicationStatus {
    pub enabled: bool,
    pub running: bool,
    pub source_datacenter: String,
    pub replication_type: String,
    pub replicated_index: u64,
    pub replicated_role_index: u64,
    pub replicated_token_index: u64,
    pub last_success: GoTime,
    pub last_error: GoTime,
    pub last_error_message: String,
}
