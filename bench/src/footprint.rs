//! Memory and start-up: the RSS of an idle `agent -dev`, and with 10,000 and 100,000
//! registered instances (one TTL check each); the time from spawning `agent -dev` until
//! `/v1/status/leader` names a leader.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use futures::StreamExt;

use crate::agent_process::{AgentProcess, free_port};
use crate::plot_data::PlotData;

#[derive(Debug, Args)]
pub struct FootprintArgs {
    #[arg(long)]
    pub csv: Option<std::path::PathBuf>,
}

pub async fn run(binary: &str, args: FootprintArgs) -> anyhow::Result<()> {
    let mut plot = PlotData::new(args.csv.clone());
    println!("## Memory and start-up");
    println!();
    println!(
        "RSS of one `agent -dev` (release build): idle 5 s after start, then after registering"
    );
    println!(
        "instances through `PUT /v1/agent/service/register` (64 in flight), each with a TTL check the"
    );
    println!("agent tracks, 5 s after the last. Start-up: from spawning the process until");
    println!(
        "`/v1/status/leader` names a leader (median of 5). Command: `proconsul-bench footprint`."
    );
    println!();
    println!("| Instances | Agent RSS (MiB) | Registration time (s) |");
    println!("|---|---|---|");
    let agent = AgentProcess::start(binary).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = agent.rss_mib()?;
    println!("| 0 (idle) | {idle:.1} | |");
    plot.add("memory", "RSS MiB", 0, idle);
    let client = crate::load::load_client(Duration::from_secs(10))?;
    let mut registered = 0usize;
    for target in [10_000usize, 100_000] {
        let started = Instant::now();
        let failures = futures::stream::iter(registered..target)
            .map(|i| {
                let (client, http) = (client.clone(), agent.http.clone());
                async move {
                    let body = serde_json::json!({"Name": format!("svc-{}", i % 1000), "ID": format!("inst-{i}"),
                        "Port": 8000 + i % 1000, "Check": {"TTL": "1h", "Status": "passing"}});
                    client.put(format!("{http}/v1/agent/service/register")).json(&body).send().await
                        .is_ok_and(|response| response.status().is_success())
                }
            })
            .buffer_unordered(64)
            .filter(|ok| std::future::ready(!ok))
            .count()
            .await;
        anyhow::ensure!(failures == 0, "{failures} registrations failed");
        let took = started.elapsed().as_secs_f64();
        registered = target;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let rss = agent.rss_mib()?;
        println!("| {target} | {rss:.1} | {took:.1} |");
        plot.add("memory", "RSS MiB", target, rss);
    }
    drop(agent);
    let mut startups = Vec::new();
    for _ in 0..5 {
        startups.push(startup(binary).await?);
    }
    startups.sort();
    let median = startups[startups.len() / 2];
    println!();
    println!(
        "Start-up of `agent -dev` until a leader is known: {:.0} ms (median of 5; fastest {:.0} ms, slowest {:.0} ms).",
        median.as_secs_f64() * 1000.0,
        startups[0].as_secs_f64() * 1000.0,
        startups[startups.len() - 1].as_secs_f64() * 1000.0
    );
    println!();
    plot.flush()
}

/// One start of `agent -dev`, until `/v1/status/leader` names a leader.
async fn startup(binary: &str) -> anyhow::Result<Duration> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}/v1/status/leader");
    let client = proconsul_api::client::http_client();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["agent", "-dev", "-log-level=warn"])
        .arg(format!("-http-port={port}"))
        .arg(format!("-server-port={}", free_port()?))
        .arg(format!("-dns-port={}", free_port()?))
        .arg(format!("-serf-lan-port={}", free_port()?))
        .arg(format!("-serf-wan-port={}", free_port()?))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let took = loop {
        if let Ok(response) = client.get(&url).send().await
            && response.text().await.is_ok_and(|body| body.len() > 2)
        {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            anyhow::bail!("the agent did not start within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    Ok(took)
}
