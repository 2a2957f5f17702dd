//! The resources rules talk about, split by the two shapes rules take: labelled blocks
//! (`key_prefix "app/" { policy = "read" }`) and scalars (`operator = "read"`).

use std::fmt;

/// Every resource a permission can name, as printed in denials (`'service:write'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// ACL tokens, policies, roles; also snapshots (which contain every secret).
    Acl,
    /// Agent utility endpoints of one node (self, join, leave, reload, token).
    Agent,
    /// User events, by event name.
    Event,
    /// Workload identities, by name.
    Identity,
    /// Intentions, by destination service name.
    Intention,
    /// KV entries, by key.
    Key,
    /// The gossip encryption keyring.
    Keyring,
    /// Mesh configuration (gateways, mesh config entries).
    Mesh,
    /// Catalog nodes, by node name.
    Node,
    /// Cluster operations (Raft, autopilot, members' force-leave).
    Operator,
    /// Cluster peerings.
    Peering,
    /// Prepared queries, by query name.
    Query,
    /// Catalog services, by service name.
    Service,
    /// Sessions, by the name of the node they are tied to.
    Session,
}

impl Resource {
    /// The word Consul prints before the colon in `'service:write'`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Acl => "acl",
            Resource::Agent => "agent",
            Resource::Event => "event",
            Resource::Identity => "identity",
            Resource::Intention => "intention",
            Resource::Key => "key",
            Resource::Keyring => "keyring",
            Resource::Mesh => "mesh",
            Resource::Node => "node",
            Resource::Operator => "operator",
            Resource::Peering => "peering",
            Resource::Query => "query",
            Resource::Service => "service",
            Resource::Session => "session",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource whose rules are blocks labelled with a name or a name prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelledResource {
    /// `agent` / `agent_prefix` (label: node name).
    Agent,
    /// `event` / `event_prefix`.
    Event,
    /// `identity` / `identity_prefix`.
    Identity,
    /// `key` / `key_prefix`.
    Key,
    /// `node` / `node_prefix`.
    Node,
    /// `query` / `query_prefix`.
    Query,
    /// `service` / `service_prefix`.
    Service,
    /// `session` / `session_prefix` (label: node name).
    Session,
}

/// Whether a labelled rule applies to the one name equal to its label or to every name
/// starting with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Matching {
    /// `key "a"`: only the name `a`.
    Exact,
    /// `key_prefix "a"`: every name starting with `a` (`""` matches all).
    Prefix,
}

impl LabelledResource {
    /// All labelled resources, for iteration.
    pub const ALL: [LabelledResource; 8] = [
        LabelledResource::Agent,
        LabelledResource::Event,
        LabelledResource::Identity,
        LabelledResource::Key,
        LabelledResource::Node,
        LabelledResource::Query,
        LabelledResource::Service,
        LabelledResource::Session,
    ];

    /// The resource named in denials for this kind of rule.
    pub fn resource(self) -> Resource {
        match self {
            LabelledResource::Agent => Resource::Agent,
            LabelledResource::Event => Resource::Event,
            LabelledResource::Identity => Resource::Identity,
            LabelledResource::Key => Resource::Key,
            LabelledResource::Node => Resource::Node,
            LabelledResource::Query => Resource::Query,
            LabelledResource::Service => Resource::Service,
            LabelledResource::Session => Resource::Session,
        }
    }

    /// The block keyword in the rule language (`key` or `key_prefix`).
    pub fn keyword(self, matching: Matching) -> &'static str {
        match (self, matching) {
            (LabelledResource::Agent, Matching::Exact) => "agent",
            (LabelledResource::Agent, Matching::Prefix) => "agent_prefix",
            (LabelledResource::Event, Matching::Exact) => "event",
            (LabelledResource::Event, Matching::Prefix) => "event_prefix",
            (LabelledResource::Identity, Matching::Exact) => "identity",
            (LabelledResource::Identity, Matching::Prefix) => "identity_prefix",
            (LabelledResource::Key, Matching::Exact) => "key",
            (LabelledResource::Key, Matching::Prefix) => "key_prefix",
            (LabelledResource::Node, Matching::Exact) => "node",
            (LabelledResource::Node, Matching::Prefix) => "node_prefix",
            (LabelledResource::Query, Matching::Exact) => "query",
            (LabelledResource::Query, Matching::Prefix) => "query_prefix",
            (LabelledResource::Service, Matching::Exact) => "service",
            (LabelledResource::Service, Matching::Prefix) => "service_prefix",
            (LabelledResource::Session, Matching::Exact) => "session",
            (LabelledResource::Session, Matching::Prefix) => "session_prefix",
        }
    }

    /// The resource and matching a block keyword stands for, if it is one.
    pub fn from_keyword(keyword: &str) -> Option<(LabelledResource, Matching)> {
        LabelledResource::ALL.into_iter().find_map(|resource| {
            [Matching::Exact, Matching::Prefix]
                .into_iter()
                .find(|&matching| resource.keyword(matching) == keyword)
                .map(|matching| (resource, matching))
        })
    }

    /// Whether `list` is a valid disposition (keys only).
    pub fn allows_list(self) -> bool {
        self == LabelledResource::Key
    }

    /// Whether blocks may carry an `intentions` disposition besides `policy`.
    pub fn has_intentions(self) -> bool {
        matches!(self, LabelledResource::Service | LabelledResource::Identity)
    }
}

/// A resource whose rule is a single top-level value (`acl = "write"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScalarResource {
    /// `acl`.
    Acl,
    /// `keyring`.
    Keyring,
    /// `mesh` (falls back to `operator` when unset).
    Mesh,
    /// `operator`.
    Operator,
    /// `peering` (falls back to `operator` when unset).
    Peering,
}

impl ScalarResource {
    /// All scalar resources, for iteration.
    pub const ALL: [ScalarResource; 5] = [
        ScalarResource::Acl,
        ScalarResource::Keyring,
        ScalarResource::Mesh,
        ScalarResource::Operator,
        ScalarResource::Peering,
    ];

    /// The resource named in denials for this rule.
    pub fn resource(self) -> Resource {
        match self {
            ScalarResource::Acl => Resource::Acl,
            ScalarResource::Keyring => Resource::Keyring,
            ScalarResource::Mesh => Resource::Mesh,
            ScalarResource::Operator => Resource::Operator,
            ScalarResource::Peering => Resource::Peering,
        }
    }

    /// The keyword in the rule language.
    pub fn keyword(self) -> &'static str {
        self.resource().as_str()
    }

    /// The scalar resource a keyword stands for, if it is one.
    pub fn from_keyword(keyword: &str) -> Option<ScalarResource> {
        ScalarResource::ALL
            .into_iter()
            .find(|resource| resource.keyword() == keyword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_round_trip() {
        for resource in LabelledResource::ALL {
            for matching in [Matching::Exact, Matching::Prefix] {
                let keyword = resource.keyword(matching);
                assert_eq!(
                    LabelledResource::from_keyword(keyword),
                    Some((resource, matching))
                );
            }
        }
        for resource in ScalarResource::ALL {
            assert_eq!(
                ScalarResource::from_keyword(resource.keyword()),
                Some(resource)
            );
        }
        assert_eq!(LabelledResource::from_keyword("namespace"), None);
    }
}
