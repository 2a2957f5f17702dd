//! What tokens and roles link to, from their flags: `-policy-id`/`-policy-name`,
//! `-role-id`/`-role-name`, `-service-identity web[:dc1,dc2]`, `-node-identity
//! node:dc` and `-templated-policy builtin/service -var name:api`, in Consul's formats
//! and with its messages for malformed values.

use proconsul_api::acl::{
    AclLink, AclNodeIdentity, AclServiceIdentity, AclTemplatedPolicy, AclTemplatedPolicyVariables,
};
use proconsul_api::client::Client;

use super::resolve;

/// `-service-identity` values: `NAME` (every datacenter) or `NAME:DC1,DC2`.
pub fn service_identities(values: &[String]) -> Result<Vec<AclServiceIdentity>, String> {
    values
        .iter()
        .map(|value| {
            let malformed = || format!("Malformed -service-identity argument: {value:?}");
            let mut parts = value.split(':');
            let name = parts.next().unwrap_or_default();
            let datacenters = parts.next();
            if name.is_empty() || parts.next().is_some() {
                return Err(malformed());
            }
            Ok(AclServiceIdentity {
                service_name: name.to_string(),
                datacenters: datacenters
                    .map(|list| list.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// `-node-identity` values: `NODENAME:DATACENTER`, both required.
pub fn node_identities(values: &[String]) -> Result<Vec<AclNodeIdentity>, String> {
    values
        .iter()
        .map(|value| match value.split(':').collect::<Vec<_>>()[..] {
            [node, datacenter] if !node.is_empty() && !datacenter.is_empty() => {
                Ok(AclNodeIdentity {
                    node_name: node.to_string(),
                    datacenter: datacenter.to_string(),
                })
            }
            _ => Err(format!("Malformed -node-identity argument: {value:?}")),
        })
        .collect()
}

/// `-templated-policy NAME` with its `-var VariableName:Value` flags (only `name`
/// exists). `None` when no template was named.
pub fn templated_policy(
    name: Option<&str>,
    vars: &[String],
) -> Result<Option<AclTemplatedPolicy>, String> {
    let Some(name) = name.filter(|name| !name.is_empty()) else {
        return match vars.first() {
            Some(_) => Err("Cannot use -var without -templated-policy".to_string()),
            None => Ok(None),
        };
    };
    let mut variables = None;
    for var in vars {
        let malformed =
            || format!("Malformed -var argument: {var:?}, expecting VariableName:Value");
        let (key, value) = var.split_once(':').ok_or_else(malformed)?;
        if key.is_empty() || value.is_empty() {
            return Err(malformed());
        }
        if !key.eq_ignore_ascii_case("name") {
            return Err(format!(
                "Unknown templated policy variable {key:?}: only \"name\" is defined"
            ));
        }
        variables = Some(AclTemplatedPolicyVariables {
            name: value.to_string(),
        });
    }
    Ok(Some(AclTemplatedPolicy {
        template_name: name.to_string(),
        template_variables: variables,
        ..AclTemplatedPolicy::default()
    }))
}

/// Links for `-policy-id` (full IDs, unique prefixes or built-in names) and
/// `-policy-name` values; names are left for the server to resolve.
pub async fn policy_links(
    client: &Client,
    ids: &[String],
    names: &[String],
) -> Result<Vec<AclLink>, String> {
    links("policy", ids, names, |partial| async move {
        resolve::policy_id(client, &partial).await
    })
    .await
}

/// Links for `-role-id` and `-role-name` values.
pub async fn role_links(
    client: &Client,
    ids: &[String],
    names: &[String],
) -> Result<Vec<AclLink>, String> {
    links("role", ids, names, |partial| async move {
        resolve::role_id(client, &partial).await
    })
    .await
}

/// Links to `kind` objects: each ID as `resolve` completes it, then each name as given.
async fn links<Resolved>(
    kind: &str,
    ids: &[String],
    names: &[String],
    resolve: impl Fn(String) -> Resolved,
) -> Result<Vec<AclLink>, String>
where
    Resolved: Future<Output = Result<String, String>>,
{
    let mut links = Vec::with_capacity(ids.len() + names.len());
    for partial in ids {
        let id = resolve(partial.clone())
            .await
            .map_err(|error| format!("Error resolving {kind} ID {partial}: {error}"))?;
        links.push(AclLink {
            id,
            name: String::new(),
        });
    }
    links.extend(names.iter().map(|name| AclLink {
        id: String::new(),
        name: name.clone(),
    }));
    Ok(links)
}

/// `existing` with `added` appended, leaving out links already present (by ID, or by
/// name for links given by name).
pub fn merge_links(mut existing: Vec<AclLink>, added: Vec<AclLink>) -> Vec<AclLink> {
    for link in added {
        let present = existing.iter().any(|old| {
            (!link.id.is_empty() && old.id == link.id)
                || (!link.name.is_empty() && old.name == link.name)
        });
        if !present {
            existing.push(link);
        }
    }
    existing
}

/// `existing` with `added` appended; an added identity replaces one of the same service.
pub fn merge_service_identities(
    mut existing: Vec<AclServiceIdentity>,
    added: Vec<AclServiceIdentity>,
) -> Vec<AclServiceIdentity> {
    for identity in added {
        match existing
            .iter_mut()
            .find(|old| old.service_name == identity.service_name)
        {
            Some(old) => *old = identity,
            None => existing.push(identity),
        }
    }
    existing
}

/// `existing` with the `added` identities it does not already hold.
pub fn merge_node_identities(
    mut existing: Vec<AclNodeIdentity>,
    added: Vec<AclNodeIdentity>,
) -> Vec<AclNodeIdentity> {
    for identity in added {
        if !existing.contains(&identity) {
            existing.push(identity);
        }
    }
    existing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|value| value.to_string()).collect()
    }

    #[test]
    fn service_identities_with_and_without_datacenters() {
        let parsed = service_identities(&strings(&["web", "db:dc1,dc2"])).unwrap();
        assert_eq!(parsed[0].service_name, "web");
        assert!(parsed[0].datacenters.is_empty());
        assert_eq!(parsed[1].datacenters, ["dc1", "dc2"]);
        for bad in ["", "a:b:c", ":dc1"] {
            assert_eq!(
                service_identities(&strings(&[bad])).unwrap_err(),
                format!("Malformed -service-identity argument: {bad:?}")
            );
        }
    }

    #[test]
    fn node_identities_need_a_datacenter() {
        let parsed = node_identities(&strings(&["n1:dc1"])).unwrap();
        assert_eq!(parsed[0].node_name, "n1");
        assert_eq!(parsed[0].datacenter, "dc1");
        for bad in ["n1", "n1:", ":dc1", "a:b:c"] {
            assert_eq!(
                node_identities(&strings(&[bad])).unwrap_err(),
                format!("Malformed -node-identity argument: {bad:?}")
            );
        }
    }

    #[test]
    fn templated_policies_take_their_name_variable() {
        let policy = templated_policy(Some("builtin/service"), &strings(&["name:api"]))
            .unwrap()
            .unwrap();
        assert_eq!(policy.template_name, "builtin/service");
        assert_eq!(policy.template_variables.unwrap().name, "api");
        let dns = templated_policy(Some("builtin/dns"), &[]).unwrap().unwrap();
        assert!(dns.template_variables.is_none());
        assert_eq!(templated_policy(None, &[]).unwrap(), None);
        assert!(templated_policy(None, &strings(&["name:x"])).is_err());
        assert_eq!(
            templated_policy(Some("builtin/node"), &strings(&["name"])).unwrap_err(),
            "Malformed -var argument: \"name\", expecting VariableName:Value"
        );
        assert!(templated_policy(Some("builtin/node"), &strings(&["color:red"])).is_err());
    }

    #[test]
    fn merging_keeps_what_exists_and_adds_what_is_new() {
        let link = |id: &str, name: &str| AclLink {
            id: id.into(),
            name: name.into(),
        };
        let merged = merge_links(
            vec![link("1", "a")],
            vec![link("1", ""), link("", "a"), link("", "b"), link("2", "")],
        );
        assert_eq!(merged, [link("1", "a"), link("", "b"), link("2", "")]);

        let web = |dcs: &[&str]| AclServiceIdentity {
            service_name: "web".into(),
            datacenters: strings(dcs),
        };
        assert_eq!(
            merge_service_identities(vec![web(&[])], vec![web(&["dc2"])]),
            [web(&["dc2"])]
        );
        let node = AclNodeIdentity {
            node_name: "n".into(),
            datacenter: "dc1".into(),
        };
        assert_eq!(
            merge_node_identities(vec![node.clone()], vec![node.clone()]),
            [node]
        );
    }
}
