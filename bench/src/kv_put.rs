//! Durable KV writes side by side with etcd: N clients each loop one write at a time
//! against the servers (round-robin over the given URLs, so followers forward to their
//! leader, as both systems do), and each write's latency is recorded.
//!
//! Proconsul is written through `PUT /v1/kv/<key>`; etcd through its HTTP/JSON gateway
//! (`POST /v3/kv/put`), so both carry the same HTTP/1.1 + JSON cost on the client side.
//! etcd's gateway forwards to its own gRPC server inside the process, an internal hop
//! Proconsul does not have; the table says so.

use std::time::Duration;

use base64::Engine;
use clap::{Args, ValueEnum};

use crate::load::{closed_loop, load_client};

/// Which API the servers speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Api {
    Consul,
    Etcd,
}

#[derive(Debug, Args)]
pub struct KvPutArgs {
    #[arg(long, value_enum)]
    pub api: Api,
    /// Base URLs of the servers, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub urls: Vec<String>,
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// The first column of the printed row.
    #[arg(long)]
    pub label: String,
    /// Bytes per value.
    #[arg(long, default_value_t = 128)]
    pub value_size: usize,
}

/// One write of `key` through `url`; true when acknowledged.
pub async fn put(client: &reqwest::Client, api: Api, url: &str, key: &str, value: &[u8]) -> bool {
    let request = match api {
        Api::Consul => client
            .put(format!("{url}/v1/kv/{key}"))
            .body(value.to_vec()),
        Api::Etcd => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let body = serde_json::json!({"key": b64.encode(key), "value": b64.encode(value)});
            client.post(format!("{url}/v3/kv/put")).json(&body)
        }
    };
    match request.send().await {
        Ok(response) if response.status().is_success() => match api {
            Api::Consul => response
                .text()
                .await
                .is_ok_and(|body| body.trim() == "true"),
            Api::Etcd => response.bytes().await.is_ok(),
        },
        _ => false,
    }
}

pub async fn run(args: KvPutArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.urls.is_empty(), "--urls is empty");
    let client = load_client(Duration::from_secs(10))?;
    let value = vec![b'x'; args.value_size];
    // Warm up the connections and the servers.
    for url in &args.urls {
        put(&client, args.api, url, "bench/warmup", &value).await;
    }
    let (urls, api) = (args.urls.clone(), args.api);
    let result = closed_loop(
        args.clients,
        Duration::from_secs(args.seconds),
        move |c, n| {
            let (client, urls, value) = (client.clone(), urls.clone(), value.clone());
            async move {
                let url = &urls[(c + n) % urls.len()];
                put(&client, api, url, &format!("bench/{c}/{n}"), &value).await
            }
        },
    )
    .await;
    println!(
        "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
        args.label,
        args.clients,
        result.per_second(),
        result.percentile_ms(0.50),
        result.percentile_ms(0.99),
        result.failed
    );
    Ok(())
}
