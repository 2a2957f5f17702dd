//! `proconsul acl policy create|read|update|delete|list`. Rules come from `-rules`
//! as Consul reads it (`@file`, `-` for stdin, or the text itself); `update` merges the
//! flags given into the current policy unless `-no-merge`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::acl::AclPolicy;
use proconsul_api::client::Client;

use super::{ShowArgs, announce, json, output, resolve};
use crate::commands::kv::read_value;
use crate::commands::{HttpArgs, fail};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Creates a policy.
    Create(CreateArgs),
    /// Shows a policy, by -id (or a unique prefix) or -name.
    Read(SelectArgs),
    /// Changes a policy's name, description, rules or datacenters.
    Update(UpdateArgs),
    /// Deletes a policy, by -id (or a unique prefix) or -name.
    Delete(DeleteArgs),
    /// Lists every policy.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The new policy's name (required).
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
    /// A description of the policy.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    description: String,
    /// The rules: the text itself, `@file` or `-` (stdin).
    #[arg(long, allow_hyphen_values = true)]
    rules: Option<String>,
    /// A datacenter the policy is valid in (repeatable; all when absent).
    #[arg(long = "valid-datacenter", value_name = "DC")]
    valid_datacenters: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The policy's ID, a unique prefix of it, or a built-in policy's name.
    #[arg(long, allow_hyphen_values = true)]
    id: Option<String>,
    /// The policy's name.
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The policy to update: its ID or a unique prefix.
    #[arg(long, allow_hyphen_values = true)]
    id: Option<String>,
    /// The policy's name: a new name with -id, else the policy to update.
    #[arg(long, allow_hyphen_values = true)]
    name: Option<String>,
    /// A new description.
    #[arg(long, allow_hyphen_values = true)]
    description: Option<String>,
    /// New rules: the text itself, `@file` or `-` (stdin).
    #[arg(long, allow_hyphen_values = true)]
    rules: Option<String>,
    /// A datacenter the policy is valid in (repeatable; replaces the current list).
    #[arg(long = "valid-datacenter", value_name = "DC")]
    valid_datacenters: Vec<String>,
    /// Replace every field with the flags given instead of merging them in.
    #[arg(long = "no-merge")]
    no_merge: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The policy's ID or a unique prefix of it.
    #[arg(long, allow_hyphen_values = true)]
    id: Option<String>,
    /// The policy's name.
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

pub async fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Create(args) => create(args).await,
        PolicyCommand::Read(args) => read(args).await,
        PolicyCommand::Update(args) => update(args).await,
        PolicyCommand::Delete(args) => delete(args).await,
        PolicyCommand::List(args) => list(args).await,
    }
}

/// The rules a `-rules` value stands for; `None` when the flag was not given.
fn load_rules(value: Option<&str>) -> Result<Option<String>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let bytes = read_value(Some(value), &mut std::io::stdin())?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "the rules are not UTF-8 text".to_string())
}

fn print(show: &ShowArgs, policy: &AclPolicy) {
    show.print(
        |meta| output::policy(policy, meta),
        json::PolicyView::from(policy),
    );
}

