//! Prepared queries (`/v1/query`): the stored definition, and the answers of execute and
//! explain, in the shapes Consul's server encodes.
//!
//! Lists and maps that Consul keeps as Go slices and maps are `Option`s here, so that a
//! `null` sent by a client comes back `null` and an empty list comes back `[]`, as a Go
//! client that compares what it wrote with what it reads expects.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ServiceEntry;

/// The only template type Consul knows.
pub const TEMPLATE_NAME_PREFIX_MATCH: &str = "name_prefix_match";

/// A prepared query as stored and listed (`structs.PreparedQuery`), and the body of
/// create and update requests (fields left out take their defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PreparedQuery {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub session: String,
    pub token: String,
    pub template: QueryTemplate,
    pub service: ServiceQuery,
    #[serde(rename = "DNS")]
    pub dns: QueryDnsOptions,
    pub create_index: u64,
    pub modify_index: u64,
}

impl PreparedQuery {
    /// Whether this query is a template (its `Template.Type` is set).
    pub fn is_template(&self) -> bool {
        !self.template.kind.is_empty()
    }
}

/// `Template`: how a template query matches names and rewrites itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct QueryTemplate {
    #[serde(rename = "Type")]
    pub kind: String,
    pub regexp: String,
    pub remove_empty_tags: bool,
}

/// `Service`: which instances the query selects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ServiceQuery {
    pub service: String,
    /// Stored and shown; sameness groups are an Enterprise feature, not applied.
    pub sameness_group: String,
    pub failover: QueryFailoverOptions,
    pub only_passing: bool,
    #[serde(rename = "IgnoreCheckIDs")]
    pub ignore_check_ids: Option<Vec<String>>,
    pub near: String,
    pub tags: Option<Vec<String>>,
    pub node_meta: Option<BTreeMap<String, String>>,
    pub service_meta: Option<BTreeMap<String, String>>,
    pub connect: bool,
    /// Stored and shown; no peerings exist.
    pub peer: String,
}

/// `Service.Failover`: the datacenters (or peers) to ask when none of the local
/// instances qualifies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct QueryFailoverOptions {
    pub nearest_n: i64,
    pub datacenters: Option<Vec<String>>,
    pub targets: Option<Vec<QueryFailoverTarget>>,
}

/// One entry of `Service.Failover.Targets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct QueryFailoverTarget {
    pub peer: String,
    pub datacenter: String,
}

/// `DNS`: how the query's results are served over DNS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct QueryDnsOptions {
    #[serde(rename = "TTL")]
    pub ttl: String,
}

/// `GET /v1/query/:id/execute` (`structs.PreparedQueryExecuteResponse`, whose embedded
/// `QueryMeta` puts the freshness fields in the body too).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PreparedQueryExecuteResponse {
    pub service: String,
    pub nodes: Vec<ServiceEntry>,
    #[serde(rename = "DNS")]
    pub dns: QueryDnsOptions,
    pub datacenter: String,
    /// The cluster peer the results came from (always this cluster's: empty).
    pub peer_name: String,
    pub failovers: u64,
    #[serde(flatten)]
    pub meta: BodyQueryMeta,
}

/// `GET /v1/query/:id/explain`: the query as it would run for that name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PreparedQueryExplainResponse {
    pub query: PreparedQuery,
    #[serde(flatten)]
    pub meta: BodyQueryMeta,
}

/// Consul's `structs.QueryMeta` as it appears inside a response body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BodyQueryMeta {
    pub index: u64,
    /// Nanoseconds.
    pub last_contact: u64,
    pub known_leader: bool,
    pub consistency_level: String,
    pub not_modified: bool,
    pub backend: u64,
    #[serde(rename = "ResultsFilteredByACLs")]
    pub results_filtered_by_acls: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_round_trips_with_consul_names() {
        let text = r#"{"ID":"a","Name":"n","Session":"","Token":"","Template":{"Type":"name_prefix_match","Regexp":"^x$","RemoveEmptyTags":true},
            "Service":{"Service":"redis","Failover":{"NearestN":2,"Datacenters":["dc2"],"Targets":null},"OnlyPassing":true,"IgnoreCheckIDs":null,
            "Near":"_agent","Tags":["a","!b"],"NodeMeta":{"k":"v"},"ServiceMeta":null,"Connect":false,"Peer":"","SamenessGroup":""},"DNS":{"TTL":"10s"},"CreateIndex":3,"ModifyIndex":4}"#;
        let query: PreparedQuery = serde_json::from_str(text).unwrap();
        assert_eq!(query.service.failover.nearest_n, 2);
        assert_eq!(query.dns.ttl, "10s");
        assert!(query.is_template());
        let back = serde_json::to_value(&query).unwrap();
        let expected: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(back, expected);
    }
}
