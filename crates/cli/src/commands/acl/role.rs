//! `proconsul acl role create|read|update|delete|list`. A role bundles policies and
//! identities for tokens to link to; `update` adds the flags given to the current role
//! unless `-no-merge`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::acl::AclRole;
use proconsul_api::client::Client;

use super::{ShowArgs, announce, json, links, output, resolve};
use crate::commands::{HttpArgs, fail};

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Creates a role.
    Create(CreateArgs),
    /// Shows a role, by -id (or a unique prefix) or -name.
    Read(SelectArgs),
    /// Changes a role's name, description, policies or identities.
    Update(UpdateArgs),
    /// Deletes a role, by -id (or a unique prefix) or -name.
    Delete(DeleteArgs),
    /// Lists every role.
    List(ListArgs),
}

/// What a role links to, as create and update take it.
#[derive(Debug, Default, Args)]
pub struct RoleLinkArgs {
    /// A policy to link, by ID or unique prefix (repeatable).
    #[arg(long = "policy-id", value_name = "ID")]
    policy_ids: Vec<String>,
    /// A policy to link, by name (repeatable).
    #[arg(long = "policy-name", value_name = "NAME")]
    policy_names: Vec<String>,
    /// A service identity, `NAME` or `NAME:DC1,DC2` (repeatable).
    #[arg(long = "service-identity", value_name = "SERVICE")]
    service_identities: Vec<String>,
    /// A node identity, `NODE:DATACENTER` (repeatable).
    #[arg(long = "node-identity", value_name = "NODE:DC")]
    node_identities: Vec<String>,
    /// A templated policy (`builtin/service`, ...), with its -var values.
    #[arg(long = "templated-policy", value_name = "NAME")]
    templated_policy: Option<String>,
    /// A variable of the templated policy, `name:value` (repeatable).
    #[arg(long = "var", value_name = "NAME:VALUE")]
    vars: Vec<String>,
}

impl RoleLinkArgs {
    fn is_empty(&self) -> bool {
        self.policy_ids.is_empty()
            && self.policy_names.is_empty()
            && self.service_identities.is_empty()
            && self.node_identities.is_empty()
            && self.templated_policy.is_none()
    }