/// The ID `-id` (full, prefix or built-in name) or else `-name` names.
async fn policy_id(
    client: &Client,
    id: Option<&str>,
    name: Option<&str>,
) -> Option<Result<String, String>> {
    match (id, name) {
        (Some(id), _) => Some(resolve::policy_id(client, id).await),
        (None, Some(name)) => Some(resolve::policy_id_by_name(client, name).await),
        (None, None) => None,
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let Some(name) = args.name.filter(|name| !name.is_empty()) else {
        return Ok(fail("Missing required '-name' flag"));
    };
    let rules = match load_rules(args.rules.as_deref()) {
        Ok(rules) => rules.unwrap_or_default(),
        Err(error) => return Ok(fail(format!("Error loading rules: {error}"))),
    };
    let client = args.http.client()?;
    let policy = AclPolicy {
        name,
        description: args.description,
        rules,
        datacenters: args.valid_datacenters,
        ..AclPolicy::default()
    };
    match client.acl_policy_create(&policy).await {
        Ok(created) => {
            print(&args.show, &created);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to create new policy: {error}"))),
    }
}

async fn read(args: SelectArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let read = match (args.id.as_deref(), args.name.as_deref()) {
        (Some(partial), _) => match resolve::policy_id(&client, partial).await {
            Ok(id) => client.acl_policy_read(&id).await.map_err(|e| (id, e)),
            Err(error) => return Ok(fail(format!("Error determining policy ID: {error}"))),
        },
        (None, Some(name)) => client
            .acl_policy_read_by_name(name)
            .await
            .map_err(|e| (name.to_string(), e)),
        (None, None) => return Ok(fail("Must specify either the -id or -name parameters")),
    };
    match read {
        Ok(policy) => {
            print(&args.show, &policy);
            Ok(ExitCode::SUCCESS)
        }
        Err((which, error)) => Ok(fail(format!("Error reading policy {which:?}: {error}"))),
    }
}

/// The policy `update` writes: the flags given merged into `current`, or (with
/// `-no-merge`, `current` being `None`) the flags alone.
fn updated_policy(
    id: String,
    current: Option<AclPolicy>,
    args: &UpdateArgs,
    rules: Option<String>,
) -> AclPolicy {
    let Some(mut policy) = current else {
        return AclPolicy {
            id,
            name: args.name.clone().unwrap_or_default(),
            description: args.description.clone().unwrap_or_default(),
            rules: rules.unwrap_or_default(),
            datacenters: args.valid_datacenters.clone(),
            ..AclPolicy::default()
        };
    };
    // Without -id, -name named the policy: it is no new name.
    if args.id.is_some()
        && let Some(name) = &args.name
    {
        policy.name = name.clone();
    }
    if let Some(description) = &args.description {
        policy.description = description.clone();
    }
    if let Some(rules) = rules {
        policy.rules = rules;
    }
    if !args.valid_datacenters.is_empty() {
        policy.datacenters = args.valid_datacenters.clone();
    }
    policy
}

async fn update(args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let id = match policy_id(&client, args.id.as_deref(), args.name.as_deref()).await {
        Some(Ok(id)) => id,
        Some(Err(error)) => return Ok(fail(format!("Error determining policy ID: {error}"))),
        None => {
            return Ok(fail(
                "Cannot update a policy without specifying the -id or -name parameter",
            ));
        }
    };
    let rules = match load_rules(args.rules.as_deref()) {
        Ok(rules) => rules,
        Err(error) => return Ok(fail(format!("Error loading rules: {error}"))),
    };
    let current = if args.no_merge {
        None
    } else {
        match client.acl_policy_read(&id).await {
            Ok(policy) => Some(policy),
            Err(error) => {
                return Ok(fail(format!(
                    "Error retrieving current policy {id:?}: {error}"
                )));
            }
        }
    };
    let policy = updated_policy(id, current, &args, rules);
    match client.acl_policy_update(&policy).await {
        Ok(updated) => {
            announce(&args.show, "Policy updated successfully");
            print(&args.show, &updated);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!(
            "Failed to update policy {:?}: {error}",
            policy.id
        ))),
    }
}

async fn delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let id = match policy_id(&client, args.id.as_deref(), args.name.as_deref()).await {
        Some(Ok(id)) => id,
        Some(Err(error)) => return Ok(fail(format!("Error determining policy ID: {error}"))),
        None => return Ok(fail("Must specify either the -id or -name parameters")),
    };
    match client.acl_policy_delete(&id).await {
        Ok(_) => {
            println!("Policy {id:?} deleted successfully");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Error deleting policy {id:?}: {error}"))),
    }
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    match client.acl_policy_list().await {
        Ok(policies) => {
            let views: Vec<json::PolicyListView<'_>> = policies.iter().map(Into::into).collect();
            args.show
                .print(|meta| output::policy_list(&policies, meta), views);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to retrieve the policy list: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update_args(id: Option<&str>, name: Option<&str>) -> UpdateArgs {
        UpdateArgs {
            http: HttpArgs::default(),
            show: ShowArgs::default(),
            id: id.map(str::to_string),
            name: name.map(str::to_string),
            description: None,
            rules: None,
            valid_datacenters: Vec::new(),
            no_merge: false,
        }
    }

    fn current() -> AclPolicy {
        AclPolicy {
            id: "p".into(),
            name: "old".into(),
            description: "kept".into(),
            rules: "acl = \"read\"".into(),
            datacenters: vec!["dc1".into()],
            ..AclPolicy::default()
        }
    }

    #[test]
    fn updates_merge_only_the_flags_given() {
        let mut args = update_args(Some("p"), Some("new"));
        args.valid_datacenters = vec!["dc2".into()];
        let policy = updated_policy("p".into(), Some(current()), &args, None);
        assert_eq!(policy.name, "new");
        assert_eq!(policy.description, "kept");
        assert_eq!(policy.rules, "acl = \"read\"");
        assert_eq!(policy.datacenters, ["dc2"]);

        // -name without -id selects the policy; it does not rename it.
        let args = update_args(None, Some("old"));
        let policy = updated_policy("p".into(), Some(current()), &args, Some("x".into()));
        assert_eq!(policy.name, "old");
        assert_eq!(policy.rules, "x");
    }

    #[test]
    fn no_merge_keeps_only_the_flags_given() {
        let mut args = update_args(Some("p"), Some("n"));
        args.no_merge = true;
        let policy = updated_policy("p".into(), None, &args, None);
        assert_eq!(policy.id, "p");
        assert_eq!(policy.name, "n");
        assert!(policy.description.is_empty() && policy.rules.is_empty());
    }
}
