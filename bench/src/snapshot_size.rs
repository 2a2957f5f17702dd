//! Backup size and timing at scale: 100k service instances (on 1,000 nodes) and 100k
//! keys are written through `/v1/txn`, then `GET /v1/snapshot` (the same serialization
//! Raft snapshots use) is timed and measured, and restored with `PUT /v1/snapshot`.

use std::time::{Duration, Instant};

use base64::Engine;
use clap::Args;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::agent_process::AgentProcess;

#[derive(Debug, Args)]
pub struct SnapshotSizeArgs {
    #[arg(long, default_value_t = 100_000)]
    pub services: usize,
    #[arg(long, default_value_t = 100_000)]
    pub keys: usize,
}

/// Operations per transaction (Consul allows 128).
const BATCH: usize = 64;
const SERVICES_PER_NODE: usize = 100;

pub async fn run(binary: &str, args: SnapshotSizeArgs) -> anyhow::Result<()> {
    let agent = AgentProcess::start(binary).await?;
    let client = crate::load::load_client(Duration::from_secs(10))?;
    let nodes = args.services.div_ceil(SERVICES_PER_NODE);
    let mut ops: Vec<Value> = (0..nodes)
        .map(|n| json!({"Node": {"Verb": "set", "Node": {"Node": format!("node-{n}"), "Address": format!("10.0.{}.{}", n / 250, n % 250)}}}))
        .collect();
    ops.extend((0..args.services).map(|s| {
        json!({"Service": {"Verb": "set", "Node": format!("node-{}", s / SERVICES_PER_NODE),
            "Service": {"ID": format!("svc-{s}"), "Service": format!("service-{}", s % 500), "Port": 8000 + s % 1000, "Tags": ["v1"]}}})
    }));
    let b64 = base64::engine::general_purpose::STANDARD;
    ops.extend((0..args.keys).map(|k| {
        json!({"KV": {"Verb": "set", "Key": format!("config/app-{}/key-{k}", k % 100), "Value": b64.encode(format!("value-{k}"))}})
    }));
    let loaded = Instant::now();
    // Nodes first: services need them.
    let (node_ops, rest) = ops.split_at(nodes);
    for batch in node_ops.chunks(BATCH) {
        txn(&client, &agent.http, batch).await?;
    }
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(rest.chunks(BATCH))
        .map(|batch| txn(&client, &agent.http, batch))
        .buffer_unordered(16)
        .collect()
        .await;
    results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    let load_seconds = loaded.elapsed().as_secs_f64();
    let rss = agent.rss_mib()?;

    let saved = Instant::now();
    let backup = client
        .get(format!("{}/v1/snapshot", agent.http))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let save_seconds = saved.elapsed().as_secs_f64();
    let restored = Instant::now();
    client
        .put(format!("{}/v1/snapshot", agent.http))
        .body(backup.clone())
        .send()
        .await?
        .error_for_status()?;
    let restore_seconds = restored.elapsed().as_secs_f64();
    println!(
        "| {} services + {} keys | {:.1} | {:.1} | {:.2} | {:.2} | {:.0} |",
        args.services,
        args.keys,
        backup.len() as f64 / (1024.0 * 1024.0),
        load_seconds,
        save_seconds,
        restore_seconds,
        rss
    );
    Ok(())
}

async fn txn(client: &reqwest::Client, http: &str, ops: &[Value]) -> anyhow::Result<()> {
    let response = client
        .put(format!("{http}/v1/txn"))
        .json(&ops)
        .send()
        .await?;
    let status = response.status();
    anyhow::ensure!(
        status.is_success(),
        "txn failed: {status} {}",
        response.text().await?
    );
    Ok(())
}
