//! `proconsul-bench`: drives one workload at a release `proconsul` (started here, or by
//! the calling script for clusters and peers) and prints a Markdown table row per
//! configuration. `bench/run.sh` runs the suite
//! and writes `docs/BENCHMARKS.md`.

mod agent_process;
mod checks;
mod failover;
mod fanout;
mod footprint;
mod gossip_sim;
mod kv_put;
mod lean_http;
mod load;
mod locks;
mod peers;
mod plot_data;
mod registry;
mod snapshot_size;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "proconsul-bench")]
struct Cli {
    /// The proconsul binary to measure.
    #[arg(long, default_value = "target/release/proconsul")]
    binary: String,
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Debug, Subcommand)]
enum Workload {
    /// Health checks per second one agent sustains against local targets.
    Checks(checks::ChecksArgs),
    /// Lock round trips and session renewals per second.
    Locks(locks::LocksArgs),
    /// Durable KV writes per second and their latency, Proconsul or etcd.
    KvPut(kv_put::KvPutArgs),
    /// Time from killing the leader to the first successful write.
    Failover(failover::FailoverArgs),
    /// Backup size and save/restore time with many services and keys.
    SnapshotSize(snapshot_size::SnapshotSizeArgs),
    /// Registrations, discovery reads and KV side by side with rnacos, etcd and axum.
    Registry(registry::RegistryArgs),
    /// Idle blocking queries: memory, idle CPU, and wake-up delay after a write.
    Fanout(fanout::FanoutArgs),
    /// RSS idle and with many instances; start-up time.
    Footprint(footprint::FootprintArgs),
    /// Gossip failure detection and false failures in the deterministic simulator.
    GossipSim(gossip_sim::GossipSimArgs),
    /// Serves `GET /hello` (the ceiling peer, run as a child process).
    HelloServer {
        #[arg(long)]
        port: u16,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.workload {
        Workload::Checks(args) => checks::run(&cli.binary, args).await,
        Workload::Locks(args) => locks::run(&cli.binary, args).await,
        Workload::KvPut(args) => kv_put::run(args).await,
        Workload::Failover(args) => failover::run(args).await,
        Workload::SnapshotSize(args) => snapshot_size::run(&cli.binary, args).await,
        Workload::Registry(args) => registry::run(&cli.binary, args).await,
        Workload::Fanout(args) => fanout::run(&cli.binary, args).await,
        Workload::Footprint(args) => footprint::run(&cli.binary, args).await,
        Workload::GossipSim(args) => gossip_sim::run(args),
        Workload::HelloServer { port } => peers::serve_hello(port).await,
    }
}
