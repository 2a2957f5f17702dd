//! Server mode on disk: every acknowledged write survives a restart, through the log
//! alone and through a snapshot plus the entries after it; a restarted server keeps its
//! indexes and does not bootstrap again.

use std::net::SocketAddr;
use std::path::Path;

mod common;

use common::set;
use proconsul_consensus::{ClusterOptions, Consensus, ConsensusConfig, ServerOptions};

async fn server(dir: &Path, snapshot_threshold: u64) -> Consensus {
    Consensus::start_server(
        ConsensusConfig {
            node_id: 1,
            server_id: "durable-server".to_string(),
            node_name: "durable".to_string(),
            rpc_addr: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
            autopilot: Default::default(),
        },
        ServerOptions {
            data_dir: dir.to_path_buf(),
            snapshot_threshold,
            trailing_logs: 5,
            cluster: ClusterOptions::default(),
            tls: Default::default(),
            test_faults: false,
        },
    )
    .await
    .expect("server starts")
}

#[tokio::test]
async fn acknowledged_writes_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let first = server(dir.path(), 100_000).await;
    let mut indexes = Vec::new();
    for i in 0..50 {
        indexes.push(
            first
                .write(set(&format!("k{i}"), &format!("v{i}")))
                .await
                .unwrap()
                .index,
        );
    }
    first.shutdown().await.unwrap();
    drop(first);

    let second = server(dir.path(), 100_000).await;
    let state = second.reader().current();
    for (i, index) in indexes.iter().enumerate() {
        let entry = state
            .kv_get(&format!("k{i}"))
            .expect("kept across the restart");
        assert_eq!(entry.value.as_deref(), Some(format!("v{i}").as_bytes()));
        assert_eq!(entry.modify_index, *index);
    }
    let next = second.write(set("after", "restart")).await.unwrap();
    assert!(
        next.index > *indexes.last().unwrap(),
        "indexes go on from the log"
    );
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn snapshots_and_a_compacted_log_restore_everything() {
    let dir = tempfile::tempdir().unwrap();
    let first = server(dir.path(), 20).await;
    for i in 0..120 {
        first.write(set(&format!("k{i}"), "v")).await.unwrap();
    }
    first.trigger_snapshot().await.unwrap();
    for i in 120..130 {
        first.write(set(&format!("k{i}"), "v")).await.unwrap();
    }
    // Snapshots are built in the background; wait for the file.
    let snapshot = dir.path().join("raft/snapshot.bin");
    for _ in 0..100 {
        if snapshot.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(snapshot.exists(), "a snapshot file is written");
    first.shutdown().await.unwrap();
    drop(first);

    let second = server(dir.path(), 20).await;
    let state = second.reader().current();
    for i in 0..130 {
        assert!(state.kv_get(&format!("k{i}")).is_some(), "k{i} lost");
    }
    second.shutdown().await.unwrap();
}
