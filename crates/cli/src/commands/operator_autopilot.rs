//! `proconsul operator autopilot get-config|set-config|state`, with Consul's output:
//! `Key = value` lines for the configuration, a check-and-set update that changes only
//! the flags given, and the state as text or `-format=json`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use proconsul_api::client::QueryOptions;
use serde_json::Value;

use crate::commands::{HttpArgs, fail};

#[derive(Debug, Subcommand)]
pub enum AutopilotCommand {
    /// Displays the current autopilot configuration.
    GetConfig(GetConfigArgs),
    /// Modifies the autopilot configuration (only the flags given change).
    SetConfig(SetConfigArgs),
    /// Displays autopilot's view of the servers.
    State(StateArgs),
}

#[derive(Debug, Args)]
pub struct GetConfigArgs {
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Debug, Args)]
pub struct SetConfigArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// Remove dead servers from the Raft configuration (true|false).
    #[arg(long, value_name = "BOOL")]
    cleanup_dead_servers: Option<bool>,
    /// How long a server may go without the leader's contact and stay healthy.
    #[arg(long, value_name = "DURATION")]
    last_contact_threshold: Option<String>,
    /// How many log entries a server may trail the leader by and stay healthy.
    #[arg(long, value_name = "N")]
    max_trailing_logs: Option<u64>,
    /// Dead servers are not removed below this many servers.
    #[arg(long, value_name = "N")]
    min_quorum: Option<u32>,
    /// How long a new server must stay healthy before it becomes a voter.
    #[arg(long, value_name = "DURATION")]
    server_stabilization_time: Option<String>,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(flatten)]
    http: HttpArgs,
    /// `pretty` (default) or `json`.
    #[arg(long, default_value = "pretty")]
    format: String,
}

const CONFIGURATION: &str = "/v1/operator/autopilot/configuration";

pub async fn run(command: AutopilotCommand) -> anyhow::Result<ExitCode> {
    match command {
        AutopilotCommand::GetConfig(args) => {
            let client = args.http.client()?;
            match client
                .get_json::<Value>(CONFIGURATION, &QueryOptions::default())
                .await
            {
                Ok((config, _)) => {
                    print!("{}", render_configuration(&config));
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => Ok(fail(format!(
                    "Error querying Autopilot configuration: {error}"
                ))),
            }
        }
        AutopilotCommand::SetConfig(args) => set_config(args).await,
        AutopilotCommand::State(args) => state(args).await,
    }
}

/// Consul's `get-config` lines.
fn render_configuration(config: &Value) -> String {
    let text = |key: &str| config[key].as_str().unwrap_or_default().to_string();
    let plain = |key: &str| config[key].to_string();
    format!(
        "CleanupDeadServers = {}\nLastContactThreshold = {}\nMaxTrailingLogs = {}\nMinQuorum = {}\n\
         ServerStabilizationTime = {}\nRedundancyZoneTag = {}\nDisableUpgradeMigration = {}\n\
         UpgradeVersionTag = {}\n",
        plain("CleanupDeadServers"),
        text("LastContactThreshold"),
        plain("MaxTrailingLogs"),
        plain("MinQuorum"),
        text("ServerStabilizationTime"),
        plain("RedundancyZoneTag"),
        plain("DisableUpgradeMigration"),
        plain("UpgradeVersionTag"),
    )
}

/// Reads the configuration, changes what the flags say, and writes it back with
/// check-and-set on the ModifyIndex read.
async fn set_config(args: SetConfigArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let mut config = match client
        .get_json::<Value>(CONFIGURATION, &QueryOptions::default())
        .await
    {
        Ok((config, _)) => config,
        Err(error) => {
            return Ok(fail(format!(
                "Error querying Autopilot configuration: {error}"
            )));
        }
    };
    if let Some(cleanup) = args.cleanup_dead_servers {
        config["CleanupDeadServers"] = cleanup.into();
    }
    for (value, key) in [
        (&args.last_contact_threshold, "LastContactThreshold"),
        (&args.server_stabilization_time, "ServerStabilizationTime"),
    ] {
        if let Some(text) = value {
            if let Err(error) = proconsul_api::duration::parse_duration(text) {
                return Ok(fail(format!("Error parsing {key}: {error}")));
            }
            config[key] = text.clone().into();
        }
    }
    if let Some(max) = args.max_trailing_logs {
        config["MaxTrailingLogs"] = max.into();
    }
    if let Some(min) = args.min_quorum {
        config["MinQuorum"] = min.into();
    }
    let cas = config["ModifyIndex"].as_u64().unwrap_or(0).to_string();
    match client
        .put_json::<Value, bool>(CONFIGURATION, &[("cas", cas)], &config)
        .await
    {
        Ok(true) => {
            println!("Configuration updated!");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => Ok(fail(
            "Configuration could not be atomically updated, please try again",
        )),
        Err(error) => Ok(fail(format!(
            "Error setting Autopilot configuration: {error}"
        ))),
    }
}

async fn state(args: StateArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    let state = match client
        .get_json::<Value>("/v1/operator/autopilot/state", &QueryOptions::default())
        .await
    {
        Ok((state, _)) => state,
        Err(error) => return Ok(fail(format!("Error getting Autopilot state: {error}"))),
    };
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&state)?),
        "pretty" => print!("{}", render_state(&state)),
        other => return Ok(fail(format!("Unknown format: {other}"))),
    }
    Ok(ExitCode::SUCCESS)
}

/// The state as Consul's `pretty` format lays it out.
fn render_state(state: &Value) -> String {
    let mut out = format!(
        "Healthy:                      {}\nFailure Tolerance:            {}\n\
         Optimistic Failure Tolerance: {}\nLeader:                       {}\nVoters:\n",
        state["Healthy"],
        state["FailureTolerance"],
        state["OptimisticFailureTolerance"],
        state["Leader"].as_str().unwrap_or_default(),
    );
    for voter in state["Voters"].as_array().into_iter().flatten() {
        out.push_str(&format!("   {}\n", voter.as_str().unwrap_or_default()));
    }
    out.push_str("\nServers:\n");
    for (id, server) in state["Servers"].as_object().into_iter().flatten() {
        let text = |key: &str| match &server[key] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!("   {id}\n"));
        for (label, key) in [
            ("Name", "Name"),
            ("Address", "Address"),
            ("Version", "Version"),
            ("Status", "Status"),
            ("Node Type", "NodeType"),
            ("Node Status", "NodeStatus"),
            ("Healthy", "Healthy"),
            ("Last Contact", "LastContact"),
            ("Last Term", "LastTerm"),
            ("Last Index", "LastIndex"),
        ] {
            out.push_str(&format!(
                "      {:<16} {}\n",
                format!("{label}:"),
                text(key)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_config_prints_consuls_lines() {
        let config = serde_json::json!({
            "CleanupDeadServers": true, "LastContactThreshold": "200ms", "MaxTrailingLogs": 250,
            "MinQuorum": 0, "ServerStabilizationTime": "10s", "RedundancyZoneTag": "",
            "DisableUpgradeMigration": false, "UpgradeVersionTag": "",
        });
        assert_eq!(
            render_configuration(&config),
            "CleanupDeadServers = true\nLastContactThreshold = 200ms\nMaxTrailingLogs = 250\n\
             MinQuorum = 0\nServerStabilizationTime = 10s\nRedundancyZoneTag = \"\"\n\
             DisableUpgradeMigration = false\nUpgradeVersionTag = \"\"\n"
        );
    }
}
