//! Autopilot against real servers: the replicated configuration (defaults from the
//! agent's `autopilot` block, PUT, check-and-set, the CLI), the servers' health and
//! autopilot's state in a 3-server cluster (healthy, then a follower killed: 429), and a
//! server joining a running cluster that becomes a voter only once it has stayed healthy
//! for `server_stabilization_time`.

use std::time::{Duration, Instant, SystemTime};

use proconsul_api::go_time::GoTime;
use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{AgentPorts, TempDir, TestAgent, get, put, write_file};
use serde_json::{Value, json};

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// `expected`, sorted: the fields of a struct of Consul's `api` package that are written
/// (no `omitempty` field of these is ever set here).
fn golden(expected: &[&'static str]) -> Vec<&'static str> {
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    expected
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_configuration_is_replicated_checked_and_set_and_read_by_the_cli() {
    let dir = TempDir::new("autopilot-config");
    let file = write_file(
        dir.path(),
        "autopilot.json",
        &json!({"autopilot": {"max_trailing_logs": 99, "server_stabilization_time": "3s"}})
            .to_string(),
    );
    let agent = TestAgent::start_with(&["-config-file", &file]);
    let url = agent.url("/v1/operator/autopilot/configuration");

    // Before anything is written: the agent's block over Consul's defaults.
    let config = get(&url).await;
    assert_eq!(config.status, 200);
    let config = config.json();
    assert_eq!(config["CleanupDeadServers"], true);
    assert_eq!(config["LastContactThreshold"], "200ms");
    assert_eq!(config["MaxTrailingLogs"], 99);
    assert_eq!(config["ServerStabilizationTime"], "3s");
    assert_eq!(config["MinQuorum"], 0);
    // `api.AutopilotConfiguration`, every field.
    assert_eq!(
        keys(&config),
        golden(&[
            "CleanupDeadServers",
            "LastContactThreshold",
            "MaxTrailingLogs",
            "MinQuorum",
            "ServerStabilizationTime",
            "RedundancyZoneTag",
            "DisableUpgradeMigration",
            "UpgradeVersionTag",
            "CreateIndex",
            "ModifyIndex",
        ])
    );

    // PUT as the Go client sends it: what is missing is Go's zero value.
    let written = put(&url, r#"{"CleanupDeadServers": false}"#).await;
    assert_eq!(written.status, 200, "{}", written.body);
    // Consul answers `true` for a write without `?cas` (py-consul reads the boolean).
    assert_eq!(written.body.trim(), "true");
    let config = get(&url).await.json();
    assert_eq!(config["CleanupDeadServers"], false);
    assert_eq!(config["LastContactThreshold"], "0s");
    assert_eq!(config["MaxTrailingLogs"], 0);
    let index = config["ModifyIndex"].as_u64().unwrap();
    assert!(index > 0 && config["CreateIndex"] == index, "{config}");

    // Check-and-set on the ModifyIndex.
    let stale = put(
        &format!("{url}?cas={}", index - 1),
        r#"{"MaxTrailingLogs": 5}"#,
    )
    .await;
    assert_eq!((stale.status, stale.body.trim()), (200, "false"));
    let body = r#"{"MaxTrailingLogs": 5, "LastContactThreshold": "1s", "ServerStabilizationTime": 2000000000}"#;
    let fresh = put(&format!("{url}?cas={index}"), body).await;
    assert_eq!((fresh.status, fresh.body.trim()), (200, "true"));
    let config = get(&url).await.json();
    assert_eq!(config["MaxTrailingLogs"], 5);
    assert_eq!(config["LastContactThreshold"], "1s");
    assert_eq!(config["ServerStabilizationTime"], "2s");
    assert_eq!(config["CreateIndex"], index);
    let bad = put(&url, r#"{"LastContactThreshold": "soon"}"#).await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The CLI: Consul's lines, and set-config changing only what it is given.
    let shown = agent.cli(&["operator", "autopilot", "get-config"]);
    assert!(shown.status.success(), "{shown:?}");
    assert!(
        stdout(&shown).contains("MaxTrailingLogs = 5\n"),
        "{}",
        stdout(&shown)
    );
    assert!(stdout(&shown).contains("LastContactThreshold = 1s\n"));
    let set = agent.cli(&[
        "operator",
        "autopilot",
        "set-config",
        "-max-trailing-logs=7",
    ]);
    assert!(set.status.success(), "{set:?}");
    assert_eq!(stdout(&set), "Configuration updated!\n");
    let config = get(&url).await.json();
    assert_eq!(config["MaxTrailingLogs"], 7);
    assert_eq!(config["LastContactThreshold"], "1s");

    // Decoded as Go decodes it: `null` is the zero value, an unknown field is ignored,
    // names match whatever their case.
    let body = r#"{"MaxTrailingLogs": null, "LastContactThreshold": null, "Bogus": 1,
                   "cleanupdeadservers": true}"#;
    assert_eq!(put(&url, body).await.status, 200);
    let config = get(&url).await.json();
    assert_eq!(config["MaxTrailingLogs"], 0);
    assert_eq!(config["LastContactThreshold"], "0s");
    assert_eq!(config["CleanupDeadServers"], true);
}

/// Polls `/v1/operator/autopilot/health` on `agent` until `done` says yes.
async fn health_until(agent: &TestAgent, done: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = get(&agent.url("/v1/operator/autopilot/health")).await;
        if answer.status == 200 || answer.status == 429 {
            let body = answer.json();
            if done(answer.status, &body) {
                return (answer.status, body);
            }
        }
        assert!(
            Instant::now() < deadline,
            "{}: {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn health_and_state_follow_the_servers() {
    // Dead-server cleanup off: the killed follower must stay in the configuration for
    // the leader to report it unhealthy (cleanup has a test of its own).
    let dir = TempDir::new("autopilot-health");
    let file = write_file(
        dir.path(),
        "autopilot.json",
        &json!({"autopilot": {"cleanup_dead_servers": false}}).to_string(),
    );
    let config_flag = format!("-config-file={file}");
    let mut cluster = TestCluster::start(3, &[&config_flag]);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let follower = (leader + 1) % 3;
    let asked = (leader + 2) % 3;
    // Every server answers with the leader's view.
    let (status, health) = health_until(cluster.agent(asked), |status, _| status == 200).await;
    assert_eq!(status, 200);
    assert_eq!(health["Healthy"], true);
    assert_eq!(health["FailureTolerance"], 1);
    let servers = health["Servers"].as_array().unwrap();
    assert_eq!(servers.len(), 3);
    assert_eq!(servers.iter().filter(|s| s["Leader"] == true).count(), 1);
    // `api.OperatorHealthReply` and `api.ServerHealth`, every field.
    assert_eq!(
        keys(&health),
        golden(&["Healthy", "FailureTolerance", "Servers"])
    );
    for server in servers {
        assert_eq!(
            keys(server),
            golden(&[
                "ID",
                "Name",
                "Address",
                "SerfStatus",
                "Version",
                "Leader",
                "LastContact",
                "LastTerm",
                "LastIndex",
                "Healthy",
                "Voter",
                "StableSince",
            ])
        );
        assert_eq!(server["Healthy"], true, "{server}");
        assert_eq!(server["Voter"], true);
        assert_eq!(server["SerfStatus"], "alive");
        assert!(server["StableSince"].as_str().unwrap().ends_with('Z'));
        assert!(server["LastContact"].as_str().unwrap().ends_with('s'));
    }
    let state = get(&cluster.agent(asked).url("/v1/operator/autopilot/state")).await;
    assert_eq!(state.status, 200);
    let state = state.json();
    assert_eq!(state["Voters"].as_array().unwrap().len(), 3);
    let leader_id = state["Leader"].as_str().unwrap();
    assert_eq!(state["Servers"][leader_id]["Status"], "leader");
    assert_eq!(state["Servers"].as_object().unwrap().len(), 3);
    // `api.AutopilotState` and `api.AutopilotServer`: every field but the `omitempty`
    // ones Enterprise fills (ReadReplicas, RedundancyZones, Upgrade, RedundancyZone,
    // UpgradeVersion).
    assert_eq!(
        keys(&state),
        golden(&[
            "Healthy",
            "FailureTolerance",
            "OptimisticFailureTolerance",
            "Servers",
            "Leader",
            "Voters",
        ])
    );
    assert_eq!(
        keys(&state["Servers"][leader_id]),
        golden(&[
            "ID",
            "Name",
            "Address",
            "NodeStatus",
            "Version",
            "LastContact",
            "LastTerm",
            "LastIndex",
            "Healthy",
            "StableSince",
            "ReadReplica",
            "Status",
            "Meta",
            "NodeType",
        ])
    );

    // A follower dies: the leader stops hearing from it, the answer turns 429.
    let killed_name = cluster.agent(follower).node_name.clone();
    cluster.kill(follower);
    let (status, health) = health_until(cluster.agent(asked), |status, _| status == 429).await;
    assert_eq!(status, 429);
    assert_eq!(health["Healthy"], false);
    assert_eq!(health["FailureTolerance"], 0);
    let dead = health["Servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|server| server["Name"] == killed_name.as_str())
        .unwrap()
        .clone();
    assert_eq!(dead["Healthy"], false, "{dead}");
    // and the CLI shows the state.
    let shown = cluster
        .agent(asked)
        .cli(&["operator", "autopilot", "state"]);
    assert!(shown.status.success(), "{shown:?}");
    assert!(
        stdout(&shown).contains("Healthy:                      false"),
        "{}",
        stdout(&shown)
    );
}

#[tokio::test]
async fn a_joining_server_votes_only_after_it_stayed_healthy_long_enough() {
    let dir = TempDir::new("autopilot-join");
    let file = write_file(
        dir.path(),
        "autopilot.json",
        &json!({"autopilot": {"server_stabilization_time": "4s"}}).to_string(),
    );
    let config_flag = format!("-config-file={file}");
    let cluster = TestCluster::start(3, &[&config_flag]);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let data = TempDir::new("autopilot-join-data");
    let mut mode = vec![
        "-server".to_string(),
        format!("-data-dir={}", data.path().display()),
        "-raft-multiplier=1".to_string(),
        "-retry-interval=200ms".to_string(),
    ];
    for i in 0..3 {
        mode.push(format!(
            "-retry-join=127.0.0.1:{}",
            cluster.agent(i).server_port
        ));
    }
    let mode: Vec<&str> = mode.iter().map(String::as_str).collect();
    let _newcomer = TestAgent::launch(&mode, Some("server-4"), &[&config_flag], AgentPorts::free());

    // It is in the configuration as a non-voter first, then a voter.
    let configuration_url = cluster.agent(leader).url("/v1/operator/raft/configuration");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen_as_non_voter = false;
    let promoted_by = loop {
        let configuration = get(&configuration_url).await.json();
        let newcomer = configuration["Servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|server| server["Node"] == "server-4")
            .cloned();
        match newcomer {
            Some(server) if server["Voter"] == true => break SystemTime::now(),
            Some(_) => seen_as_non_voter = true,
            None => {}
        }
        assert!(Instant::now() < deadline, "server-4 never became a voter");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        seen_as_non_voter,
        "server-4 was a voter before it stabilized"
    );
    // Promoted no sooner than 4 s after it turned healthy (as the leader recorded it).
    let state = get(&cluster.agent(leader).url("/v1/operator/autopilot/state"))
        .await
        .json();
    let newcomer = state["Servers"]
        .as_object()
        .unwrap()
        .values()
        .find(|server| server["Name"] == "server-4")
        .unwrap()
        .clone();
    assert_eq!(newcomer["Status"], "voter");
    let stable_since = GoTime::parse_rfc3339(newcomer["StableSince"].as_str().unwrap()).unwrap();
    let waited = GoTime::from(promoted_by).duration_since(stable_since);
    assert!(
        waited.is_some_and(|waited| waited >= Duration::from_secs(4)),
        "promoted {waited:?} after it turned healthy"
    );
    assert_eq!(state["Voters"].as_array().unwrap().len(), 4);
}

/// The servers of `agent`'s Raft configuration, by node name.
async fn raft_servers(agent: &TestAgent) -> Vec<String> {
    let configuration = get(&agent.url("/v1/operator/raft/configuration"))
        .await
        .json();
    let mut names: Vec<String> = configuration["Servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|server| server["Node"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_dead_server_is_removed_only_with_cleanup_dead_servers() {
    for cleanup in [false, true] {
        let dir = TempDir::new("autopilot-cleanup");
        let file = write_file(
            dir.path(),
            "autopilot.json",
            &json!({"autopilot": {"cleanup_dead_servers": cleanup}}).to_string(),
        );
        let config_flag = format!("-config-file={file}");
        let mut cluster = TestCluster::start(3, &[&config_flag]);
        let leader = cluster.wait_for_leader(Duration::from_secs(30));
        let dead = (leader + 1) % 3;
        let dead_name = cluster.name(dead).to_string();
        let watcher = cluster.agent(leader);
        assert_eq!(raft_servers(watcher).await.len(), 3);
        cluster.kill(dead);
        // Gossip declares it failed first.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let members = get(&cluster.agent(leader).url("/v1/agent/members"))
                .await
                .json();
            let failed = members
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["Name"] == dead_name.as_str() && m["Status"] == 4);
            if failed {
                break;
            }
            assert!(Instant::now() < deadline, "the killed server never failed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let watcher = cluster.agent(leader);
        if cleanup {
            let deadline = Instant::now() + Duration::from_secs(30);
            while raft_servers(watcher).await.contains(&dead_name) {
                assert!(
                    Instant::now() < deadline,
                    "the dead server was never removed"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        } else {
            // Several cleanup rounds (every 5 s) later, it is still a voter.
            tokio::time::sleep(Duration::from_secs(12)).await;
            assert!(raft_servers(watcher).await.contains(&dead_name));
        }
    }
}

#[tokio::test]
async fn usage_counts_the_catalog_as_consul_does() {
    let agent = TestAgent::start();
    let register = |body: serde_json::Value| {
        let url = agent.url("/v1/catalog/register");
        async move {
            let answer = put(&url, body.to_string()).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
        }
    };
    for (id, name) in [("redis1", "redis"), ("redis2", "redis")] {
        register(json!({"Node": "foobar", "Address": "192.168.10.10",
            "Service": {"ID": id, "Service": name, "Port": 8000}}))
        .await;
    }
    register(json!({"Node": "foobar", "Address": "192.168.10.10",
        "Service": {"Kind": "connect-proxy", "ID": "proxy1", "Service": "proxy", "Port": 9000,
            "Proxy": {"DestinationServiceName": "foo"}}}))
    .await;
    register(json!({"Node": "foobar", "Address": "192.168.10.10",
        "Service": {"ID": "web-native", "Service": "web", "Port": 8002, "Connect": {"Native": true}}}))
    .await;
    let answer = get(&agent.url("/v1/operator/usage")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    let dc1 = &body["Usage"]["dc1"];
    assert_eq!(dc1["Nodes"], 2, "{body}");
    assert_eq!(dc1["Services"], 4, "{body}");
    assert_eq!(dc1["ServiceInstances"], 5, "{body}");
    assert_eq!(dc1["BillableServiceInstances"], 3, "{body}");
    assert_eq!(
        dc1["ConnectServiceInstances"],
        json!({"api-gateway": 0, "connect-native": 1, "connect-proxy": 1,
            "ingress-gateway": 0, "mesh-gateway": 0, "terminating-gateway": 0})
    );
    assert_eq!(body["KnownLeader"], true);
    assert!(body["Index"].as_u64().unwrap() > 0);
    assert!(answer.headers.get("x-consul-index").is_some());
}
