//! `proconsul acl ...`: Consul's ACL commands (bootstrap, policies, tokens, roles and
//! the agent's own tokens) as HTTP clients of `/v1/acl/*`, with Consul's flags, its
//! text blocks and `-format=json`.
//!
//! Each subcommand family has its own file; what they share is here: the output
//! options, and the one way a command reports a failed request.

mod agent_token;
mod bootstrap;
mod json;
mod links;
mod output;
mod policy;
mod resolve;
mod role;
mod token;
mod token_update;

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

/// `proconsul acl <command>`.
#[derive(Debug, Subcommand)]
pub enum AclCommand {
    /// Creates the first management token (once per cluster).
    Bootstrap(bootstrap::BootstrapArgs),
    /// Creates, reads, updates, deletes and lists policies.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Creates, reads, updates, clones, deletes and lists tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Creates, reads, updates, deletes and lists roles.
    #[command(subcommand)]
    Role(role::RoleCommand),
    /// Sets one of the tokens the agent itself uses.
    #[command(name = "set-agent-token")]
    SetAgentToken(agent_token::SetAgentTokenArgs),
}

/// Runs an `acl` command.
pub async fn run(command: AclCommand) -> anyhow::Result<ExitCode> {
    match command {
        AclCommand::Bootstrap(args) => bootstrap::run(args).await,
        AclCommand::Policy(command) => policy::run(command).await,
        AclCommand::Token(command) => token::run(command).await,
        AclCommand::Role(command) => role::run(command).await,
        AclCommand::SetAgentToken(args) => agent_token::run(args).await,
    }
}

/// `-format`: Consul's text blocks, or its Go client's structs as indented JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Pretty,
    Json,
}

/// How a command shows the objects it read or wrote.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ShowArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    format: Format,
    /// Also show the content hash and the Raft indexes.
    #[arg(long)]
    meta: bool,
}

impl ShowArgs {
    /// The text to print: `pretty` for the text block, or `view` (the Go client's
    /// shape of the same object) as JSON.
    fn render<V: Serialize>(&self, pretty: impl FnOnce(bool) -> String, view: V) -> String {
        match self.format {
            Format::Pretty => pretty(self.meta),
            Format::Json => json::indented(&view),
        }
    }

    /// Prints `render`'s text. JSON gets the newline Consul's `UI.Output` adds; the
    /// text blocks end with one already.
    fn print<V: Serialize>(&self, pretty: impl FnOnce(bool) -> String, view: V) {
        let text = self.render(pretty, view);
        if text.ends_with('\n') {
            print!("{text}");
        } else {
            println!("{text}");
        }
    }
}

/// Prints a success line before the object (`Token updated successfully.`), as Consul
/// does in the text format only.
fn announce(show: &ShowArgs, message: &str) {
    if show.format == Format::Pretty {
        println!("{message}");
    }
}
