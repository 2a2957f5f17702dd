//! Backups: `proconsul snapshot save|restore|inspect` and `/v1/snapshot` against real
//! agents. A restore brings back exactly the saved state, on the same agent or a fresh
//! one; a damaged file is refused and changes nothing.

use std::process::Output;

use proconsul_tests::{TempDir, TestAgent, call, get, put};
use serde_json::json;

fn cli(agent: &TestAgent, args: &[&str]) -> Output {
    agent.cli(args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn kv_snapshot(agent: &TestAgent) -> Vec<(String, String)> {
    let entries = get(&agent.url("/v1/kv/?recurse")).await;
    if entries.status == 404 {
        return Vec::new();
    }
    entries
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["Key"].as_str().unwrap().to_string(),
                entry["Value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn save_restore_and_refuse_damaged_files() {
    let agent = TestAgent::start();
    let scratch = TempDir::new("backup");
    let file = scratch.path().join("backup.snap");
    let file_arg = file.display().to_string();
    put(&agent.url("/v1/kv/app/a"), "1").await;
    put(&agent.url("/v1/kv/app/b"), "2").await;
    // Big enough that the snapshot moves in many pieces each way (incompressible).
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let blob: Vec<u8> = (0..300_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    assert_eq!(put(&agent.url("/v1/kv/big/blob"), blob).await.status, 200);
    put(
        &agent.url("/v1/catalog/register"),
        json!({"Node": "db-host", "Address": "10.0.0.5", "Service": {"Service": "db", "Port": 5432}}).to_string(),
    )
    .await;
    let saved_kv = kv_snapshot(&agent).await;

    let output = cli(&agent, &["snapshot", "save", &file_arg]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        text(&output.stdout).starts_with("Saved and verified snapshot to index "),
        "{output:?}"
    );
    // Not a terminal: no progress line, only what Consul prints.
    assert!(output.stderr.is_empty(), "{output:?}");
    assert!(std::fs::metadata(&file).unwrap().len() > 300_000);
    let output = cli(&agent, &["snapshot", "inspect", &file_arg]);
    assert!(output.status.success(), "{output:?}");
    let inspected = text(&output.stdout);
    assert!(inspected.contains("KV entries 3"), "{inspected}");
    assert!(inspected.contains("Nodes      2"), "{inspected}");

    // Change things, then restore: exactly the saved state comes back.
    call("DELETE", &agent.url("/v1/kv/app/a"), None).await;
    put(&agent.url("/v1/kv/app/c"), "3").await;
    call(
        "PUT",
        &agent.url("/v1/catalog/deregister"),
        Some(json!({"Node": "db-host"}).to_string().into_bytes()),
    )
    .await;
    let before = get(&agent.url("/v1/kv/app/?recurse")).await.index();
    let blocked_url = agent.url(&format!("/v1/kv/app/?recurse&index={before}&wait=10s"));
    let blocked = tokio::spawn(async move { get(&blocked_url).await });
    let output = cli(&agent, &["snapshot", "restore", &file_arg]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stdout), "Restored snapshot\n");
    assert!(output.stderr.is_empty(), "{output:?}");
    assert_eq!(kv_snapshot(&agent).await, saved_kv);
    assert_eq!(
        get(&agent.url("/v1/catalog/service/db")).await.json()[0]["Node"],
        "db-host"
    );
    let woke = blocked.await.unwrap();
    assert!(woke.index() > before, "blocking queries see the restore");

    // Damaged files are refused, by the CLI and by the HTTP API, and change nothing.
    put(&agent.url("/v1/kv/app/after"), "x").await;
    let mut bytes = std::fs::read(&file).unwrap();
    let truncated = scratch.path().join("truncated.snap");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    let output = cli(
        &agent,
        &["snapshot", "restore", &truncated.display().to_string()],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("truncated"), "{output:?}");
    let last = bytes.len() - 5;
    bytes[last] ^= 0x20;
    let answer = put(&agent.url("/v1/snapshot"), bytes).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("checksum"), "{}", answer.body);
    let garbage = put(&agent.url("/v1/snapshot"), "not a snapshot").await;
    assert_eq!(garbage.status, 400);
    assert_eq!(
        get(&agent.url("/v1/kv/app/after?raw")).await.body,
        "x",
        "nothing changed"
    );
}

#[tokio::test]
async fn a_backup_restores_into_a_fresh_agent() {
    let source = TestAgent::start();
    for i in 0..20 {
        put(&source.url(&format!("/v1/kv/data/{i:02}")), format!("v{i}")).await;
    }
    let response = reqwest::get(source.url("/v1/snapshot")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-consul-index"));
    let raw = response.bytes().await.unwrap();
    assert_eq!(raw[..2], [0x1f, 0x8b], "Consul's container: a gzipped tar");
    let fresh = TestAgent::start();
    let restored = put(&fresh.url("/v1/snapshot"), raw.to_vec()).await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    assert_eq!(kv_snapshot(&fresh).await, kv_snapshot(&source).await);
}
