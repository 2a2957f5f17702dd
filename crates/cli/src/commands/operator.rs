//! `proconsul operator raft list-peers|remove-peer|transfer-leader`, and `operator
//! autopilot` ([`super::operator_autopilot`]).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::client::QueryOptions;
use serde_json::Value;

use crate::commands::{HttpArgs, fail};
use crate::output::{COLUMNIZE_GAP, columns, row};

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// The Raft subsystem.
    #[command(subcommand)]
    Raft(RaftCommand),
    /// Autopilot: configuration and the servers' health.
    #[command(subcommand)]
    Autopilot(super::operator_autopilot::AutopilotCommand),
}

#[derive(Debug, Subcommand)]
pub enum RaftCommand {
    /// Lists the servers of the Raft configuration.
    ListPeers(HttpOnly),
    /// Removes a server from the Raft configuration.
    RemovePeer(RemovePeerArgs),
    /// Asks the leader to hand leadership to another voter.
    TransferLeader(TransferLeaderArgs),
}

#[derive(Debug, Args)]
pub struct HttpOnly {
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Debug, Args)]
pub struct RemovePeerArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The server's ID.
    #[arg(long)]
    id: Option<String>,
    /// The server's address (IP:port).
    #[arg(long)]
    address: Option<String>,
}

#[derive(Debug, Args)]
pub struct TransferLeaderArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// The ID of the server to hand leadership to [default: the most up-to-date voter].
    #[arg(long)]
    id: Option<String>,
}

pub async fn run(command: OperatorCommand) -> anyhow::Result<ExitCode> {
    let command = match command {
        OperatorCommand::Raft(command) => command,
        OperatorCommand::Autopilot(command) => {
            return super::operator_autopilot::run(command).await;
        }
    };
    match command {
        RaftCommand::ListPeers(args) => list_peers(args).await,
        RaftCommand::RemovePeer(args) => remove_peer(args).await,
        RaftCommand::TransferLeader(args) => {
            let client = args.http.client()?;
            let params: Vec<(&str, String)> = args.id.iter().map(|id| ("id", id.clone())).collect();
            match client
                .post_raw::<Value>("/v1/operator/raft/transfer-leader", &params, Vec::new())
                .await
            {
                Ok(_) => {
                    println!("Success! Leadership transfer complete");
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => Ok(fail(format!("Error transferring leadership: {error}"))),
            }
        }
    }
}

async fn list_peers(args: HttpOnly) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let (configuration, _) = match client
        .get_json::<Value>("/v1/operator/raft/configuration", &QueryOptions::default())
        .await
    {
        Ok(configuration) => configuration,
        Err(error) => return Ok(fail(format!("Error getting peers: {error}"))),
    };
    print!("{}", peers_table(&configuration));
    Ok(ExitCode::SUCCESS)
}

/// `/v1/operator/raft/configuration` as `list-peers` prints it (also `debug`'s
/// listpeers.json).
pub fn peers_table(configuration: &Value) -> String {
    let servers = configuration["Servers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let leader_index = servers
        .iter()
        .find(|server| server["Leader"] == true)
        .and_then(|server| server["LastIndex"].as_u64())
        .unwrap_or(0);
    let mut rows = vec![row([
        "Node",
        "ID",
        "Address",
        "State",
        "Voter",
        "RaftProtocol",
        "Commit Index",
        "Trails Leader By",
    ])];
    for server in &servers {
        let text = |field: &str| server[field].as_str().unwrap_or_default().to_string();
        let last_index = server["LastIndex"].as_u64().unwrap_or(0);
        let state = if server["Leader"] == true {
            "leader"
        } else {
            "follower"
        };
        rows.push(vec![
            text("Node"),
            text("ID"),
            text("Address"),
            state.to_string(),
            server["Voter"].as_bool().unwrap_or(false).to_string(),
            text("ProtocolVersion"),
            last_index.to_string(),
            format!("{} commits", leader_index.saturating_sub(last_index)),
        ]);
    }
    columns(&rows, COLUMNIZE_GAP)
}

async fn remove_peer(args: RemovePeerArgs) -> anyhow::Result<ExitCode> {
    let params = match (&args.id, &args.address) {
        (Some(id), None) => vec![("id", id.clone())],
        (None, Some(address)) => vec![("address", address.clone())],
        _ => return Ok(fail("Must specify exactly one of -id or -address")),
    };
    let client = args.http.client()?;
    match client
        .delete_json::<Value>("/v1/operator/raft/peer", &params)
        .await
    {
        Ok(_) => {
            println!("Removed peer with {}={}", params[0].0, params[0].1);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(fail(format!("Error removing peer: {error}"))),
    }
}