    /// The links these flags name, as a role holding only them.
    async fn role(&self, client: &Client) -> Result<AclRole, String> {
        Ok(AclRole {
            policies: links::policy_links(client, &self.policy_ids, &self.policy_names).await?,
            service_identities: links::service_identities(&self.service_identities)?,
            node_identities: links::node_identities(&self.node_identities)?,
            templated_policies: links::templated_policy(
                self.templated_policy.as_deref(),
                &self.vars,
            )?
            .into_iter()
            .collect(),
            ..AclRole::default()
        })
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The new role's name (required).
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
    /// A description of the role.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    description: String,
    #[command(flatten)]
    links: RoleLinkArgs,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The role's ID or a unique prefix of it.
    #[arg(long, allow_hyphen_values = true)]
    id: Option<String>,
    /// The role's name.
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The role to update: its ID or a unique prefix.
    #[arg(long, allow_hyphen_values = true)]
    id: Option<String>,
    /// The role's name: a new name with -id, else the role to update.
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
    /// A new description.
    #[arg(long, allow_hyphen_values = true)]
    description: Option<String>,
    #[command(flatten)]
    links: RoleLinkArgs,
    /// Replace every field with the flags given instead of adding them.
    #[arg(long = "no-merge")]
    no_merge: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The role's ID or a unique prefix of it.
    #[arg(long, allow_hyphen_values = true)]
    id: Option<String>,
    /// The role's name.
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
}

pub async fn run(command: RoleCommand) -> anyhow::Result<ExitCode> {
    match command {
        RoleCommand::Create(args) => create(args).await,
        RoleCommand::Read(args) => read(args).await,
        RoleCommand::Update(args) => update(args).await,
        RoleCommand::Delete(args) => delete(args).await,
        RoleCommand::List(args) => list(args).await,
    }
}

fn print(show: &ShowArgs, role: &AclRole) {
    show.print(|meta| output::role(role, meta), json::RoleView::from(role));
}

/// The ID `-id` (full or prefix) or else `-name` names.
async fn role_id(
    client: &Client,
    id: Option<&str>,
    name: Option<&str>,
) -> Option<Result<String, String>> {
    match (id, name) {
        (Some(id), _) => Some(resolve::role_id(client, id).await),
        (None, Some(name)) => Some(resolve::role_id_by_name(client, name).await),
        (None, None) => None,
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let Some(name) = args.name.filter(|name| !name.is_empty()) else {
        return Ok(fail("Missing required '-name' flag"));
    };
    if args.links.is_empty() {
        return Ok(fail(
            "Cannot create a role without specifying -policy-name, -policy-id, \
             -service-identity, -node-identity, or -templated-policy at least once",
        ));
    }
    let client = args.http.client()?;
    let role = match args.links.role(&client).await {
        Ok(linked) => AclRole {
            name,
            description: args.description,
            ..linked
        },
        Err(error) => return Ok(fail(error)),
    };
    match client.acl_role_create(&role).await {
        Ok(created) => {
            print(&args.show, &created);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to create new role: {error}"))),
    }
}

async fn read(args: SelectArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let read = match (args.id.as_deref(), args.name.as_deref()) {
        (Some(partial), _) => match resolve::role_id(&client, partial).await {
            Ok(id) => client.acl_role_read(&id).await.map_err(|e| (id, e)),
            Err(error) => return Ok(fail(format!("Error determining role ID: {error}"))),
        },
        (None, Some(name)) => client
            .acl_role_read_by_name(name)
            .await
            .map_err(|e| (name.to_string(), e)),
        (None, None) => return Ok(fail("Must specify either the -id or -name parameters")),
    };
    match read {
        Ok(role) => {
            print(&args.show, &role);
            Ok(ExitCode::SUCCESS)
        }
        Err((which, error)) => Ok(fail(format!("Error reading role {which:?}: {error}"))),
    }
}

/// The role `update` writes: `flags` (a role holding only the links given) added to
/// `current`, or (with `-no-merge`, `current` being `None`) the flags alone.
fn updated_role(
    id: String,
    current: Option<AclRole>,
    args: &UpdateArgs,
    flags: AclRole,
) -> AclRole {
    let Some(mut role) = current else {
        return AclRole {
            id,
            name: args.name.clone().unwrap_or_default(),
            description: args.description.clone().unwrap_or_default(),
            ..flags
        };
    };
    if args.id.is_some()
        && let Some(name) = &args.name
    {
        role.name = name.clone();
    }
    if let Some(description) = &args.description {
        role.description = description.clone();
    }
    role.policies = links::merge_links(role.policies, flags.policies);
    role.service_identities =
        links::merge_service_identities(role.service_identities, flags.service_identities);
    role.node_identities =
        links::merge_node_identities(role.node_identities, flags.node_identities);
    for templated in flags.templated_policies {
        if !role.templated_policies.contains(&templated) {
            role.templated_policies.push(templated);
        }
    }
    role
}

async fn update(args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let id = match role_id(&client, args.id.as_deref(), args.name.as_deref()).await {
        Some(Ok(id)) => id,
        Some(Err(error)) => return Ok(fail(format!("Error determining role ID: {error}"))),
        None => {
            return Ok(fail(
                "Cannot update a role without specifying the -id or -name parameter",
            ));
        }
    };
    let flags = match args.links.role(&client).await {
        Ok(flags) => flags,
        Err(error) => return Ok(fail(error)),
    };
    let current = if args.no_merge {
        None
    } else {
        match client.acl_role_read(&id).await {
            Ok(role) => Some(role),
            Err(error) => {
                return Ok(fail(format!(
                    "Error retrieving current role {id:?}: {error}"
                )));
            }
        }
    };
    let role = updated_role(id, current, &args, flags);
    match client.acl_role_update(&role).await {
        Ok(updated) => {
            announce(&args.show, "Role updated successfully");
            print(&args.show, &updated);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!(
            "Failed to update role {:?}: {error}",
            role.id
        ))),
    }
}

async fn delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let id = match role_id(&client, args.id.as_deref(), args.name.as_deref()).await {
        Some(Ok(id)) => id,
        Some(Err(error)) => return Ok(fail(format!("Error determining role ID: {error}"))),
        None => return Ok(fail("Must specify either the -id or -name parameters")),
    };
    match client.acl_role_delete(&id).await {
        Ok(_) => {
            println!("Role {id:?} deleted successfully");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Error deleting role {id:?}: {error}"))),
    }
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    match client.acl_role_list().await {
        Ok(roles) => {
            let views: Vec<json::RoleView<'_>> = roles.iter().map(Into::into).collect();
            args.show
                .print(|meta| output::role_list(&roles, meta), views);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to retrieve the role list: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::acl::{AclLink, AclServiceIdentity};

    fn args(no_merge: bool) -> UpdateArgs {
        UpdateArgs {
            http: HttpArgs::default(),
            show: ShowArgs::default(),
            id: Some("r".into()),
            name: None,
            description: Some("new".into()),
            links: RoleLinkArgs::default(),
            no_merge,
        }
    }

    fn link(name: &str) -> AclLink {
        AclLink {
            id: String::new(),
            name: name.into(),
        }
    }

    #[test]
    fn updates_add_links_to_the_current_role() {
        let current = AclRole {
            id: "r".into(),
            name: "crawler".into(),
            policies: vec![link("a")],
            ..AclRole::default()
        };
        let flags = AclRole {
            policies: vec![link("a"), link("b")],
            service_identities: vec![AclServiceIdentity {
                service_name: "web".into(),
                datacenters: vec![],
            }],
            ..AclRole::default()
        };
        let role = updated_role("r".into(), Some(current), &args(false), flags.clone());
        assert_eq!(role.name, "crawler");
        assert_eq!(role.description, "new");
        assert_eq!(role.policies, [link("a"), link("b")]);
        assert_eq!(role.service_identities.len(), 1);

        let role = updated_role("r".into(), None, &args(true), flags);
        assert_eq!(role.id, "r");
        assert!(role.name.is_empty());
        assert_eq!(role.policies.len(), 2);
    }
}
