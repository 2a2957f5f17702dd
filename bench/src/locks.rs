//! Locks and sessions: KV lock acquire/release round trips per second (each client
//! with its own session and key, so the figure is the write path's, not contention's),
//! and session renewals per second with 1,000 live sessions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};

use crate::agent_process::AgentProcess;

#[derive(Debug, Args)]
pub struct LocksArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Live sessions during the renewal run.
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// How long each measurement runs, in seconds.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

async fn create_session(client: &reqwest::Client, http: &str) -> anyhow::Result<String> {
    let created: Value = client
        .put(format!("{http}/v1/session/create"))
        .body(json!({"TTL": "60s", "LockDelay": "0s"}).to_string())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(created["ID"].as_str().unwrap_or_default().to_string())
}

pub async fn run(binary: &str, args: LocksArgs) -> anyhow::Result<()> {
    let agent = AgentProcess::start(binary).await?;
    let client = proconsul_api::client::http_client();
    let http = agent.http.clone();
    let window = Duration::from_secs(args.seconds);

    // Lock round trips: acquire then release, per client.
    let round_trips = Arc::new(AtomicU64::new(0));
    let cpu_before = agent.cpu_time()?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.clients {
        let (client, http, round_trips) = (client.clone(), http.clone(), round_trips.clone());
        workers.push(tokio::spawn(async move {
            let session = create_session(&client, &http).await?;
            let key = format!("{http}/v1/kv/bench/lock-{worker}");
            let until = Instant::now() + window;
            while Instant::now() < until {
                for verb in ["acquire", "release"] {
                    let done: bool = client
                        .put(format!("{key}?{verb}={session}"))
                        .send()
                        .await?
                        .json()
                        .await?;
                    anyhow::ensure!(done, "{verb} failed");
                }
                round_trips.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (agent.cpu_time()? - cpu_before).as_secs_f64();
    println!(
        "| Lock acquire + release round trips | {} | {:.0} | {:.0}% | {:.1} |",
        args.clients,
        round_trips.load(Ordering::Relaxed) as f64 / elapsed,
        100.0 * cpu / elapsed,
        agent.rss_mib()?
    );

    // Renewals with many live sessions.
    let mut sessions = Vec::with_capacity(args.sessions);
    for _ in 0..args.sessions {
        sessions.push(create_session(&client, &http).await?);
    }
    let sessions = Arc::new(sessions);
    let renewals = Arc::new(AtomicU64::new(0));
    let cpu_before = agent.cpu_time()?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.clients {
        let (client, http, renewals, sessions) = (
            client.clone(),
            http.clone(),
            renewals.clone(),
            sessions.clone(),
        );
        workers.push(tokio::spawn(async move {
            let until = Instant::now() + window;
            let mut next = worker;
            while Instant::now() < until {
                let id = &sessions[next % sessions.len()];
                client
                    .put(format!("{http}/v1/session/renew/{id}"))
                    .send()
                    .await?
                    .error_for_status()?;
                renewals.fetch_add(1, Ordering::Relaxed);
                next += args.clients;
            }
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (agent.cpu_time()? - cpu_before).as_secs_f64();
    println!(
        "| Session renewals ({} live sessions) | {} | {:.0} | {:.0}% | {:.1} |",
        args.sessions,
        args.clients,
        renewals.load(Ordering::Relaxed) as f64 / elapsed,
        100.0 * cpu / elapsed,
        agent.rss_mib()?
    );
    Ok(())
}
