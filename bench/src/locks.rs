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
    let rate = measure(&agent, args.clients, |worker, done| {
        let (client, http) = (client.clone(), http.clone());
        async move {
            let session = create_session(&client, &http).await?;
            let key = format!("{http}/v1/kv/bench/lock-{worker}");
            let until = Instant::now() + window;
            while Instant::now() < until {
                for verb in ["acquire", "release"] {
                    let taken: bool = client
                        .put(format!("{key}?{verb}={session}"))
                        .send()
                        .await?
                        .json()
                        .await?;
                    anyhow::ensure!(taken, "{verb} failed");
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }
    })
    .await?;
    print_row(
        &agent,
        "Lock acquire + release round trips",
        args.clients,
        rate,
    )?;

    // Renewals with many live sessions.
    let mut sessions = Vec::with_capacity(args.sessions);
    for _ in 0..args.sessions {
        sessions.push(create_session(&client, &http).await?);
    }
    let sessions = Arc::new(sessions);
    let clients = args.clients;
    let rate = measure(&agent, args.clients, |worker, done| {
        let (client, http, sessions) = (client.clone(), http.clone(), sessions.clone());
        async move {
            let until = Instant::now() + window;
            let mut next = worker;
            while Instant::now() < until {
                let id = &sessions[next % sessions.len()];
                client
                    .put(format!("{http}/v1/session/renew/{id}"))
                    .send()
                    .await?
                    .error_for_status()?;
                done.fetch_add(1, Ordering::Relaxed);
                next += clients;
            }
            Ok(())
        }
    })
    .await?;
    let label = format!("Session renewals ({} live sessions)", args.sessions);
    print_row(&agent, &label, args.clients, rate)?;
    Ok(())
}

/// Operations per second and the agent's CPU share while `clients` copies of `work`
/// (each given its number and the shared counter) run.
async fn measure<F, Fut>(
    agent: &AgentProcess,
    clients: usize,
    work: F,
) -> anyhow::Result<(f64, f64)>
where
    F: Fn(usize, Arc<AtomicU64>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let done = Arc::new(AtomicU64::new(0));
    let cpu_before = agent.cpu_time()?;
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| tokio::spawn(work(worker, done.clone())))
        .collect();
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = (agent.cpu_time()? - cpu_before).as_secs_f64();
    Ok((done.load(Ordering::Relaxed) as f64 / elapsed, cpu / elapsed))
}

fn print_row(
    agent: &AgentProcess,
    label: &str,
    clients: usize,
    (rate, cpu): (f64, f64),
) -> anyhow::Result<()> {
    println!(
        "| {label} | {clients} | {rate:.0} | {:.0}% | {:.1} |",
        100.0 * cpu,
        agent.rss_mib()?
    );
    Ok(())
}
