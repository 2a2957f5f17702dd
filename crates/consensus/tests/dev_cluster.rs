//! The single-voter `-dev` cluster: election, ordered writes, read-your-writes, change
//! notification, and concurrent writers.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

mod common;

use common::set;
use proconsul_consensus::{Consensus, ConsensusConfig, ConsensusError};
use proconsul_state::{Command, CommandOutcome, KvCommand, KvOp, Table};

async fn dev() -> Consensus {
    Consensus::start_dev(ConsensusConfig {
        server_id: "test-server".to_string(),
        node_id: 1,
        node_name: "test".to_string(),
        rpc_addr: "127.0.0.1:8300".parse::<SocketAddr>().unwrap(),
        autopilot: Default::default(),
    })
    .await
    .expect("dev cluster starts")
}

#[tokio::test]
async fn a_dev_server_elects_itself() {
    let consensus = dev().await;
    assert!(consensus.is_leader());
    let leader = consensus.leader().expect("a leader");
    assert_eq!(leader.rpc_addr, "127.0.0.1:8300");
    assert_eq!(consensus.voters(), ["127.0.0.1:8300"]);
    consensus.read_barrier(true).await.unwrap();
    consensus.shutdown().await.unwrap();
}

#[tokio::test]
async fn writes_apply_in_order_at_their_log_index_and_are_visible_at_once() {
    let consensus = dev().await;
    let mut last = 0;
    for i in 0..20 {
        let applied = consensus.write(set("k", &i.to_string())).await.unwrap();
        assert!(applied.index > last);
        last = applied.index;
        assert_eq!(applied.outcome, CommandOutcome::Done);
        let state = consensus.reader().current();
        let entry = state.kv_get("k").expect("written");
        assert_eq!(entry.modify_index, applied.index);
        assert_eq!(entry.value.as_deref(), Some(i.to_string().as_bytes()));
        assert_eq!(state.last_applied(), applied.index);
    }
    let cas = Command::Kv(KvCommand {
        op: KvOp::Set,
        key: "k".to_string(),
        value: b"x".to_vec(),
        flags: 0,
        cas: Some(1),
    });
    assert_eq!(
        consensus.write(cas).await.unwrap().outcome,
        CommandOutcome::Applied(false)
    );
    consensus.shutdown().await.unwrap();
}

#[tokio::test]
async fn subscribers_of_a_table_are_woken_with_its_new_index() {
    let consensus = dev().await;
    let mut kvs = consensus.reader().subscribe(Table::Kvs);
    let mut nodes = consensus.reader().subscribe(Table::Nodes);
    kvs.borrow_and_update();
    nodes.borrow_and_update();
    let applied = consensus.write(set("a", "1")).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), kvs.changed())
        .await
        .expect("woken")
        .unwrap();
    assert_eq!(*kvs.borrow_and_update(), applied.index);
    assert!(
        !nodes.has_changed().unwrap(),
        "a KV write must not wake node watchers"
    );
    consensus.shutdown().await.unwrap();
}

#[tokio::test]
async fn concurrent_writers_all_land_at_distinct_indexes() {
    let consensus = dev().await;
    let mut tasks = Vec::new();
    for writer in 0..16 {
        let consensus = consensus.clone();
        tasks.push(tokio::spawn(async move {
            let mut indexes = Vec::new();
            for i in 0..64 {
                let key = format!("w{writer}/{i}");
                indexes.push(consensus.write(set(&key, "v")).await.unwrap().index);
            }
            indexes
        }));
    }
    let mut all = BTreeSet::new();
    for task in tasks {
        for index in task.await.unwrap() {
            assert!(all.insert(index), "index {index} handed out twice");
        }
    }
    assert_eq!(all.len(), 16 * 64);
    assert_eq!(consensus.reader().current().kv_list("w").len(), 16 * 64);
    consensus.shutdown().await.unwrap();
}

#[tokio::test]
async fn snapshots_can_be_built_while_writing() {
    let consensus = dev().await;
    for i in 0..100 {
        consensus.write(set(&format!("s/{i}"), "v")).await.unwrap();
    }
    consensus.trigger_snapshot().await.unwrap();
    for i in 100..150 {
        consensus.write(set(&format!("s/{i}"), "v")).await.unwrap();
    }
    assert_eq!(consensus.reader().current().kv_list("s/").len(), 150);
    consensus.shutdown().await.unwrap();
    let late = consensus.write(set("late", "v")).await;
    assert!(
        matches!(late, Err(ConsensusError::ShuttingDown)),
        "{late:?}"
    );
}
