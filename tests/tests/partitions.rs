//! Network partitions between three real server processes, made with the test fault
//! layer (`PROCONSUL_TEST_FAULTS=1`, `proconsul_tests::faults_api`): a leader cut off in
//! the minority serves no stale read once its lease is over, and the majority goes on;
//! a bridge node and a one-way link leave one leader that commits and lose no
//! acknowledged write; a forwarded write whose answer is lost is applied once, and one
//! whose connection broke after the leader applied it is sent again and acknowledged,
//! still applied once; after healing every server serves the latest value; a follower
//! cut off while the others compact their logs catches up from the leader's snapshot.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::faults_api::{self, Action, FAULTS_ENV, Leg, Rule};
use proconsul_tests::{eventually, get};

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("a client")
}

fn start() -> (TestCluster, usize) {
    let cluster = TestCluster::start_with_env(3, &[], FAULTS_ENV);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    (cluster, leader)
}

/// The server `i` names as leader, if any (its index).
async fn leader_seen_by(cluster: &TestCluster, i: usize) -> Option<usize> {
    let answer = get(&cluster.agent(i).url("/v1/status/leader")).await;
    let addr: String = serde_json::from_str(&answer.body).ok()?;
    (0..cluster.size()).find(|j| cluster.rpc_addr(*j) == addr)
}

/// Writes `key = value` through server `i`; true once acknowledged.
async fn write(cluster: &TestCluster, i: usize, key: &str, value: &str) -> bool {
    let url = cluster.agent(i).url(&format!("/v1/kv/{key}"));
    match client().put(url).body(value.to_string()).send().await {
        Ok(response) => {
            response.status() == 200 && response.text().await.is_ok_and(|body| body == "true")
        }
        Err(_) => false,
    }
}

