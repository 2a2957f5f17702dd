//! The metrics only a real cluster produces, read from each agent's Prometheus text
//! (cumulative, so no 10-second interval has to hold the work): on a 3-server cluster
//! with a client agent, after KV writes past the snapshot threshold, reads through the
//! client, and a follower stopped and started again:
//! - the leader's replication timers per follower (`peer_id`), its log dispatch, its
//!   snapshots, its reconcile passes, its RPC counters;
//! - a follower's Raft RPC timers and log stores, and its snapshot restored at start-up;
//! - gossip's memberlist and serf metrics (`network="lan"`), with the stopped follower
//!   counted failed and, back within serf's flap timeout, as a flap;
//! - the client agent's `client.rpc`.
//!
//! Every value is polled for with a generous deadline; nothing is timed.

use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{AgentPorts, TempDir, TestAgent, get, put, write_file};
use prometheus_parse::{Scrape, Value as Sample};
use serde_json::json;

/// How long any one metric may take to show up.
const WITHIN: Duration = Duration::from_secs(90);

async fn scrape(agent: &TestAgent) -> Scrape {
    let answer = get(&agent.url("/v1/agent/metrics?format=prometheus")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    Scrape::parse(answer.body.lines().map(|line| Ok(line.to_string()))).unwrap()
}

/// The samples named `metric` whose labels include `labels`.
fn samples<'a>(
    scrape: &'a Scrape,
    metric: &'a str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a prometheus_parse::Sample> {
    scrape.samples.iter().filter(move |found| {
        found.metric == metric
            && labels
                .iter()
                .all(|(key, value)| found.labels.get(key) == Some(*value))
    })
}

/// What a metric of one kind must show once the work that produces it was done.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// A counter above zero.
    Counted,
    /// A timer (a summary with its three quantiles) that observed something.
    Timed,
    /// A gauge, whatever its value.
    Gauge,
}

/// A metric, the labels it must carry, and what it must show.
type Wanted<'a> = (&'a str, &'a [(&'a str, &'a str)], Expect);

/// Whether `scrape` shows `metric` (with `labels`) as `expect` says.
fn shows(scrape: &Scrape, metric: &str, labels: &[(&str, &str)], expect: Expect) -> bool {
    match expect {
        Expect::Counted => samples(scrape, metric, labels)
            .any(|found| matches!(found.value, Sample::Counter(value) if value > 0.0)),
        Expect::Gauge => {
            samples(scrape, metric, labels).any(|found| matches!(found.value, Sample::Gauge(_)))
        }
        Expect::Timed => {
            let count = format!("{metric}_count");
            let summary = samples(scrape, metric, labels)
                .any(|found| matches!(&found.value, Sample::Summary(q) if q.len() == 3));
            summary
                && samples(scrape, &count, labels)
                    .any(|found| matches!(found.value, Sample::Untyped(n) if n > 0.0))
        }
    }
}

