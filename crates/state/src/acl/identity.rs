//! Checking and normalizing what tokens and roles link to, as Consul's token and role
//! writers do: links given by name become links by ID (names are not stored, since a
//! policy may be renamed), duplicates go, identities are validated and merged.

use std::collections::{BTreeMap, BTreeSet};

use proconsul_api::acl::{
    AclLink, AclNodeIdentity, AclServiceIdentity, AclTemplatedPolicy, builtin_templated_policy,
};

use super::tables::{AclTables, fold};

/// Which table a link points into.
#[derive(Clone, Copy)]
pub(super) enum LinkKind {
    Policy,
    Role,
}

/// Links by ID (stored IDs, empty names), in the order given, without duplicates.
/// Every target must exist: `No such ACL policy with name "x"` / `... with ID "x"`.
pub(super) fn normalize_links(
    tables: &AclTables,
    kind: LinkKind,
    links: &[AclLink],
) -> Result<Vec<AclLink>, String> {
    let what = match kind {
        LinkKind::Policy => "policy",
        LinkKind::Role => "role",
    };
    let mut seen = BTreeSet::new();
    let mut normalized = Vec::new();
    for link in links {
        let found = if link.id.is_empty() {
            let id = match kind {
                LinkKind::Policy => tables.policy_by_name(&link.name).map(|p| p.id.clone()),
                LinkKind::Role => tables.role_by_name(&link.name).map(|r| r.id.clone()),
            };
            id.ok_or_else(|| format!("No such ACL {what} with name {:?}", link.name))?
        } else {
            let key = fold(&link.id);
            let id = match kind {
                LinkKind::Policy => tables.policies.get(key.as_str()).map(|p| p.id.clone()),
                LinkKind::Role => tables.roles.get(key.as_str()).map(|r| r.id.clone()),
            };
            id.ok_or_else(|| format!("No such ACL {what} with ID {:?}", link.id))?
        };
        if seen.insert(fold(&found)) {
            normalized.push(AclLink {
                id: found,
                name: String::new(),
            });
        }
    }
    Ok(normalized)
}

/// Consul's rule for identity names: lowercase alphanumerics, `-` and `_`, starting and
/// ending with an alphanumeric, at most 256 characters.
pub(super) fn valid_identity_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= 256
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || *b == b'-' || *b == b'_')
}

/// Validated service identities, one per service (datacenters merged; an identity valid
/// everywhere absorbs the others), sorted by name. `local` tokens may not name
/// datacenters. `owner` is `token` or `role`, for the texts.
pub(super) fn normalize_service_identities(
    identities: &[AclServiceIdentity],
    local: bool,
    owner: &str,
) -> Result<Vec<AclServiceIdentity>, String> {
    let mut merged: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    for identity in identities {
        let name = &identity.service_name;
        if name.is_empty() {
            return Err(format!(
                "Service identity is missing the service name field on this {owner}"
            ));
        }
        if local && !identity.datacenters.is_empty() {
            return Err(format!(
                "Service identity {name:?} cannot specify a list of datacenters on a local token"
            ));
        }
        if !valid_identity_name(name) {
            return Err(format!(
                "Service identity {name:?} has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed"
            ));
        }
        let everywhere = identity.datacenters.is_empty();
        let entry = merged
            .entry(name.clone())
            .or_insert_with(|| Some(BTreeSet::new()));
        match (entry.as_mut(), everywhere) {
            (None, _) => {}
            (Some(_), true) => *entry = None,
            (Some(dcs), false) => dcs.extend(identity.datacenters.iter().cloned()),
        }
    }
    Ok(merged
        .into_iter()
        .map(|(service_name, dcs)| AclServiceIdentity {
            service_name,
            datacenters: dcs.map(|dcs| dcs.into_iter().collect()).unwrap_or_default(),
        })
        .collect())
}

/// Validated node identities without duplicates, sorted by node and datacenter.
pub(super) fn normalize_node_identities(
    identities: &[AclNodeIdentity],
    owner: &str,
) -> Result<Vec<AclNodeIdentity>, String> {
    let mut unique = BTreeSet::new();
    for identity in identities {
        if identity.node_name.is_empty() {
            return Err(format!(
                "Node identity is missing the node name field on this {owner}"
            ));
        }
        if identity.datacenter.is_empty() {
            return Err(format!(
                "Node identity is missing the datacenter field on this {owner}"
            ));
        }
        if !valid_identity_name(&identity.node_name) {
            return Err("Node identity has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed".into());
        }
        unique.insert((identity.node_name.clone(), identity.datacenter.clone()));
    }
    Ok(unique
        .into_iter()
        .map(|(node_name, datacenter)| AclNodeIdentity {
            node_name,
            datacenter,
        })
        .collect())
}

/// Validated templated policies (a built-in template, with `name` where its schema
/// requires one), carrying the template's ID, without duplicates.
pub(super) fn normalize_templated_policies(
    policies: &[AclTemplatedPolicy],
    owner: &str,
) -> Result<Vec<AclTemplatedPolicy>, String> {
    let mut normalized: Vec<AclTemplatedPolicy> = Vec::new();
    for policy in policies {
        let name = &policy.template_name;
        if name.is_empty() {
            return Err(format!(
                "templated policy is missing the template name field on this {owner}"
            ));
        }
        let Some(base) = builtin_templated_policy(name) else {
            return Err(format!(
                "templated policy with name {name:?} does not exist"
            ));
        };
        let variable = policy
            .template_variables
            .as_ref()
            .map(|v| v.name.as_str())
            .unwrap_or_default();
        if base.requires_name && variable.is_empty() {
            return Err(format!(
                "validation error for templated policy {name:?}: name is required"
            ));
        }
        let stored = AclTemplatedPolicy {
            template_id: base.id.to_string(),
            template_name: base.name.to_string(),
            ..policy.clone()
        };
        if !normalized.contains(&stored) {
            normalized.push(stored);
        }
    }
    Ok(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_names() {
        assert!(valid_identity_name("web"));
        assert!(valid_identity_name("web-1_a"));
        assert!(!valid_identity_name("Web"));
        assert!(!valid_identity_name("-web"));
        assert!(!valid_identity_name("web_"));
        assert!(!valid_identity_name(""));
        assert!(!valid_identity_name(&"a".repeat(257)));
    }

    #[test]
    fn service_identities_merge_datacenters() {
        let id = |name: &str, dcs: &[&str]| AclServiceIdentity {
            service_name: name.into(),
            datacenters: dcs.iter().map(|dc| dc.to_string()).collect(),
        };
        let merged = normalize_service_identities(
            &[
                id("web", &["dc2"]),
                id("db", &["dc1"]),
                id("web", &["dc1", "dc2"]),
                id("db", &[]),
            ],
            false,
            "token",
        )
        .unwrap();
        assert_eq!(merged, vec![id("db", &[]), id("web", &["dc1", "dc2"])]);
        assert_eq!(
            normalize_service_identities(&[id("web", &["dc1"])], true, "token").unwrap_err(),
            "Service identity \"web\" cannot specify a list of datacenters on a local token"
        );
    }
}
