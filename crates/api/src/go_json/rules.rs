//! The tables: for each shape and each struct of this crate (by its serde name), which
//! fields Consul leaves out and which it adds. Taken from the struct tags of Consul's
//! public `api` package (agent endpoints) and of its server structs (catalog, health,
//! KV, sessions, ACL objects); a field not listed is written as it is.

use super::FieldRule::{self, Keep, NoneAs, NullIfEmpty, Omit, OmitEmpty};

/// Which of Consul's two families of structs an answer is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// The agent's own endpoints (`/v1/agent/services`, `/v1/agent/service/:id`,
    /// `/v1/agent/health/service/*`): the `api` package's `AgentService`, whose indexes,
    /// empty `Kind`, nil `Proxy`/`Connect` and empty tagged addresses are left out.
    Agent,
    /// Everything else (`/v1/catalog/*`, `/v1/health/*`, `/v1/agent/checks`, KV,
    /// sessions, ...): the server's structs (`NodeService`, `ServiceNode`, `HealthCheck`,
    /// `DirEntry`).
    Catalog,
}

/// What the [`Shape::Catalog`] `Proxy` of a service without one looks like: Go's zero
/// `ConnectProxyConfig`, with its struct-valued fields.
const EMPTY_PROXY: &str = r#"{"Mode":"","MeshGateway":{},"Expose":{}}"#;

/// The rules of one struct in one shape: the fields with a rule of their own, the rule
/// of every other field, and the fields the shape adds with their constant JSON.
pub(super) struct StructRules {
    pub fields: &'static [(&'static str, FieldRule)],
    pub others: FieldRule,
    pub added: &'static [(&'static str, &'static str)],
}

impl StructRules {
    /// The rule for `field`.
    pub(super) fn rule(&self, field: &str) -> FieldRule {
        self.fields
            .iter()
            .find(|(name, _)| *name == field)
            .map_or(self.others, |(_, rule)| *rule)
    }
}

const fn only(fields: &'static [(&'static str, FieldRule)]) -> StructRules {
    StructRules {
        fields,
        others: Keep,
        added: &[],
    }
}

/// Every field written as it is.
pub(super) const PLAIN: StructRules = only(&[]);

// api.AgentService
const AGENT_SERVICE: StructRules = only(&[
    ("Kind", OmitEmpty),
    ("TaggedAddresses", OmitEmpty),
    ("CreateIndex", OmitEmpty),
    ("ModifyIndex", OmitEmpty),
    ("Proxy", OmitEmpty),
    ("Connect", OmitEmpty),
    ("Locality", OmitEmpty),
    ("Datacenter", OmitEmpty),
]);