/// Polls `agent` until it shows every one of `wanted`; on the deadline, names those missing.
async fn wait_for(agent: &TestAgent, what: &str, wanted: &[Wanted<'_>]) {
    let deadline = Instant::now() + WITHIN;
    loop {
        let scrape = scrape(agent).await;
        let missing: Vec<String> = wanted
            .iter()
            .filter(|(metric, labels, expect)| !shows(&scrape, metric, labels, *expect))
            .map(|(metric, labels, expect)| format!("{metric} {labels:?} ({expect:?})"))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still missing {missing:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn node_id(agent: &TestAgent) -> String {
    let this = get(&agent.url("/v1/agent/self")).await.json();
    this["Config"]["NodeID"].as_str().unwrap().to_string()
}

const LAN: &[(&str, &str)] = &[("network", "lan")];

#[tokio::test(flavor = "multi_thread")]
async fn raft_gossip_leader_and_client_metrics_come_from_a_working_cluster() {
    let dir = TempDir::new("metrics-cluster");
    let telemetry =
        json!({"telemetry": {"prometheus_retention_time": "120s", "disable_hostname": true}});
    let config = write_file(dir.path(), "telemetry.json", &telemetry.to_string());
    let mut cluster = TestCluster::start(
        3,
        &[
            "-config-file",
            &config,
            "-raft-snapshot-threshold=16",
            "-raft-trailing-logs=8",
        ],
    );
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();

    // Past the snapshot threshold, so that every server snapshots.
    for i in 0..40 {
        let url = cluster.agent(leader).url(&format!("/v1/kv/metrics/k{i}"));
        assert_eq!(put(&url, "v").await.status, 200);
    }
    let client_dir = TempDir::new("metrics-cluster-client");
    let client = cluster.start_client(
        "client-1",
        &[0, 1, 2],
        client_dir.path(),
        AgentPorts::free(),
        &["-config-file", &config],
    );
    // Through the client (to whichever server it picked), and on the leader itself.
    for agent in [&client, cluster.agent(leader)] {
        let nodes = get(&agent.url("/v1/catalog/nodes")).await;
        assert_eq!(nodes.status, 200, "{}", nodes.body);
    }

    let mut follower_ids = Vec::new();
    for follower in &followers {
        follower_ids.push(node_id(cluster.agent(*follower)).await);
    }
    let mut on_leader: Vec<Wanted> = vec![
        ("consul_raft_leader_dispatchLog", &[], Expect::Timed),
        ("consul_raft_snapshot_takeSnapshot", &[], Expect::Timed),
        ("consul_raft_snapshot_create", &[], Expect::Timed),
        ("consul_raft_snapshot_persist", &[], Expect::Timed),
        ("consul_leader_reconcile", &[], Expect::Timed),
        ("consul_leader_reconcileMember", &[], Expect::Timed),
        ("consul_rpc_request", &[], Expect::Counted),
        ("consul_rpc_query", &[], Expect::Counted),
        ("consul_rpc_queries_blocking", &[], Expect::Gauge),
        ("consul_memberlist_udp_sent", LAN, Expect::Counted),
        ("consul_memberlist_udp_received", LAN, Expect::Counted),
        ("consul_memberlist_tcp_accept", LAN, Expect::Counted),
        ("consul_memberlist_tcp_connect", LAN, Expect::Counted),
        ("consul_memberlist_tcp_sent", LAN, Expect::Counted),
        ("consul_memberlist_probeNode", LAN, Expect::Timed),
        ("consul_memberlist_pushPullNode", LAN, Expect::Timed),
        ("consul_memberlist_health_score", LAN, Expect::Gauge),
        ("consul_serf_member_join", LAN, Expect::Counted),
        ("consul_serf_coordinate_adjustment_ms", LAN, Expect::Timed),
    ];
    let peers: Vec<[(&str, &str); 1]> = follower_ids
        .iter()
        .map(|id| [("peer_id", id.as_str())])
        .collect();
    for peer in &peers {
        on_leader.push((
            "consul_raft_replication_appendEntries_rpc",
            peer,
            Expect::Timed,
        ));
        on_leader.push((
            "consul_raft_replication_appendEntries_logs",
            peer,
            Expect::Counted,
        ));
        on_leader.push(("consul_raft_replication_heartbeat", peer, Expect::Timed));
    }
    wait_for(cluster.agent(leader), "the leader", &on_leader).await;

    let on_follower: &[Wanted] = &[
        ("consul_raft_rpc_appendEntries", &[], Expect::Timed),
        (
            "consul_raft_rpc_appendEntries_storeLogs",
            &[],
            Expect::Timed,
        ),
        ("consul_raft_snapshot_takeSnapshot", &[], Expect::Timed),
        ("consul_memberlist_probeNode", LAN, Expect::Timed),
    ];
    for follower in &followers {
        wait_for(cluster.agent(*follower), "a follower", on_follower).await;
    }
    wait_for(
        &client,
        "the client agent",
        &[
            ("consul_client_rpc", &[], Expect::Counted),
            ("consul_memberlist_udp_sent", LAN, Expect::Counted),
        ],
    )
    .await;

    // A follower stops (SIGTERM: it does not leave), is found failed, and comes back
    // within serf's flap timeout, restoring its snapshot as it starts.
    let stopped = followers[0];
    cluster.terminate(stopped);
    wait_for(
        cluster.agent(leader),
        "the leader after a follower stopped",
        &[("consul_serf_member_failed", LAN, Expect::Counted)],
    )
    .await;
    cluster.restart_and_wait(stopped);
    wait_for(
        cluster.agent(stopped),
        "the restarted follower",
        &[("consul_raft_fsm_restore", &[], Expect::Timed)],
    )
    .await;
    wait_for(
        cluster.agent(leader),
        "the leader after the follower came back",
        &[("consul_serf_member_flap", LAN, Expect::Counted)],
    )
    .await;
}
