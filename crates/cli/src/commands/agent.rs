//! `proconsul agent`: starts the agent and runs it until SIGINT or SIGTERM.

use std::net::IpAddr;
use std::process::ExitCode;

use clap::Args;
use proconsul_agent::AgentConfig;
use tracing_subscriber::EnvFilter;

/// Flags as Consul names them.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Development mode: an in-memory server with no data dir.
    #[arg(long)]
    dev: bool,
    /// The node's name (default: the host name).
    #[arg(long)]
    node: Option<String>,
    /// The datacenter.
    #[arg(long, default_value = "dc1")]
    datacenter: String,
    /// The address the HTTP API listens on.
    #[arg(long, default_value = "127.0.0.1")]
    client: IpAddr,
    /// The address for cluster traffic, advertised as the node's address.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The HTTP API port.
    #[arg(long = "http-port", default_value_t = 8500)]
    http_port: u16,
    /// The server RPC (Raft) port.
    #[arg(long = "server-port", default_value_t = 8300)]
    server_port: u16,
    /// The largest KV value accepted, in bytes.
    #[arg(long = "kv-max-value-size", default_value_t = 512 * 1024)]
    kv_max_value_size: usize,
    /// trace, debug, info, warn or error.
    #[arg(long = "log-level", default_value = "info")]
    log_level: String,
}

pub async fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let filter = EnvFilter::try_new(format!(
        "{level},openraft=warn,proconsul_consensus=info",
        level = args.log_level
    ))
    .map_err(|error| anyhow::anyhow!("invalid -log-level {:?}: {error}", args.log_level))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    if !args.dev {
        eprintln!(
            "==> only -dev mode is supported in this build; server mode arrives with the cluster work"
        );
        return Ok(ExitCode::FAILURE);
    }
    let config = AgentConfig {
        dev: true,
        node_name: args.node,
        datacenter: args.datacenter,
        client_addr: args.client,
        http_port: args.http_port,
        bind_addr: args.bind,
        server_port: args.server_port,
        kv_max_value_size: args.kv_max_value_size,
        ..AgentConfig::default()
    };
    proconsul_agent::run(config, shutdown_signal())
        .await
        .map_err(|error| anyhow::anyhow!("==> Error starting agent: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the agent with SIGKILL");
        return std::future::pending().await;
    };
    let name = tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!(signal = name, "caught signal, shutting down");
}
