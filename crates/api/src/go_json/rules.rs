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

/// The rule for `field` of the struct serde names `name`, in `shape`.
pub(super) fn field_rule(shape: Shape, name: &str, field: &str) -> FieldRule {
    match (shape, name, field) {
        // api.AgentService
        (
            Shape::Agent,
            "AgentService",
            "Kind" | "TaggedAddresses" | "CreateIndex" | "ModifyIndex" | "Proxy" | "Connect"
            | "Locality" | "Datacenter",
        ) => OmitEmpty,
        // structs.NodeService
        (Shape::Catalog, "AgentService", "Kind" | "TaggedAddresses" | "Port" | "Locality") => {
            OmitEmpty
        }
        (Shape::Catalog, "AgentService", "Datacenter") => Omit,
        (Shape::Catalog, "AgentService", "Proxy") => NoneAs(EMPTY_PROXY),
        (Shape::Catalog, "AgentService", "Connect") => NoneAs("{}"),
        // structs.ServiceNode
        (_, "CatalogService", "ServiceTaggedAddresses") => OmitEmpty,
        (_, "CatalogService", "ServiceProxy") => NoneAs(EMPTY_PROXY),
        (_, "CatalogService", "ServiceConnect") => NoneAs("{}"),
        // structs.ConnectProxyConfig and its upstreams
        (
            _,
            "ServiceProxy",
            "DestinationServiceName"
            | "DestinationServiceID"
            | "LocalServiceAddress"
            | "LocalServicePort"
            | "Upstreams",
        ) => OmitEmpty,
        (
            _,
            "ProxyUpstream",
            "DestinationType" | "Datacenter" | "LocalBindAddress" | "LocalBindPort",
        ) => OmitEmpty,
        // structs.ServiceConnect
        (_, "ServiceConnect", "Native") => OmitEmpty,
        // structs.HealthCheckDefinition: every field is omitempty, and a zero duration is
        // written as "" and so left out.
        (_, "CheckDefinitionSummary", _) => OmitEmpty,
        // structs.DirEntry
        (_, "KvPair", "Session") => OmitEmpty,
        // structs.ACLToken and structs.ACLTokenListStub
        (
            _,
            "AclToken" | "AclTokenListStub",
            "Policies" | "Roles" | "ServiceIdentities" | "NodeIdentities" | "TemplatedPolicies"
            | "AuthMethod" | "ExpirationTime" | "ExpirationTTL",
        ) => OmitEmpty,
        // structs.ACLServiceIdentity, structs.ACLTemplatedPolicy and its variables
        (_, "AclServiceIdentity", "Datacenters") => OmitEmpty,
        (_, "AclTemplatedPolicy" | "AclTemplatedPolicyVariables", _) => OmitEmpty,
        // structs.ACLPolicy (its list stub always writes Datacenters)
        (_, "AclPolicy", "Datacenters") => OmitEmpty,
        // structs.ACLRole
        (
            _,
            "AclRole",
            "Policies" | "ServiceIdentities" | "NodeIdentities" | "TemplatedPolicies",
        ) => OmitEmpty,
        // structs.ACLAuthMethod and structs.ACLBindingRule
        (_, "AclAuthMethod", "DisplayName" | "Description" | "MaxTokenTTL" | "TokenLocality") => {
            OmitEmpty
        }
        (_, "AclBindingRule", "BindVars") => OmitEmpty,
        // structs.HealthCheck and structs.Session: slices nil unless filled
        (Shape::Catalog, "HealthCheck", "ServiceTags") => NullIfEmpty,
        (_, "Session", "ServiceChecks") => NullIfEmpty,
        _ => Keep,
    }
}

/// Fields a shape writes that our struct does not hold, with their constant JSON.
pub(super) fn added_fields(shape: Shape, name: &str) -> &'static [(&'static str, &'static str)] {
    match (shape, name) {
        // structs.NodeService.PeerName and structs.ServiceNode.ServiceSocketPath carry
        // no omitempty; Proconsul has no peering or socket services.
        (Shape::Catalog, "AgentService") => &[("PeerName", r#""""#)],
        (_, "CatalogService") => &[("ServiceSocketPath", r#""""#)],
        _ => &[],
    }
}

/// Every JSON literal the tables hold, for the test that they parse.
#[cfg(test)]
pub(super) const LITERALS: &[&str] = &[EMPTY_PROXY, "{}", r#""""#];
