//! Service and node identities: a token's shorthand for the permissions a service or an
//! agent needs, turned into synthetic policies whose rule text matches Consul's.

use crate::go_string::quote;
use crate::synthetic_policy::SyntheticPolicy;

/// A token's or role's `ServiceIdentities` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceIdentity {
    /// `ServiceName`.
    pub service_name: String,
    /// `Datacenters`; empty means every datacenter.
    pub datacenters: Vec<String>,
}

/// A token's or role's `NodeIdentities` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeIdentity {
    /// `NodeName`.
    pub node_name: String,
    /// `Datacenter`: the identity applies there only.
    pub datacenter: String,
}

/// The rules Consul synthesizes for a service identity: write on the service and its
/// sidecar proxy, read on every service and node (discovery).
pub fn service_identity_rules(service_name: &str) -> String {
    format!(
        "\nservice \"{service_name}\" {{\n\tpolicy = \"write\"\n}}\nservice \"{service_name}-sidecar-proxy\" {{\n\tpolicy = \"write\"\n}}\nservice_prefix \"\" {{\n\tpolicy = \"read\"\n}}\nnode_prefix \"\" {{\n\tpolicy = \"read\"\n}}"
    )
}

/// The rules Consul synthesizes for a node identity: write on the node (registration,
/// coordinates), read on every service (anti-entropy).
pub fn node_identity_rules(node_name: &str) -> String {
    format!(
        "\nnode \"{node_name}\" {{\n\tpolicy = \"write\"\n}}\nservice_prefix \"\" {{\n\tpolicy = \"read\"\n}}"
    )
}

impl ServiceIdentity {
    /// The synthetic policy, as Consul describes it.
    pub fn synthetic_policy(&self) -> SyntheticPolicy {
        SyntheticPolicy::new(
            service_identity_rules(&self.service_name),
            format!(
                "synthetic policy for service identity {}",
                quote(&self.service_name)
            ),
            self.datacenters.clone(),
        )
    }
}

impl NodeIdentity {
    /// The synthetic policy, valid in the identity's datacenter only.
    pub fn synthetic_policy(&self) -> SyntheticPolicy {
        SyntheticPolicy::new(
            node_identity_rules(&self.node_name),
            format!(
                "synthetic policy for node identity {}",
                quote(&self.node_name)
            ),
            vec![self.datacenter.clone()],
        )
    }
}

/// Whether `name` is a valid service or node identity name (also the `name` of the
/// `builtin/service` and `builtin/node` templates): 1 to 256 lowercase letters, digits,
/// `-` and `_`, starting and ending with a letter or digit.
pub fn is_valid_identity_name(name: &str) -> bool {
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let inner = |c: u8| edge(c) || c == b'-' || c == b'_';
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            bytes.len() <= 256 && edge(first) && edge(last) && bytes.iter().all(|&c| inner(c))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_names() {
        assert!(is_valid_identity_name("web"));
        assert!(is_valid_identity_name("a"));
        assert!(is_valid_identity_name("web_1-x"));
        assert!(!is_valid_identity_name(""));
        assert!(!is_valid_identity_name("-web"));
        assert!(!is_valid_identity_name("web-"));
        assert!(!is_valid_identity_name("Web"));
        assert!(!is_valid_identity_name("we.b"));
        assert!(!is_valid_identity_name(&"a".repeat(257)));
    }

    #[test]
    fn node_identity_applies_in_its_datacenter_only() {
        let identity = NodeIdentity {
            node_name: "n1".into(),
            datacenter: "dc1".into(),
        };
        let policy = identity.synthetic_policy();
        assert_eq!(
            policy.description,
            "synthetic policy for node identity \"n1\""
        );
        assert!(policy.applies_in("dc1"));
        assert!(!policy.applies_in("dc2"));
    }
}
