//! The command tree. `agent` runs the agent; every other command is an HTTP client.

mod agent;
mod catalog;
mod kv;
mod members;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use proconsul_api::client::Client;

/// Proconsul: Consul's API, in Rust.
#[derive(Debug, Parser)]
#[command(name = "proconsul", version, about, disable_version_flag = false)]
pub struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Debug, Subcommand)]
enum Commands {
    /// Runs an agent (`-dev` for an in-memory development server).
    Agent(agent::AgentArgs),
    /// Reads and writes the key/value store.
    #[command(subcommand)]
    Kv(kv::KvCommand),
    /// Lists datacenters, nodes and services.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Lists the members of the cluster.
    Members(members::MembersArgs),
    /// Prints the version.
    Version,
}

/// Options shared by every command that talks to an agent over HTTP.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// The agent's HTTP address (default: $CONSUL_HTTP_ADDR or 127.0.0.1:8500).
    #[arg(long = "http-addr")]
    http_addr: Option<String>,
    /// The ACL token (default: $CONSUL_HTTP_TOKEN).
    #[arg(long)]
    token: Option<String>,
}

impl HttpArgs {
    /// A client for the agent these options name.
    pub fn client(&self) -> anyhow::Result<Client> {
        let client = match &self.http_addr {
            Some(addr) => Client::new(addr)?.with_token(std::env::var("CONSUL_HTTP_TOKEN").ok()),
            None => Client::from_env()?,
        };
        Ok(match &self.token {
            Some(token) => client.with_token(Some(token.clone())),
            None => client,
        })
    }
}

/// Runs the parsed command and returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Commands::Agent(args) => agent::run(args).await,
        Commands::Kv(command) => kv::run(command).await,
        Commands::Catalog(command) => catalog::run(command).await,
        Commands::Members(args) => members::run(args).await,
        Commands::Version => {
            println!("Proconsul v{}", env!("CARGO_PKG_VERSION"));
            println!(
                "Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when speaking to compatible agents)"
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints an API error the way `consul` does and returns the failure exit code.
pub fn query_error(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("Error querying Consul agent: {error}");
    ExitCode::FAILURE
}
