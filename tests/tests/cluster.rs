//! Three server processes on loopback forming a cluster with `-bootstrap-expect=3` and
//! `-retry-join`: every server serves every endpoint; the leader killed with SIGKILL
//! under a stream of writes loses none that was acknowledged; the whole cluster
//! restarts with its state; a follower kept down catches up by snapshot; servers leave,
//! are removed and join; a leader cut off from its peers accepts no writes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{AgentPorts, TempDir, TestAgent, call, eventually, get, put};
use serde_json::Value;

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Waits until `url` answers with a JSON array of `len` items.
async fn wait_for_array(what: &str, url: &str, len: usize, within: Duration) {
    eventually(what, within, || async {
        let answer = get(url).await;
        serde_json::from_str::<Value>(&answer.body)
            .ok()
            .and_then(|body| body.as_array().map(Vec::len))
            == Some(len)
    })
    .await;
}

/// Every key under `prefix` the server at `agent` has (default consistency).
async fn keys(agent: &TestAgent, prefix: &str) -> BTreeSet<String> {
    let answer = get(&agent.url(&format!("/v1/kv/{prefix}?keys"))).await;
    if answer.status == 404 {
        return BTreeSet::new();
    }
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_str::<Vec<String>>(&answer.body)
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_form_a_cluster_and_each_serves_every_endpoint() {
    let cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(20));
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for i in 0..3 {
        let agent = cluster.agent(i);
        let leader_addr = get(&agent.url("/v1/status/leader")).await.json();
        assert_eq!(
            leader_addr,
            format!("127.0.0.1:{}", cluster.agent(leader).server_port)
        );
        let peers = get(&agent.url("/v1/status/peers")).await.json();
        assert_eq!(peers.as_array().unwrap().len(), 3, "{peers}");
        let configuration = get(&agent.url("/v1/operator/raft/configuration"))
            .await
            .json();
        let servers = configuration["Servers"].as_array().unwrap();
        let mut names: Vec<&str> = servers
            .iter()
            .map(|s| s["Node"].as_str().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["server-1", "server-2", "server-3"]);
        assert_eq!(servers.iter().filter(|s| s["Leader"] == true).count(), 1);
        assert!(servers.iter().all(|s| s["Voter"] == true));
    }
    // Exactly one server initialised the cluster.
    let bootstrapped = (0..3)
        .filter(|i| cluster.agent(*i).log().contains("bootstrap_expect reached"))
        .count();
    assert_eq!(bootstrapped, 1);

    // A write through a follower, read through the other with each consistency mode.
    let (writer, reader) = (cluster.agent(followers[0]), cluster.agent(followers[1]));
    let written = put(&writer.url("/v1/kv/cluster/greeting"), "hello").await;
    assert_eq!(written.body.trim(), "true", "{}", written.body);
    for mode in ["", "&consistent"] {
        let read = get(&reader.url(&format!("/v1/kv/cluster/greeting?raw{mode}"))).await;
        assert_eq!(read.body, "hello", "mode {mode:?}");
        assert_eq!(read.headers["x-consul-knownleader"], "true");
    }
    eventually(
        "a stale read to see the write",
        Duration::from_secs(5),
        || async {
            get(&reader.url("/v1/kv/cluster/greeting?raw&stale"))
                .await
                .body
                == "hello"
        },
    )
    .await;
    let stale = get(&reader.url("/v1/kv/cluster/greeting?stale")).await;
    let last_contact: u64 = stale.headers["x-consul-lastcontact"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(last_contact < 5000, "{last_contact}");

    // Every server registered itself; the catalog shows them from any server.
    wait_for_array(
        "three nodes in the catalog",
        &reader.url("/v1/catalog/service/consul"),
        3,
        Duration::from_secs(10),
    )
    .await;
    // Agent endpoints answer locally on every server; writes through them reach all.
    let registered = put(
        &writer.url("/v1/agent/service/register"),
        r#"{"Name": "web", "Port": 80}"#,
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let web = get(&reader.url("/v1/health/service/web")).await.json();
    assert_eq!(
        web[0]["Node"]["Node"],
        cluster.agent(followers[0]).node_name
    );
    // A session and a lock through one follower are seen by the leader.
    let session = put(&writer.url("/v1/session/create"), "{}").await.json();
    let id = session["ID"].as_str().unwrap();
    let acquired = put(
        &writer.url(&format!("/v1/kv/cluster/lock?acquire={id}")),
        "me",
    )
    .await;
    assert_eq!(acquired.body.trim(), "true");
    let lock = get(&cluster.agent(leader).url("/v1/kv/cluster/lock"))
        .await
        .json();
    assert_eq!(lock[0]["Session"], id);

    let output = cluster
        .agent(followers[1])
        .cli(&["operator", "raft", "list-peers"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
    assert_eq!(text.matches("leader").count(), 1, "{text}");
}

/// Writes unique keys through every running server until told to stop, recording
/// the keys whose write was acknowledged and the time of each success.
async fn write_stream(
    urls: Vec<String>,
    prefix: &'static str,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<(String, Instant)> {
    let client = client();
    let mut acknowledged = Vec::new();
    let mut n = 0u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let url = &urls[n as usize % urls.len()];
        let key = format!("{prefix}/{n}");
        n += 1;
        let answer = client
            .put(format!("{url}/v1/kv/{key}"))
            .body(key.clone())
            .send()
            .await;
        if let Ok(answer) = answer
            && answer.status().is_success()
            && answer.text().await.is_ok_and(|body| body.trim() == "true")
        {
            acknowledged.push((key, Instant::now()));
        }
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_under_writes_loses_no_acknowledged_write() {
    let mut cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(20));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Writers go through the followers, which survive the kill.
    let urls: Vec<String> = (0..3)
        .filter(|i| *i != leader)
        .map(|i| cluster.agent(i).url(""))
        .collect();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let prefix: &'static str = ["w0", "w1", "w2", "w3"][w];
            tokio::spawn(write_stream(urls.clone(), prefix, stop.clone()))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.kill(leader);
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    let after_kill: Vec<Instant> = acknowledged
        .iter()
        .map(|(_, at)| *at)
        .filter(|at| *at > killed)
        .collect();
    let first_after = after_kill
        .iter()
        .min()
        .expect("no write succeeded after the kill");
    eprintln!(
        "{} writes acknowledged, {} after the kill; first success {:?} after it",
        acknowledged.len(),
        after_kill.len(),
        first_after.duration_since(killed)
    );
    let new_leader = cluster.wait_for_leader(Duration::from_secs(10));
    assert_ne!(new_leader, leader);

    // The killed server comes back as a follower with everything.
    cluster.restart_and_wait(leader);
    let wanted: BTreeSet<String> = acknowledged.into_iter().map(|(key, _)| key).collect();
    assert!(wanted.len() > 20, "too few writes: {}", wanted.len());
    for i in 0..3 {
        let mut present = BTreeSet::new();
        for prefix in ["w0", "w1", "w2", "w3"] {
            present.extend(keys(cluster.agent(i), prefix).await);
        }
        let lost: Vec<&String> = wanted.difference(&present).collect();
        assert!(
            lost.is_empty(),
            "server {i} lost acknowledged writes: {lost:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_cluster_restarts_with_its_state() {
    let mut cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(20));
    for i in 0..30 {
        let via = cluster.agent(i % 3);
        let answer = put(&via.url(&format!("/v1/kv/restart/{i}")), format!("v{i}")).await;
        assert_eq!(answer.body.trim(), "true");
    }
    let before = get(&cluster.agent(leader).url("/v1/kv/restart/29"))
        .await
        .index();
    for i in 0..3 {
        cluster.kill(i);
    }
    for i in 0..3 {
        cluster.restart(i);
    }
    cluster.wait_for_leader(Duration::from_secs(30));
    for i in 0..3 {
        let agent = cluster.agent(i);
        eventually(
            "the server to be ready",
            Duration::from_secs(20),
            || async { get(&agent.url("/v1/status/leader")).await.json() != "" },
        )
        .await;
        let present = keys(agent, "restart").await;
        assert_eq!(present.len(), 30, "server {i}: {present:?}");
        let read = get(&agent.url("/v1/kv/restart/29")).await;
        assert_eq!(read.index(), before, "indexes survive the restart");
    }
    // Nobody initialised a second cluster on restart.
    let configuration = get(&cluster.agent(0).url("/v1/operator/raft/configuration"))
        .await
        .json();
    assert_eq!(configuration["Servers"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_kept_down_catches_up_by_snapshot() {
    let mut cluster =
        TestCluster::start(3, &["-raft-snapshot-threshold=64", "-raft-trailing-logs=8"]);
    let leader = cluster.wait_for_leader(Duration::from_secs(20));
    let down = (leader + 1) % 3;
    cluster.kill(down);
    let via = cluster.agent(leader);
    let client = client();
    for i in 0..400 {
        let answer = client
            .put(via.url(&format!("/v1/kv/behind/{i}")))
            .body("x")
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success());
    }
    cluster.restart_and_wait(down);
    let follower = cluster.agent(down);
    eventually(
        "the follower to catch up",
        Duration::from_secs(30),
        || async {
            let answer = get(&follower.url("/v1/kv/behind/?keys&stale")).await;
            answer.status == 200 && answer.json().as_array().map(Vec::len) == Some(400)
        },
    )
    .await;
    assert!(
        follower.log().contains("installed snapshot"),
        "the follower did not catch up through a snapshot:\n{}",
        follower.log()
    );
}

/// An agent's base URL, for when the cluster that owns the agent is changing.
struct ViaUrl(String);

impl ViaUrl {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_are_removed_leave_and_join() {
    let mut cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(20));
    let (a, b) = ((leader + 1) % 3, (leader + 2) % 3);

    // `proconsul leave` on a follower: it leaves the configuration and exits.
    let output = cluster.agent(a).cli(&["leave"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let via = cluster.agent(leader).url("");
    let via = ViaUrl(via);
    wait_for_array(
        "two voters",
        &via.url("/v1/status/peers"),
        2,
        Duration::from_secs(10),
    )
    .await;
    let put_ok = put(&via.url("/v1/kv/after-leave"), "x").await;
    assert_eq!(put_ok.body.trim(), "true");
    cluster.kill(a);

    // Started again, it finds through retry_join a cluster that does not count it, and
    // is added back (as Consul's autopilot re-adds a returning server).
    cluster.restart(a);
    wait_for_array(
        "the returning server to be a voter again",
        &via.url("/v1/status/peers"),
        3,
        Duration::from_secs(30),
    )
    .await;
    let a_agent = cluster.agent(a);
    eventually(
        "the returning server to see the writes",
        Duration::from_secs(10),
        || async { get(&a_agent.url("/v1/kv/after-leave?raw")).await.body == "x" },
    )
    .await;

    // The operator removes another: two voters are left, still a working cluster.
    let b_port = cluster.agent(b).server_port;
    let removed = call(
        "DELETE",
        &via.url(&format!(
            "/v1/operator/raft/peer?address=127.0.0.1:{b_port}"
        )),
        None,
    )
    .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    cluster.kill(b);
    let configuration = get(&via.url("/v1/operator/raft/configuration"))
        .await
        .json();
    assert_eq!(configuration["Servers"].as_array().unwrap().len(), 2);
    assert_eq!(put(&via.url("/v1/kv/alone"), "x").await.body.trim(), "true");

    // A new server with no join address is joined with `proconsul join`.
    let data = TempDir::new("joiner");
    let ports = AgentPorts::free();
    let data_dir = format!("-data-dir={}", data.path().display());
    let joiner = TestAgent::launch(
        &["-server", &data_dir, "-raft-multiplier=1"],
        Some("joiner"),
        &[],
        ports,
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let output = joiner.cli(&[
        "join",
        &format!("127.0.0.1:{}", cluster.agent(leader).server_port),
    ]);
    assert!(
        output.status.success(),
        "{}{}\n--- leader:\n{}",
        String::from_utf8_lossy(&output.stderr),
        joiner.log(),
        cluster.agent(leader).log()
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Successfully joined cluster"));
    wait_for_array(
        "the joiner to be a voter",
        &via.url("/v1/status/peers"),
        3,
        Duration::from_secs(20),
    )
    .await;
    let read = get(&joiner.url("/v1/kv/alone?raw")).await;
    assert_eq!(read.body, "x");

    // Leadership moves to the joiner on request (by its node ID).
    let joiner_id = get(&joiner.url("/v1/agent/self")).await.json()["Config"]["NodeID"]
        .as_str()
        .unwrap()
        .to_string();
    let moved = call(
        "POST",
        &via.url(&format!("/v1/operator/raft/transfer-leader?id={joiner_id}")),
        None,
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["Success"], true);
    let leader_addr = get(&joiner.url("/v1/status/leader")).await.json();
    assert_eq!(leader_addr, format!("127.0.0.1:{}", ports.server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_from_its_peers_accepts_no_writes() {
    let cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(20));
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for follower in &followers {
        cluster.agent(*follower).signal("STOP");
    }
    let isolated = cluster.agent(leader);
    let started = Instant::now();
    let refused = put(&isolated.url("/v1/kv/minority"), "never").await;
    let waited = started.elapsed();
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert!(
        refused.body.contains("No cluster leader") || refused.body.contains("timed out"),
        "{}",
        refused.body
    );
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    let leader_now = get(&isolated.url("/v1/status/leader")).await.json();
    assert_eq!(
        leader_now,
        Value::from(""),
        "a leader without a quorum is no leader"
    );
    let default_read = get(&isolated.url("/v1/kv/minority")).await;
    assert_eq!(default_read.status, 500);
    assert_eq!(default_read.body.trim(), "No cluster leader");
    let stale = get(&isolated.url("/v1/catalog/nodes?stale")).await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.headers["x-consul-knownleader"], "false");

    for follower in &followers {
        cluster.agent(*follower).signal("CONT");
    }
    cluster.wait_for_leader(Duration::from_secs(20));
    let written = put(&isolated.url("/v1/kv/healed"), "yes").await;
    assert_eq!(written.body.trim(), "true", "{}", written.body);
}
