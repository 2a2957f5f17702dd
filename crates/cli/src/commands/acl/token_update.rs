//! `proconsul acl token update`: reads the token, changes what the flags say and
//! writes it back. As in Consul 1.16+, `-policy-id`/`-policy-name` (and the role,
//! identity and templated-policy flags) replace that kind of link when given, the
//! `-append-*` variants add to it, and the deprecated `-merge-*` switches turn the
//! replacing flags into adding ones; links of a kind no flag names are kept.

use std::process::ExitCode;

use clap::Args;
use proconsul_api::acl::AclToken;

use super::token::{TokenLinkArgs, print};
use super::{ShowArgs, announce, links, resolve};
use crate::commands::{HttpArgs, fail};

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The token to update: AccessorID, a unique prefix of it, or `anonymous`.
    #[arg(long, visible_alias = "accessor", allow_hyphen_values = true)]
    id: Option<String>,
    /// A new description.
    #[arg(long, allow_hyphen_values = true)]
    description: Option<String>,
    /// Links that replace the token's links of the same kind.
    #[command(flatten)]
    set: TokenLinkArgs,
    #[command(flatten)]
    add: AppendArgs,
    /// Deprecated: add the -policy-id/-policy-name policies instead of replacing.
    #[arg(long = "merge-policies")]
    merge_policies: bool,
    /// Deprecated: add the -role-id/-role-name roles instead of replacing.
    #[arg(long = "merge-roles")]
    merge_roles: bool,
    /// Deprecated: add the -service-identity identities instead of replacing.
    #[arg(long = "merge-service-identities")]
    merge_service_identities: bool,
    /// Deprecated: add the -node-identity identities instead of replacing.
    #[arg(long = "merge-node-identities")]
    merge_node_identities: bool,
}

/// The `-append-*` flags: links added to the token's own.
#[derive(Debug, Default, Args)]
pub struct AppendArgs {
    /// A policy to add, by ID or unique prefix (repeatable).
    #[arg(long = "append-policy-id", value_name = "ID")]
    append_policy_ids: Vec<String>,
    /// A policy to add, by name (repeatable).
    #[arg(long = "append-policy-name", value_name = "NAME")]
    append_policy_names: Vec<String>,
    /// A role to add, by ID or unique prefix (repeatable).
    #[arg(long = "append-role-id", value_name = "ID")]
    append_role_ids: Vec<String>,
    /// A role to add, by name (repeatable).
    #[arg(long = "append-role-name", value_name = "NAME")]
    append_role_names: Vec<String>,
    /// A service identity to add, `NAME` or `NAME:DC1,DC2` (repeatable).
    #[arg(long = "append-service-identity", value_name = "SERVICE")]
    append_service_identities: Vec<String>,
    /// A node identity to add, `NODE:DATACENTER` (repeatable).
    #[arg(long = "append-node-identity", value_name = "NODE:DC")]
    append_node_identities: Vec<String>,
    /// A templated policy to add, with the -var values.
    #[arg(long = "append-templated-policy", value_name = "NAME")]
    append_templated_policy: Option<String>,
}

impl UpdateArgs {
    /// The replacing and the adding links. `-var` belongs to `-templated-policy`, or to
    /// `-append-templated-policy` when only that one is given.
    fn link_args(&self) -> (TokenLinkArgs, TokenLinkArgs) {
        let mut set = self.set.clone();
        let add_vars =
            if set.templated_policy.is_none() && self.add.append_templated_policy.is_some() {
                std::mem::take(&mut set.vars)
            } else {
                Vec::new()
            };
        (set, self.add.as_links(add_vars))
    }
}

impl AppendArgs {
    /// The same flags in [`TokenLinkArgs`]' shape, with the `-var` values given.
    fn as_links(&self, vars: Vec<String>) -> TokenLinkArgs {
        TokenLinkArgs {
            policy_ids: self.append_policy_ids.clone(),
            policy_names: self.append_policy_names.clone(),
            role_ids: self.append_role_ids.clone(),
            role_names: self.append_role_names.clone(),
            service_identities: self.append_service_identities.clone(),
            node_identities: self.append_node_identities.clone(),
            templated_policy: self.append_templated_policy.clone(),
            vars,
        }
    }
}

/// Which replacing flags the deprecated `-merge-*` switches turn into adding ones.
#[derive(Debug, Clone, Copy, Default)]
struct Merge {
    policies: bool,
    roles: bool,
    service_identities: bool,
    node_identities: bool,
}

/// Refuses a replacing and an adding flag for the same kind of link.
fn exclusive(kind: &str, set: bool, add: bool) -> Result<(), String> {
    if set && add {
        return Err(format!(
            "Cannot combine the use of {kind} flags with their append- variants: \
             use the plain flags to replace the token's {kind}, the append- ones to add to them"
        ));
    }
    Ok(())
}

