//! `proconsul-bench`: starts a release `proconsul agent -dev`, drives one workload at it
//! and prints a Markdown table row per configuration. `bench/run.sh` runs the suite
//! and writes `docs/BENCHMARKS.md`.

mod agent_process;
mod checks;
mod locks;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.workload {
        Workload::Checks(args) => checks::run(&cli.binary, args).await,
        Workload::Locks(args) => locks::run(&cli.binary, args).await,
    }
}
