//! Durable KV writes side by side with etcd: N clients each loop one write at a time
//! against the servers (round-robin over the given URLs, so followers forward to their
//! leader, as both systems do), and each write's latency is recorded.
//!
//! Proconsul is written through `PUT /v1/kv/<key>`; etcd through its HTTP/JSON gateway
//! (`POST /v3/kv/put`), so both carry the same HTTP/1.1 + JSON cost on the client side.
//! etcd's gateway forwards to its own gRPC server inside the process, an internal hop
//! Proconsul does not have; the table says so.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use clap::{Args, ValueEnum};

use crate::lean_http::LeanClient;
use crate::load::closed_loop;

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

/// One write of `key`; true when acknowledged.
pub async fn put(client: &LeanClient, api: Api, key: &str, value: &[u8]) -> bool {
    let request = match api {
        Api::Consul => client.request("PUT", &format!("/v1/kv/{key}"), value),
        Api::Etcd => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let body = serde_json::json!({"key": b64.encode(key), "value": b64.encode(value)});
            client.request("POST", "/v3/kv/put", body.to_string().as_bytes())
        }
    };
    match client.send(&request).await {
        Ok(answer) if answer.is_success() => match api {
            Api::Consul => answer.body.trim_ascii() == b"true",
            Api::Etcd => true,
        },
        _ => false,
    }
}

pub async fn run(args: KvPutArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.urls.is_empty(), "--urls is empty");
    let clients: Arc<Vec<LeanClient>> =
        Arc::new(args.urls.iter().map(|url| LeanClient::new(url)).collect());
    let value = Arc::new(vec![b'x'; args.value_size]);
    // Warm up the connections and the servers.
    for client in clients.iter() {
        put(client, args.api, "bench/warmup", &value).await;
    }
    let api = args.api;
    let result = closed_loop(
        args.clients,
        Duration::from_secs(args.seconds),
        move |c, n| {
            let (clients, value) = (clients.clone(), value.clone());
            async move {
                let client = &clients[(c + n) % clients.len()];
                put(client, api, &format!("bench/{c}/{n}"), &value).await
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