/// `current` changed by the replacing links `set` and the added links `add`.
fn apply(
    mut token: AclToken,
    set: AclToken,
    add: AclToken,
    merge: Merge,
    description: Option<String>,
) -> Result<AclToken, String> {
    exclusive("policy", !set.policies.is_empty(), !add.policies.is_empty())?;
    exclusive("role", !set.roles.is_empty(), !add.roles.is_empty())?;
    exclusive(
        "service identity",
        !set.service_identities.is_empty(),
        !add.service_identities.is_empty(),
    )?;
    exclusive(
        "node identity",
        !set.node_identities.is_empty(),
        !add.node_identities.is_empty(),
    )?;
    exclusive(
        "templated policy",
        !set.templated_policies.is_empty(),
        !add.templated_policies.is_empty(),
    )?;
    if let Some(description) = description {
        token.description = description;
    }
    token.policies = if merge.policies || set.policies.is_empty() {
        links::merge_links(token.policies, set.policies)
    } else {
        set.policies
    };
    token.policies = links::merge_links(token.policies, add.policies);
    token.roles = if merge.roles || set.roles.is_empty() {
        links::merge_links(token.roles, set.roles)
    } else {
        set.roles
    };
    token.roles = links::merge_links(token.roles, add.roles);
    token.service_identities = if merge.service_identities || set.service_identities.is_empty() {
        links::merge_service_identities(token.service_identities, set.service_identities)
    } else {
        set.service_identities
    };
    token.service_identities =
        links::merge_service_identities(token.service_identities, add.service_identities);
    token.node_identities = if merge.node_identities || set.node_identities.is_empty() {
        links::merge_node_identities(token.node_identities, set.node_identities)
    } else {
        set.node_identities
    };
    token.node_identities =
        links::merge_node_identities(token.node_identities, add.node_identities);
    if !set.templated_policies.is_empty() {
        token.templated_policies = set.templated_policies;
    }
    for templated in add.templated_policies {
        if !token.templated_policies.contains(&templated) {
            token.templated_policies.push(templated);
        }
    }
    Ok(token)
}

pub async fn run(args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let Some(partial) = args.id.as_deref() else {
        return Ok(fail(
            "Cannot update a token without specifying the -id parameter",
        ));
    };
    let client = args.http.client()?;
    let id = match resolve::token_id(&client, partial).await {
        Ok(id) => id,
        Err(error) => return Ok(fail(format!("Error determining token ID: {error}"))),
    };
    let current = match client.acl_token_read(&id).await {
        Ok(token) => token,
        Err(error) => {
            return Ok(fail(format!(
                "Error when retrieving current token: {error}"
            )));
        }
    };
    let (set, add) = args.link_args();
    let changes = async {
        let set = set.token(&client).await?;
        let add = add.token(&client).await?;
        let merge = Merge {
            policies: args.merge_policies,
            roles: args.merge_roles,
            service_identities: args.merge_service_identities,
            node_identities: args.merge_node_identities,
        };
        apply(current, set, add, merge, args.description.clone())
    };
    let token = match changes.await {
        Ok(token) => token,
        Err(error) => return Ok(fail(error)),
    };
    match client.acl_token_update(&token).await {
        Ok(updated) => {
            announce(&args.show, "Token updated successfully.");
            print(&args.show, &updated);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to update token {id}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::acl::{AclLink, AclNodeIdentity, AclServiceIdentity};

    fn link(name: &str) -> AclLink {
        AclLink {
            id: String::new(),
            name: name.into(),
        }
    }

    fn current() -> AclToken {
        AclToken {
            accessor_id: "a".into(),
            description: "old".into(),
            policies: vec![link("p1")],
            roles: vec![link("r1")],
            service_identities: vec![AclServiceIdentity {
                service_name: "web".into(),
                datacenters: vec![],
            }],
            ..AclToken::default()
        }
    }

    #[test]
    fn kinds_no_flag_names_are_kept() {
        let token = apply(
            current(),
            AclToken::default(),
            AclToken::default(),
            Merge::default(),
            Some("new".into()),
        )
        .unwrap();
        assert_eq!(token.description, "new");
        assert_eq!(token.policies, [link("p1")]);
        assert_eq!(token.roles, [link("r1")]);
        assert_eq!(token.service_identities.len(), 1);
    }

    #[test]
    fn plain_flags_replace_and_append_flags_add() {
        let set = AclToken {
            policies: vec![link("p2")],
            node_identities: vec![AclNodeIdentity {
                node_name: "n".into(),
                datacenter: "dc1".into(),
            }],
            ..AclToken::default()
        };
        let add = AclToken {
            roles: vec![link("r2")],
            ..AclToken::default()
        };
        let token = apply(current(), set, add, Merge::default(), None).unwrap();
        assert_eq!(token.description, "old");
        assert_eq!(token.policies, [link("p2")]);
        assert_eq!(token.roles, [link("r1"), link("r2")]);
        assert_eq!(token.node_identities.len(), 1);
    }

    #[test]
    fn merge_switches_turn_replacing_into_adding() {
        let set = AclToken {
            policies: vec![link("p2")],
            ..AclToken::default()
        };
        let merge = Merge {
            policies: true,
            ..Merge::default()
        };
        let token = apply(current(), set, AclToken::default(), merge, None).unwrap();
        assert_eq!(token.policies, [link("p1"), link("p2")]);
    }

    #[test]
    fn replacing_and_adding_the_same_kind_is_refused() {
        let set = AclToken {
            policies: vec![link("p2")],
            ..AclToken::default()
        };
        let add = AclToken {
            policies: vec![link("p3")],
            ..AclToken::default()
        };
        let error = apply(current(), set, add, Merge::default(), None).unwrap_err();
        assert!(error.contains("policy"), "{error}");
    }
}
