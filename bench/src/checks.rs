//! Health checks per second: registers N HTTP (or TCP) checks with a 1s interval
//! against targets in this process, lets them settle, then counts the probes the
//! targets receive and the CPU and memory the agent spends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use futures::StreamExt;

use crate::agent_process::AgentProcess;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Http,
    Tcp,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// HTTP or TCP checks.
    #[arg(long, value_enum, default_value = "http")]
    kind: Kind,
    /// How many checks, each with a 1s interval.
    #[arg(long, default_value_t = 1000)]
    checks: usize,
    /// How long to count, in seconds, after a settling period of 3s.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

pub async fn run(binary: &str, args: ChecksArgs) -> anyhow::Result<()> {
    let hits = Arc::new(AtomicU64::new(0));
    let target = start_target(args.kind, hits.clone()).await?;
    let agent = AgentProcess::start(binary).await?;
    let client = proconsul_api::client::http_client();
    let register_started = Instant::now();
    let registrations = futures::stream::iter(0..args.checks)
        .map(|i| {
            let client = &client;
            let http = &agent.http;
            let check = match args.kind {
                Kind::Http => serde_json::json!({"Name": format!("c{i}"), "HTTP": format!("http://{target}/health/{i}"), "Interval": "1s"}),
                Kind::Tcp => serde_json::json!({"Name": format!("c{i}"), "TCP": target.to_string(), "Interval": "1s"}),
            };
            async move {
                client
                    .put(format!("{http}/v1/agent/check/register"))
                    .body(check.to_string())
                    .send()
                    .await?
                    .error_for_status()
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    for registration in registrations {
        registration?;
    }
    let register_seconds = register_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;

    let hits_before = hits.load(Ordering::Relaxed);
    let cpu_before = agent.cpu_time()?;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let probes = hits.load(Ordering::Relaxed) - hits_before;
    let cpu = (agent.cpu_time()? - cpu_before).as_secs_f64();
    let rate = probes as f64 / elapsed;
    println!(
        "| {:?} | {} | {:.0} | {:.0}% | {:.0}% | {:.1} | {:.1} |",
        args.kind,
        args.checks,
        rate,
        100.0 * rate / args.checks as f64,
        100.0 * cpu / elapsed,
        agent.rss_mib()?,
        register_seconds,
    );
    Ok(())
}

/// A target that counts what reaches it: an HTTP server answering 200, or a TCP
/// listener that accepts and closes.
async fn start_target(kind: Kind, hits: Arc<AtomicU64>) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    match kind {
        Kind::Http => {
            let app = axum::Router::new().route(
                "/health/{id}",
                axum::routing::get(move || {
                    let hits = hits.clone();
                    async move {
                        hits.fetch_add(1, Ordering::Relaxed);
                        "ok"
                    }
                }),
            );
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        Kind::Tcp => {
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    hits.fetch_add(1, Ordering::Relaxed);
                    drop(stream);
                }
            });
        }
    }
    Ok(addr)
}
