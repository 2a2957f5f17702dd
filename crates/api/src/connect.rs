//! Connect intentions and the CA configuration (`/v1/connect/intentions*`,
//! `/v1/connect/ca/configuration`): the stored records, which travel through the Raft log
//! and snapshots in postcard (every field written), and their JSON answers, which leave
//! out what Consul's structs mark `omitempty`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The name that matches every service, as an intention's source or destination.
pub const WILDCARD: &str = "*";

/// One intention: may `source_name` connect to `destination_name`. Keyed by the pair;
/// Consul keeps these as `service-intentions` config entries, so those made by name
/// have no ID, and only the deprecated create-by-body endpoint gives one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intention {
    pub id: String,
    pub description: String,
    pub source_name: String,
    pub destination_name: String,
    /// `consul` (the only type Consul knows).
    pub source_type: String,
    /// `allow` or `deny`.
    pub action: String,
    pub meta: BTreeMap<String, String>,
    pub create_index: u64,
    pub modify_index: u64,
}

impl Intention {
    /// Consul's precedence without namespaces or partitions: exact names beat the
    /// wildcard, and a named destination beats a named source.
    pub fn precedence(&self) -> u32 {
        match (
            self.source_name == WILDCARD,
            self.destination_name == WILDCARD,
        ) {
            (false, false) => 9,
            (true, false) => 8,
            (false, true) => 6,
            (true, true) => 5,
        }
    }

    /// Whether the intention applies to traffic from `source` to `destination`.
    pub fn matches(&self, source: &str, destination: &str) -> bool {
        (self.source_name == WILDCARD || self.source_name == source)
            && (self.destination_name == WILDCARD || self.destination_name == destination)
    }

    /// The intention as Consul's JSON writes it.
    pub fn answer(&self) -> IntentionAnswer<'_> {
        IntentionAnswer {
            id: &self.id,
            description: &self.description,
            source_ns: "default",
            source_name: &self.source_name,
            destination_ns: "default",
            destination_name: &self.destination_name,
            source_type: &self.source_type,
            action: &self.action,
            meta: &self.meta,
            precedence: self.precedence(),
            create_index: self.create_index,
            modify_index: self.modify_index,
        }
    }
}

/// [`Intention`] as Consul's `structs.Intention` JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IntentionAnswer<'a> {
    #[serde(rename = "ID", skip_serializing_if = "str::is_empty")]
    pub id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'a str,
    #[serde(rename = "SourceNS")]
    pub source_ns: &'a str,
    pub source_name: &'a str,
    #[serde(rename = "DestinationNS")]
    pub destination_ns: &'a str,
    pub destination_name: &'a str,
    pub source_type: &'a str,
    pub action: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: &'a BTreeMap<String, String>,
    pub precedence: u32,
    pub create_index: u64,
    pub modify_index: u64,
}

/// The body of intention writes (by name or by ID); unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IntentionRequest {
    pub description: String,
    pub source_name: String,
    pub destination_name: String,
    pub source_type: String,
    pub action: String,
    pub meta: Option<BTreeMap<String, String>>,
}

/// The Connect CA's configuration: which provider, and its settings as JSON text (a
/// provider's settings are free-form, and postcard cannot carry a JSON value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaConfiguration {
    pub provider: String,
    pub config_json: String,
    pub create_index: u64,
    pub modify_index: u64,
}
