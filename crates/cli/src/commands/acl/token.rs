//! `proconsul acl token create|read|update|clone|delete|list`. Tokens are named by
//! AccessorID, a unique prefix of one or `anonymous`; `read -self` reads the token the
//! command itself sends. `update` lives in [`super::token_update`].

use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::acl::AclToken;
use proconsul_api::client::{Client, QueryOptions};
use proconsul_api::duration::format_duration;

use super::{ShowArgs, announce, json, links, output, resolve, token_update};
use crate::commands::{HttpArgs, fail, go_duration};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates a token.
    Create(CreateArgs),
    /// Shows a token, by -id (AccessorID or a unique prefix) or -self.
    Read(ReadArgs),
    /// Changes a token's description, policies, roles or identities.
    Update(token_update::UpdateArgs),
    /// Creates a new token with the same policies, roles and identities.
    Clone(CloneArgs),
    /// Deletes a token.
    Delete(DeleteArgs),
    /// Lists every token.
    List(ListArgs),
}

/// What a token links to, as create and update take it.
#[derive(Debug, Clone, Default, Args)]
pub struct TokenLinkArgs {
    /// A policy to link, by ID, unique prefix or built-in name (repeatable).
    #[arg(long = "policy-id", value_name = "ID")]
    pub policy_ids: Vec<String>,
    /// A policy to link, by name (repeatable).
    #[arg(long = "policy-name", value_name = "NAME")]
    pub policy_names: Vec<String>,
    /// A role to link, by ID or unique prefix (repeatable).
    #[arg(long = "role-id", value_name = "ID")]
    pub role_ids: Vec<String>,
    /// A role to link, by name (repeatable).
    #[arg(long = "role-name", value_name = "NAME")]
    pub role_names: Vec<String>,
    /// A service identity, `NAME` or `NAME:DC1,DC2` (repeatable).
    #[arg(long = "service-identity", value_name = "SERVICE")]
    pub service_identities: Vec<String>,
    /// A node identity, `NODE:DATACENTER` (repeatable).
    #[arg(long = "node-identity", value_name = "NODE:DC")]
    pub node_identities: Vec<String>,
    /// A templated policy (`builtin/service`, ...), with its -var values.
    #[arg(long = "templated-policy", value_name = "NAME")]
    pub templated_policy: Option<String>,
    /// A variable of the templated policy, `name:value` (repeatable).
    #[arg(long = "var", value_name = "NAME:VALUE")]
    pub vars: Vec<String>,
}

impl TokenLinkArgs {
    /// A token holding only the links these flags name.
    pub async fn token(&self, client: &Client) -> Result<AclToken, String> {
        Ok(AclToken {
            policies: links::policy_links(client, &self.policy_ids, &self.policy_names).await?,
            roles: links::role_links(client, &self.role_ids, &self.role_names).await?,
            service_identities: links::service_identities(&self.service_identities)?,
            node_identities: links::node_identities(&self.node_identities)?,
            templated_policies: links::templated_policy(
                self.templated_policy.as_deref(),
                &self.vars,
            )?
            .into_iter()
            .collect(),
            ..AclToken::default()
        })
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The AccessorID to give the token (a UUID; generated when absent).
    #[arg(long, value_name = "UUID")]
    accessor: Option<String>,
    /// The SecretID to give the token (a UUID; generated when absent).
    #[arg(long, value_name = "UUID")]
    secret: Option<String>,
    /// A description of the token.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    description: String,
    #[command(flatten)]
    links: TokenLinkArgs,
    /// How long the token is valid for (`15m`, `1h`).
    #[arg(long = "expires-ttl", value_name = "DURATION", value_parser = go_duration)]
    expires_ttl: Option<std::time::Duration>,
    /// Keep the token in this datacenter (not replicated).
    #[arg(long)]
    local: bool,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The token's AccessorID, a unique prefix of it, or `anonymous`.
    #[arg(long, visible_alias = "accessor", allow_hyphen_values = true)]
    id: Option<String>,
    /// Read the token this command sends (-token, CONSUL_HTTP_TOKEN, ...).
    #[arg(long = "self")]
    self_: bool,
    /// Also show the contents of the token's policies and roles.
    #[arg(long)]
    expanded: bool,
}

#[derive(Debug, Args)]
pub struct CloneArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
    /// The token to clone: AccessorID, a unique prefix of it, or `anonymous`.
    #[arg(long, visible_alias = "accessor", allow_hyphen_values = true)]
    id: Option<String>,
    /// The new token's description.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    description: String,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The token to delete: AccessorID or a unique prefix of it.
    #[arg(long, visible_alias = "accessor", allow_hyphen_values = true)]
    id: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    show: ShowArgs,
}