// structs.NodeService. PeerName carries no omitempty; Proconsul has no peering.
const NODE_SERVICE: StructRules = StructRules {
    fields: &[
        ("Kind", OmitEmpty),
        ("TaggedAddresses", OmitEmpty),
        ("Port", OmitEmpty),
        ("Locality", OmitEmpty),
        ("Datacenter", Omit),
        ("Proxy", NoneAs(EMPTY_PROXY)),
        ("Connect", NoneAs("{}")),
    ],
    others: Keep,
    added: &[("PeerName", r#""""#)],
};

// structs.ServiceNode. ServiceSocketPath carries no omitempty; Proconsul has no socket
// services.
const SERVICE_NODE: StructRules = StructRules {
    fields: &[
        ("ServiceTaggedAddresses", OmitEmpty),
        ("ServiceProxy", NoneAs(EMPTY_PROXY)),
        ("ServiceConnect", NoneAs("{}")),
    ],
    others: Keep,
    added: &[("ServiceSocketPath", r#""""#)],
};

// structs.ConnectProxyConfig and its upstreams
const PROXY: StructRules = only(&[
    ("DestinationServiceName", OmitEmpty),
    ("DestinationServiceID", OmitEmpty),
    ("LocalServiceAddress", OmitEmpty),
    ("LocalServicePort", OmitEmpty),
    ("Upstreams", OmitEmpty),
]);
const UPSTREAM: StructRules = only(&[
    ("DestinationType", OmitEmpty),
    ("Datacenter", OmitEmpty),
    ("LocalBindAddress", OmitEmpty),
    ("LocalBindPort", OmitEmpty),
]);

// Structs whose every field is omitempty: structs.HealthCheckDefinition (a zero
// duration is written as "" and so left out), structs.ACLTemplatedPolicy and its
// variables.
const ALL_OMIT_EMPTY: StructRules = StructRules {
    fields: &[],
    others: OmitEmpty,
    added: &[],
};

// structs.ACLToken and structs.ACLTokenListStub
const ACL_TOKEN: StructRules = only(&[
    ("Policies", OmitEmpty),
    ("Roles", OmitEmpty),
    ("ServiceIdentities", OmitEmpty),
    ("NodeIdentities", OmitEmpty),
    ("TemplatedPolicies", OmitEmpty),
    ("AuthMethod", OmitEmpty),
    ("ExpirationTime", OmitEmpty),
    ("ExpirationTTL", OmitEmpty),
]);

// structs.ACLRole
const ACL_ROLE: StructRules = only(&[
    ("Policies", OmitEmpty),
    ("ServiceIdentities", OmitEmpty),
    ("NodeIdentities", OmitEmpty),
    ("TemplatedPolicies", OmitEmpty),
]);

// structs.ACLAuthMethod
const ACL_AUTH_METHOD: StructRules = only(&[
    ("DisplayName", OmitEmpty),
    ("Description", OmitEmpty),
    ("MaxTokenTTL", OmitEmpty),
    ("TokenLocality", OmitEmpty),
]);

/// The rules of the struct serde names `name`, in `shape`: looked up once per struct
/// written, so that each field costs a scan of the few fields with a rule.
pub(super) fn struct_rules(shape: Shape, name: &str) -> &'static StructRules {
    match (shape, name) {
        (Shape::Agent, "AgentService") => &AGENT_SERVICE,
        (Shape::Catalog, "AgentService") => &NODE_SERVICE,
        (_, "CatalogService") => &SERVICE_NODE,
        (_, "ServiceProxy") => &PROXY,
        (_, "ProxyUpstream") => &UPSTREAM,
        // structs.ServiceConnect
        (_, "ServiceConnect") => &const { only(&[("Native", OmitEmpty)]) },
        (_, "CheckDefinitionSummary" | "AclTemplatedPolicy" | "AclTemplatedPolicyVariables") => {
            &ALL_OMIT_EMPTY
        }
        // structs.DirEntry
        (_, "KvPair") => &const { only(&[("Session", OmitEmpty)]) },
        (_, "AclToken" | "AclTokenListStub") => &ACL_TOKEN,
        // structs.ACLServiceIdentity
        (_, "AclServiceIdentity") => &const { only(&[("Datacenters", OmitEmpty)]) },
        // structs.ACLPolicy (its list stub always writes Datacenters)
        (_, "AclPolicy") => &const { only(&[("Datacenters", OmitEmpty)]) },
        (_, "AclRole") => &ACL_ROLE,
        (_, "AclAuthMethod") => &ACL_AUTH_METHOD,
        // structs.ACLBindingRule
        (_, "AclBindingRule") => &const { only(&[("BindVars", OmitEmpty)]) },
        // structs.HealthCheck and structs.Session: slices nil unless filled
        (Shape::Catalog, "HealthCheck") => &const { only(&[("ServiceTags", NullIfEmpty)]) },
        (_, "Session") => &const { only(&[("ServiceChecks", NullIfEmpty)]) },
        // structs.Coordinate (the api package's CoordinateEntry)
        (_, "CoordinateEntry") => &const { only(&[("Partition", OmitEmpty)]) },
        _ => &PLAIN,
    }
}

/// Every JSON literal the tables hold, for the test that they parse.
pub(super) const LITERALS: &[&str] = &[EMPTY_PROXY, "{}", r#""""#];
