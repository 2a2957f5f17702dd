//! Tests that need the Raft handle behind [`Consensus`]: a snapshot openraft built and
//! stored decodes to the very state readers were shown.

use std::net::SocketAddr;
use std::time::Duration;

use proconsul_state::{Command, KvCommand, KvOp, State};

use super::{Consensus, ConsensusConfig};

#[tokio::test]
async fn a_triggered_snapshot_is_stored_and_restores_the_published_state() {
    let consensus = Consensus::start_dev(ConsensusConfig {
        server_id: "test-server".to_string(),
        node_id: 7,
        node_name: "snap".to_string(),
        rpc_addr: "127.0.0.1:8300".parse::<SocketAddr>().unwrap(),
        autopilot: Default::default(),
    })
    .await
    .unwrap();
    let mut last = 0;
    for i in 0..50u64 {
        let command = Command::Kv(KvCommand {
            op: KvOp::Set,
            key: format!("snap/{i}"),
            value: i.to_string().into_bytes(),
            flags: i,
            cas: None,
        });
        last = consensus.write(command).await.unwrap().index;
    }
    consensus.trigger_snapshot().await.unwrap();
    let raft = &consensus.inner.raft;
    raft.wait(Some(Duration::from_secs(5)))
        .metrics(
            |metrics| metrics.snapshot.is_some_and(|id| id.index() == last),
            "snapshot covers the last write",
        )
        .await
        .unwrap();

    let snapshot = raft
        .get_snapshot()
        .await
        .unwrap()
        .expect("a stored snapshot");
    assert_eq!(snapshot.meta.last_log_id.map(|id| id.index()), Some(last));
    let restored = State::from_snapshot(snapshot.snapshot.get_ref()).unwrap();
    assert_eq!(restored, *consensus.reader().current());
    assert_eq!(restored.last_applied(), last);
    consensus.shutdown().await.unwrap();
}