pub async fn run(command: TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Create(args) => create(args).await,
        TokenCommand::Read(args) => read(args).await,
        TokenCommand::Update(args) => token_update::run(args).await,
        TokenCommand::Clone(args) => clone(args).await,
        TokenCommand::Delete(args) => delete(args).await,
        TokenCommand::List(args) => list(args).await,
    }
}

/// Prints one token as its block or the Go client's JSON.
pub fn print(show: &ShowArgs, token: &AclToken) {
    show.print(
        |meta| output::token(token, meta),
        json::TokenView::from(token),
    );
}

/// The token `create` sends.
fn new_token(args: &CreateArgs, linked: AclToken) -> AclToken {
    AclToken {
        accessor_id: args.accessor.clone().unwrap_or_default(),
        secret_id: args.secret.clone().unwrap_or_default(),
        description: args.description.clone(),
        local: args.local,
        expiration_ttl: args.expires_ttl.map(format_duration).unwrap_or_default(),
        ..linked
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let linked = match args.links.token(&client).await {
        Ok(linked) => linked,
        Err(error) => return Ok(fail(error)),
    };
    let token = new_token(&args, linked);
    match client.acl_token_create(&token).await {
        Ok(created) => {
            print(&args.show, &created);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to create new token: {error}"))),
    }
}

async fn read(args: ReadArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let id = if args.self_ {
        match client.acl_token_read_self().await {
            Ok(token) if !args.expanded => {
                print(&args.show, &token);
                return Ok(ExitCode::SUCCESS);
            }
            Ok(token) => token.accessor_id,
            Err(error) => return Ok(fail(format!("Error reading token: {error}"))),
        }
    } else {
        let Some(partial) = args.id.as_deref() else {
            return Ok(fail("Must specify the -id parameter"));
        };
        match resolve::token_id(&client, partial).await {
            Ok(id) => id,
            Err(error) => return Ok(fail(format!("Error determining token ID: {error}"))),
        }
    };
    if args.expanded {
        match client.acl_token_read_expanded(&id).await {
            Ok(expanded) => {
                args.show.print(
                    |meta| output::token_expanded(&expanded, meta),
                    json::TokenExpandedView::from(&expanded),
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => Ok(fail(format!("Error reading token {id:?}: {error}"))),
        }
    } else {
        match client.acl_token_read(&id).await {
            Ok(token) => {
                print(&args.show, &token);
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => Ok(fail(format!("Error reading token {id:?}: {error}"))),
        }
    }
}

async fn clone(args: CloneArgs) -> anyhow::Result<ExitCode> {
    let Some(partial) = args.id.as_deref() else {
        return Ok(fail(
            "Cannot clone a token without specifying the -id parameter",
        ));
    };
    let client = args.http.client()?;
    let id = match resolve::token_id(&client, partial).await {
        Ok(id) => id,
        Err(error) => return Ok(fail(format!("Error determining token ID: {error}"))),
    };
    match client.acl_token_clone(&id, &args.description).await {
        Ok(token) => {
            announce(&args.show, "Token cloned successfully.");
            print(&args.show, &token);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to clone token: {error}"))),
    }
}

async fn delete(args: DeleteArgs) -> anyhow::Result<ExitCode> {
    let Some(partial) = args.id.as_deref() else {
        return Ok(fail("Must specify the -id parameter"));
    };
    let client = args.http.client()?;
    let id = match resolve::token_id(&client, partial).await {
        Ok(id) => id,
        Err(error) => return Ok(fail(format!("Error determining token ID: {error}"))),
    };
    match client.acl_token_delete(&id).await {
        Ok(_) => {
            println!("Token {id:?} deleted successfully");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Error deleting token {id:?}: {error}"))),
    }
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    match client.acl_token_list(&QueryOptions::default()).await {
        Ok(tokens) => {
            let views: Vec<json::TokenView<'_>> = tokens.iter().map(Into::into).collect();
            args.show
                .print(|meta| output::token_list(&tokens, meta), views);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Failed to retrieve the token list: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::acl::AclLink;

    #[test]
    fn create_sends_the_flags_and_a_go_duration() {
        let args = CreateArgs {
            http: HttpArgs::default(),
            show: ShowArgs::default(),
            accessor: Some("a".into()),
            secret: None,
            description: "crawler".into(),
            links: TokenLinkArgs::default(),
            expires_ttl: Some(std::time::Duration::from_secs(900)),
            local: true,
        };
        let linked = AclToken {
            policies: vec![AclLink {
                id: String::new(),
                name: "p".into(),
            }],
            ..AclToken::default()
        };
        let token = new_token(&args, linked);
        assert_eq!(token.accessor_id, "a");
        assert!(token.secret_id.is_empty());
        assert_eq!(token.description, "crawler");
        assert!(token.local);
        assert_eq!(token.expiration_ttl, "15m0s");
        assert_eq!(token.policies[0].name, "p");
    }
}
