//! Failover time: one client writes in a loop through the followers; the leader process
//! is killed with SIGKILL; the figure is the time from the kill until the first write
//! that succeeds afterwards. Each write gives up after 500 ms and is sent again (as
//! clients with several endpoints do), so a request a server holds while it waits for
//! its old leader measures the cluster's recovery, not that server's hold timeout.

use std::time::{Duration, Instant};

use clap::Args;

use crate::kv_put::{Api, put};
use crate::lean_http::LeanClient;

#[derive(Debug, Args)]
pub struct FailoverArgs {
    #[arg(long, value_enum)]
    pub api: Api,
    /// Base URLs of the servers that stay up, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub urls: Vec<String>,
    /// The leader's process ID.
    #[arg(long)]
    pub leader_pid: u32,
    #[arg(long)]
    pub label: String,
}

pub async fn run(args: FailoverArgs) -> anyhow::Result<()> {
    let clients: Vec<LeanClient> = args
        .urls
        .iter()
        .map(|url| LeanClient::with_timeout(url, Duration::from_millis(500)))
        .collect();
    let value = b"failover".to_vec();
    let mut n = 0usize;
    // Writes flow for a second before the kill.
    let warm_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < warm_until {
        let client = &clients[n % clients.len()];
        put(client, args.api, &format!("failover/{n}"), &value).await;
        n += 1;
    }
    let status = std::process::Command::new("kill")
        .args(["-KILL", &args.leader_pid.to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "could not kill {}", args.leader_pid);
    let killed = Instant::now();
    let give_up = killed + Duration::from_secs(60);
    loop {
        let client = &clients[n % clients.len()];
        n += 1;
        // A write already in flight at the kill can succeed on the old leader's last
        // breath; only writes sent after the kill count.
        if put(client, args.api, &format!("failover/{n}"), &value).await {
            break;
        }
        anyhow::ensure!(Instant::now() < give_up, "no write succeeded within 60 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("| {} | {:.2} |", args.label, killed.elapsed().as_secs_f64());
    Ok(())
}