/// Writes through server `i` until acknowledged (each key is written once with one
/// value, so a retry after an unknown outcome cannot change what is read).
async fn write_until_acknowledged(cluster: &TestCluster, i: usize, key: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !write(cluster, i, key, value).await {
        assert!(
            Instant::now() < deadline,
            "{key} = {value} never acknowledged by server {i}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A read of `key` on server `i` in a consistency mode (`""`, `consistent`, `stale`):
/// the status and, on 200, the value.
async fn read(cluster: &TestCluster, i: usize, key: &str, mode: &str) -> (u16, String) {
    let mut url = cluster.agent(i).url(&format!("/v1/kv/{key}?raw"));
    if !mode.is_empty() {
        url.push('&');
        url.push_str(mode);
    }
    match client().get(url).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(error) => (0, error.to_string()),
    }
}

/// Waits until every running server serves `value` for `key` in every mode.
async fn converged(cluster: &TestCluster, key: &str, value: &str) {
    eventually(
        &format!("every server serving {key} = {value}"),
        Duration::from_secs(30),
        || async {
            for i in cluster.running() {
                for mode in ["", "consistent", "stale"] {
                    if read(cluster, i, key, mode).await != (200, value.to_string()) {
                        return false;
                    }
                }
            }
            true
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_in_the_minority_serves_no_stale_reads() {
    let (cluster, old) = start();
    let majority: Vec<usize> = (0..3).filter(|i| *i != old).collect();
    write_until_acknowledged(&cluster, old, "register", "v1").await;
    converged(&cluster, "register", "v1").await;

    faults_api::partition(&cluster, &[old], &majority).await;
    eventually(
        "a new leader in the majority",
        Duration::from_secs(30),
        || async {
            let first = leader_seen_by(&cluster, majority[0]).await;
            first.is_some_and(|l| l != old) && leader_seen_by(&cluster, majority[1]).await == first
        },
    )
    .await;
    write_until_acknowledged(&cluster, majority[1], "register", "v2").await;

    // The old leader still believes it leads, but its lease ran out before the new
    // leader was elected: for a while, every read it answers must be the new value or
    // an error, never v1 served as current.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        for mode in ["", "consistent"] {
            let (status, body) = read(&cluster, old, "register", mode).await;
            assert!(
                status != 200 || body == "v2",
                "the cut-off leader served {body:?} ({status}) to a {mode:?} read"
            );
            assert_ne!(
                status, 200,
                "the cut-off leader cannot know v2, yet answered a {mode:?} read"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // `?stale` is allowed to be stale, and is: the minority side still answers it.
    assert_eq!(
        read(&cluster, old, "register", "stale").await,
        (200, "v1".to_string())
    );

    faults_api::heal_all(&cluster).await;
    converged(&cluster, "register", "v2").await;
    // The old leader took its place as a follower: writes through it work again.
    write_until_acknowledged(&cluster, old, "after-heal", "v3").await;
    converged(&cluster, "after-heal", "v3").await;
}

/// The servers that claim to lead, each as it sees itself.
async fn claimed_leaders(cluster: &TestCluster) -> BTreeSet<usize> {
    let mut claimed = BTreeSet::new();
    for i in cluster.running() {
        if leader_seen_by(cluster, i).await == Some(i) {
            claimed.insert(i);
        }
    }
    claimed
}

/// Writes `count` keys under `prefix` through `through` (taking turns), each until
/// acknowledged, checking between writes that at most one server claims to lead.
async fn write_under_fault(
    cluster: &TestCluster,
    through: &[usize],
    prefix: &str,
    count: usize,
) -> Vec<String> {
    let mut acknowledged = Vec::new();
    for n in 0..count {
        let key = format!("{prefix}/{n}");
        write_until_acknowledged(cluster, through[n % through.len()], &key, "x").await;
        acknowledged.push(key);
        let claimed = claimed_leaders(cluster).await;
        assert!(claimed.len() <= 1, "two leaders at once: {claimed:?}");
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_node_and_a_one_way_link_keep_one_leader_that_commits() {
    let (cluster, leader) = start();
    let others: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    let (cut, bridge) = (others[0], others[1]);

    // The leader and one follower cannot talk; the third server talks to both.
    faults_api::partition(&cluster, &[leader], &[cut]).await;
    let mut acknowledged = write_under_fault(&cluster, &[leader, bridge], "bridge", 20).await;
    // The leader's messages to one follower are lost; that follower's reach it.
    faults_api::one_way(&cluster, &[leader], &[cut]).await;
    acknowledged.extend(write_under_fault(&cluster, &[leader, bridge], "one-way", 20).await);
    // And the other way round: the follower's messages to the leader are lost.
    faults_api::one_way(&cluster, &[cut], &[leader]).await;
    acknowledged.extend(write_under_fault(&cluster, &[leader, bridge], "other-way", 20).await);

    faults_api::heal_all(&cluster).await;
    let expected: BTreeSet<String> = acknowledged.into_iter().collect();
    eventually(
        "every acknowledged write on every server",
        Duration::from_secs(30),
        || async {
            for i in cluster.running() {
                let url = cluster.agent(i).url("/v1/kv/?keys&stale");
                let answer = get(&url).await;
                let keys: BTreeSet<String> = serde_json::from_str(&answer.body).unwrap_or_default();
                if !expected.is_subset(&keys) {
                    return false;
                }
            }
            true
        },
    )
    .await;
    assert!(claimed_leaders(&cluster).await.len() <= 1);
    write_until_acknowledged(&cluster, cut, "after-heal", "v").await;
    converged(&cluster, "after-heal", "v").await;
}

/// The number of user events named `name` server `i` knows.
async fn events_named(cluster: &TestCluster, i: usize, name: &str) -> usize {
    let answer = get(&cluster.agent(i).url(&format!("/v1/event/list?name={name}"))).await;
    serde_json::from_str::<Vec<serde_json::Value>>(&answer.body)
        .map(|events| events.len())
        .unwrap_or(0)
}

/// Fires event `name` through server `i` in the background: its status (0 without an
/// answer).
fn fire(cluster: &TestCluster, i: usize, name: &str) -> tokio::task::JoinHandle<u16> {
    let url = cluster.agent(i).url(&format!("/v1/event/fire/{name}"));
    tokio::spawn(async move {
        match client().put(url).send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    })
}

/// Waits until the leader `leader` has applied the event `name`.
async fn applied_on_leader(cluster: &TestCluster, leader: usize, name: &str) {
    eventually(
        &format!("{name} applied on the leader"),
        Duration::from_secs(10),
        || async { events_named(cluster, leader, name).await >= 1 },
    )
    .await;
}

/// Waits until every server has the event `name`, and checks it has it once.
async fn applied_once_everywhere(cluster: &TestCluster, name: &str) {
    for i in 0..cluster.size() {
        eventually(
            &format!("{name} on server {i}"),
            Duration::from_secs(30),
            || async { events_named(cluster, i, name).await >= 1 },
        )
        .await;
        let applied = events_named(cluster, i, name).await;
        assert_eq!(applied, 1, "server {i}: {name} was applied {applied} times");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_write_whose_answer_is_lost_reset_or_held_is_applied_once() {
    let (cluster, leader) = start();
    let follower = (0..3).find(|i| *i != leader).expect("a follower");
    let answers_to_follower = |action| {
        Rule::link(leader, follower, action)
            .kinds(&["cluster/write"])
            .leg(Leg::Answer)
    };

    // The leader commits the forwarded write, and its answer is lost: the follower
    // cannot tell whether it was done, and says so; it must not have been done twice.
    faults_api::apply(&cluster, &[answers_to_follower(Action::Drop)], 0).await;
    let status = fire(&cluster, follower, "lost-answer")
        .await
        .expect("joins");
    assert_ne!(
        status, 200,
        "a write whose answer was lost was acknowledged"
    );
    faults_api::heal_all(&cluster).await;
    applied_once_everywhere(&cluster, "lost-answer").await;

    // The answer is refused after the leader applied the write (a connection reset):
    // the follower sends the write again under its request ID until an answer comes
    // back, and the leader's state applies it once and answers the first outcome.
    faults_api::apply(&cluster, &[answers_to_follower(Action::Refuse)], 0).await;
    let fired = fire(&cluster, follower, "reset-answer");
    applied_on_leader(&cluster, leader, "reset-answer").await;
    // Let a few attempts fail before the link heals.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!fired.is_finished(), "the write was not sent again");
    faults_api::heal_all(&cluster).await;
    assert_eq!(fired.await.expect("joins"), 200);
    applied_once_everywhere(&cluster, "reset-answer").await;

    // An answer held for a while, then released, acknowledges the one write.
    faults_api::apply(&cluster, &[answers_to_follower(Action::Hold)], 0).await;
    let fired = fire(&cluster, follower, "held-answer");
    applied_on_leader(&cluster, leader, "held-answer").await;
    assert!(!fired.is_finished(), "the answer was not held");
    faults_api::heal_all(&cluster).await;
    assert_eq!(fired.await.expect("joins"), 200);
    applied_once_everywhere(&cluster, "held-answer").await;
}

/// The JSON server `i` answers at `path` (null without an answer in 15 s).
async fn json_of(cluster: &TestCluster, i: usize, path: &str) -> serde_json::Value {
    match client().get(cluster.agent(i).url(path)).send().await {
        Ok(response) => response.json().await.unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    }
}

/// A number from `/v1/agent/self`'s `Stats.raft` of server `i`.
async fn raft_stat(cluster: &TestCluster, i: usize, name: &str) -> u64 {
    let me = json_of(cluster, i, "/v1/agent/self").await;
    me["Stats"]["raft"][name]
        .as_str()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// How many InstallSnapshot requests server `i` answered in its last finished metrics
/// interval.
async fn installed_snapshots(cluster: &TestCluster, i: usize) -> u64 {
    let metrics = json_of(cluster, i, "/v1/agent/metrics").await;
    metrics["Samples"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|sample| {
            sample["Name"]
                .as_str()
                .is_some_and(|name| name.ends_with("raft.rpc.installSnapshot"))
        })
        .filter_map(|sample| sample["Count"].as_u64())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_cut_off_while_the_log_is_compacted_catches_up_from_a_snapshot() {
    // Snapshots every 32 entries, 8 kept behind each: a follower that misses a few
    // dozen writes can only catch up from the leader's snapshot.
    let dir = proconsul_tests::TempDir::new("snapshot-partition");
    let config = dir.path().join("raft.hcl");
    std::fs::write(
        &config,
        "raft_snapshot_threshold = 32\nraft_trailing_logs = 8\n",
    )
    .expect("writes the config");
    let config = config.display().to_string();
    let cluster = TestCluster::start_with_env(3, &["-config-file", &config], FAULTS_ENV);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let cut = (0..3).find(|i| *i != leader).expect("a follower");
    let others: Vec<usize> = (0..3).filter(|i| *i != cut).collect();
    write_until_acknowledged(&cluster, leader, "before", "v0").await;
    converged(&cluster, "before", "v0").await;

    faults_api::partition(&cluster, &[cut], &others).await;
    let behind = raft_stat(&cluster, cut, "last_log_index").await;
    // Writes until the majority's log no longer holds what the cut-off follower lacks
    // (its compaction keeps the 8 entries before a snapshot).
    let mut acknowledged = Vec::new();
    let mut n = 0;
    loop {
        let key = format!("during/{n}");
        write_until_acknowledged(&cluster, others[n % 2], &key, &format!("v{n}")).await;
        acknowledged.push((key, format!("v{n}")));
        n += 1;
        let mut compacted_past_it = true;
        for i in &others {
            compacted_past_it &= raft_stat(&cluster, *i, "last_snapshot_index").await > behind + 8;
        }
        if compacted_past_it && n >= 64 {
            break;
        }
        assert!(
            n < 2000,
            "the majority never took a snapshot past index {behind}"
        );
    }
    let cut_snapshot_before = raft_stat(&cluster, cut, "last_snapshot_index").await;
    assert!(
        cut_snapshot_before <= behind,
        "the cut-off follower moved on while partitioned"
    );

    faults_api::heal_all(&cluster).await;
    // The follower answers the leader's InstallSnapshot (timed as
    // `raft.rpc.installSnapshot`, seen in the metrics of the 10 s interval it fell in).
    eventually(
        "the cut-off follower installing a snapshot",
        Duration::from_secs(40),
        || async { installed_snapshots(&cluster, cut).await > 0 },
    )
    .await;
    for (key, value) in &acknowledged {
        converged(&cluster, key, value).await;
    }
    // It caught up by installing the leader's snapshot, not by replaying entries the
    // leader no longer has.
    let leaders_snapshot = raft_stat(&cluster, others[0], "last_snapshot_index")
        .await
        .min(raft_stat(&cluster, others[1], "last_snapshot_index").await);
    let cut_snapshot = raft_stat(&cluster, cut, "last_snapshot_index").await;
    assert!(
        cut_snapshot > behind + 8,
        "the follower's snapshot index is {cut_snapshot}; the others' {leaders_snapshot}, it was at {behind}"
    );
    // And it is a working member again.
    write_until_acknowledged(&cluster, cut, "after-heal", "v").await;
    converged(&cluster, "after-heal", "v").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_endpoint_exists_only_under_the_test_switch() {
    let (cluster, _) = start();
    let url = cluster.agent(0).url("/v1/internal/test/faults");
    let rules = r#"{"Seed": 9, "Rules": [{"From": "127.0.0.1:1", "Action": {"Type": "Delay", "BaseMs": 5}}]}"#;
    let answer = proconsul_tests::put(&url, rules).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let shown = get(&url).await.json();
    assert_eq!(shown["Seed"], 9);
    assert_eq!(shown["Rules"][0]["Action"]["Type"], "Delay");
    let refused = proconsul_tests::put(&url, "{\"Rules\": [{}]}").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let healed = proconsul_tests::call("DELETE", &url, None).await;
    assert_eq!(healed.status, 200);
    assert_eq!(get(&url).await.json()["Rules"], serde_json::json!([]));

    let plain = TestCluster::start(1, &[]);
    let absent = get(&plain.agent(0).url("/v1/internal/test/faults")).await;
    assert_eq!(absent.status, 404);
}
