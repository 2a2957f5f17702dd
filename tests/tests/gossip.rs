//! Gossip membership with real processes on loopback: servers that find each other
//! through one gossip address, `/v1/agent/members` and `proconsul members`, the
//! leader's reconciliation of members into the catalog (`serfHealth`), failure
//! (SIGKILL, SIGSTOP) and recovery, `leave`, `force-leave -prune`, gossip encryption
//! (a wrong key refused, keys rotated under traffic) and the keyring CLI.

use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{AgentPorts, TempDir, TestAgent, get, put};
use serde_json::Value;

/// Polls `check` until it answers `Some`, or fails with `what` after `within`.
async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `/v1/agent/members` of `agent`, as `(name, status)` pairs sorted by name.
async fn members(agent: &TestAgent) -> Vec<(String, u64)> {
    let answer = get(&agent.url("/v1/agent/members")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut members: Vec<(String, u64)> = answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().to_string(),
                m["Status"].as_u64().unwrap(),
            )
        })
        .collect();
    members.sort();
    members
}

/// The status of `node`'s `serfHealth` check in `agent`'s catalog (`None`: no such check).
async fn serf_health(agent: &TestAgent, node: &str) -> Option<String> {
    let answer = get(&agent.url(&format!("/v1/health/node/{node}"))).await;
    answer
        .json()
        .as_array()?
        .iter()
        .find(|check| check["CheckID"] == "serfHealth")
        .map(|check| check["Status"].as_str().unwrap().to_string())
}

/// Waits until `agent` lists member `name` with `status` (fails after `within`).
async fn until_member(agent: &TestAgent, name: &str, status: u64, within: Duration) {
    eventually(
        within,
        &format!("member {name} with status {status}"),
        || async {
            members(agent)
                .await
                .iter()
                .any(|(member, found)| member == name && *found == status)
                .then_some(())
        },
    )
    .await
}

/// Waits until `agent` lists exactly `count` alive members (fails after `within`).
async fn until_alive(agent: &TestAgent, count: usize, within: Duration) {
    eventually(within, &format!("{count} alive members"), || async {
        (members(agent)
            .await
            .iter()
            .filter(|(_, status)| *status == ALIVE)
            .count()
            == count)
            .then_some(())
    })
    .await
}

/// Waits until `node`'s `serfHealth` in `agent`'s catalog is `status` (fails after `within`).
async fn until_serf_health(agent: &TestAgent, node: &str, status: &str, within: Duration) {
    eventually(within, &format!("{node}'s serfHealth {status}"), || async {
        (serf_health(agent, node).await.as_deref() == Some(status)).then_some(())
    })
    .await
}

/// The nodes of `agent`'s catalog.
async fn catalog_nodes(agent: &TestAgent) -> Vec<String> {
    let answer = get(&agent.url("/v1/catalog/nodes")).await;
    let mut nodes: Vec<String> = answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["Node"].as_str().unwrap().to_string())
        .collect();
    nodes.sort();
    nodes
}

const ALIVE: u64 = 1;
const LEFT: u64 = 3;
const FAILED: u64 = 4;

fn names(cluster: &TestCluster) -> Vec<String> {
    (0..cluster.size())
        .map(|i| cluster.name(i).to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_meet_through_gossip_and_the_leader_reconciles_them() {
    let cluster = TestCluster::start(3, &[]);
    let expected: Vec<(String, u64)> = names(&cluster).into_iter().map(|n| (n, ALIVE)).collect();
    for i in 0..3 {
        let agent = cluster.agent(i);
        eventually(
            Duration::from_secs(30),
            "every server alive everywhere",
            || async { (members(agent).await == expected).then_some(()) },
        )
        .await;
    }
    // Consul's member shape and server tags.
    let answer = get(&cluster.agent(0).url("/v1/agent/members")).await;
    let first = &answer.json()[0];
    for key in [
        "Name",
        "Addr",
        "Port",
        "Tags",
        "Status",
        "ProtocolMin",
        "ProtocolMax",
        "ProtocolCur",
        "DelegateMin",
        "DelegateMax",
        "DelegateCur",
    ] {
        assert!(first.get(key).is_some(), "{key} missing from {first}");
    }
    assert_eq!(first["Tags"]["role"], "consul");
    assert_eq!(first["Tags"]["dc"], "dc1");
    assert!(
        first["Tags"]["port"]
            .as_str()
            .unwrap()
            .parse::<u16>()
            .is_ok()
    );
    // Every server in every catalog, with serfHealth passing and the consul service.
    for i in 0..3 {
        let agent = cluster.agent(i);
        for name in names(&cluster) {
            until_serf_health(agent, &name, "passing", Duration::from_secs(30)).await;
        }
        let consul = get(&agent.url("/v1/catalog/service/consul")).await.json();
        assert_eq!(consul.as_array().unwrap().len(), 3, "{consul}");
    }
    // `?filter` and `?wan` on members.
    let filtered = get(&cluster.agent(1).url(&format!(
        "/v1/agent/members?filter={}",
        "Name%20%3D%3D%20%22server-2%22"
    )))
    .await
    .json();
    assert_eq!(filtered.as_array().unwrap().len(), 1, "{filtered}");
    let wan = get(&cluster.agent(1).url("/v1/agent/members?wan=1"))
        .await
        .json();
    assert!(
        wan.as_array()
            .unwrap()
            .iter()
            .all(|m| m["Name"].as_str().unwrap().ends_with(".dc1")),
        "{wan}"
    );
    // `proconsul members` with Consul's columns, `-status` and exit code 2.
    let output = cluster.agent(0).cli(&["members"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.starts_with("Node") && text.contains("Address") && text.contains("Build"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains("alive")).count(),
        3,
        "{text}"
    );
    let none = cluster.agent(0).cli(&["members", "-status=failed"]);
    assert_eq!(none.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_server_turns_critical_and_comes_back_passing() {
    let mut cluster = TestCluster::start(3, &["-reconcile-interval=2s"]);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let victim = (leader + 1) % 3;
    let watcher = (leader + 2) % 3;
    let victim_name = cluster.name(victim).to_string();
    {
        let agent = cluster.agent(watcher);
        until_serf_health(agent, &victim_name, "passing", Duration::from_secs(30)).await;
    }
    // A session on the victim's node (bound to its serfHealth, the default) holds a lock.
    let session = {
        let agent = cluster.agent(watcher);
        let created = put(
            &agent.url("/v1/session/create"),
            format!(r#"{{"Node": "{victim_name}", "Name": "lock"}}"#),
        )
        .await;
        assert_eq!(created.status, 200, "{}", created.body);
        let id = created.json()["ID"].as_str().unwrap().to_string();
        let acquired = put(&agent.url(&format!("/v1/kv/held?acquire={id}")), "x").await;
        assert_eq!(acquired.body.trim(), "true");
        id
    };
    cluster.kill(victim);
    {
        let agent = cluster.agent(watcher);
        until_member(agent, &victim_name, FAILED, Duration::from_secs(30)).await;
        until_serf_health(agent, &victim_name, "critical", Duration::from_secs(30)).await;
        // Its node stays in the catalog, and `?passing` leaves its consul service out.
        assert!(catalog_nodes(agent).await.contains(&victim_name));
        // Its session ended and released the lock.
        eventually(
            Duration::from_secs(30),
            "the session invalidated",
            || async {
                let info = get(&agent.url(&format!("/v1/session/info/{session}"))).await;
                let gone = info.json().as_array().is_none_or(|a| a.is_empty());
                let kv = get(&agent.url("/v1/kv/held")).await.json();
                (gone && kv[0].get("Session").is_none_or(|s| s.is_null() || s == "")).then_some(())
            },
        )
        .await;
        // DNS answers leave it out.
        let dns = proconsul_tests::dig::dig(agent.dns_port, &["consul.service.consul", "SRV"]);
        let targets = dns.answers("SRV").join(" ");
        assert!(!targets.contains(&victim_name), "{targets}");
        assert!(!targets.is_empty(), "the live servers are still answered");
        let passing = get(&agent.url("/v1/health/service/consul?passing"))
            .await
            .json();
        assert!(
            passing
                .as_array()
                .unwrap()
                .iter()
                .all(|entry| entry["Node"]["Node"] != victim_name.as_str()),
            "{passing}"
        );
    }
    cluster.restart_and_wait(victim);
    let agent = cluster.agent(watcher);
    until_member(agent, &victim_name, ALIVE, Duration::from_secs(30)).await;
    until_serf_health(agent, &victim_name, "passing", Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_server_fails_and_resumes_alive_with_no_manual_step() {
    let cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let paused = (leader + 1) % 3;
    let watcher = cluster.agent(leader);
    let name = cluster.name(paused).to_string();
    until_alive(watcher, 3, Duration::from_secs(30)).await;
    cluster.agent(paused).signal("STOP");
    // A loaded watcher probes more slowly (Lifeguard's awareness): a generous deadline.
    until_member(watcher, &name, FAILED, Duration::from_secs(60)).await;
    cluster.agent(paused).signal("CONT");
    until_member(watcher, &name, ALIVE, Duration::from_secs(60)).await;
    until_serf_health(watcher, &name, "passing", Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn leave_deregisters_the_node() {
    let mut cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let leaving = (leader + 1) % 3;
    let leaving_name = cluster.name(leaving).to_string();
    {
        let watcher = cluster.agent(leader);
        eventually(Duration::from_secs(30), "all in the catalog", || async {
            (catalog_nodes(watcher).await.len() == 3).then_some(())
        })
        .await;
    }
    let output = cluster.agent(leaving).cli(&["leave"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Graceful leave complete"));
    cluster.forget(leaving);
    let watcher = cluster.agent(leader);
    until_member(watcher, &leaving_name, LEFT, Duration::from_secs(30)).await;
    eventually(
        Duration::from_secs(30),
        "the leaver deregistered",
        || async { (!catalog_nodes(watcher).await.contains(&leaving_name)).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn force_leave_prune_erases_a_failed_member() {
    let mut cluster = TestCluster::start(3, &[]);
    let leader = cluster.wait_for_leader(Duration::from_secs(30));
    let killed = (leader + 2) % 3;
    let killed_name = cluster.name(killed).to_string();
    {
        let watcher = cluster.agent(leader);
        eventually(Duration::from_secs(30), "all in the catalog", || async {
            (catalog_nodes(watcher).await.len() == 3).then_some(())
        })
        .await;
    }
    cluster.kill(killed);
    let watcher = cluster.agent(leader);
    until_member(watcher, &killed_name, FAILED, Duration::from_secs(30)).await;
    let unknown = watcher.cli(&["force-leave", "no-such-node"]);
    assert_eq!(unknown.status.code(), Some(1));
    let output = watcher.cli(&["force-leave", "-prune", &killed_name]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eventually(
        Duration::from_secs(30),
        "the pruned member gone",
        || async {
            (!members(watcher)
                .await
                .iter()
                .any(|(n, _)| *n == killed_name))
            .then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "the pruned node deregistered",
        || async { (!catalog_nodes(watcher).await.contains(&killed_name)).then_some(()) },
    )
    .await;
}

/// Keys from `proconsul keygen` (32 random bytes, base64).
fn keygen() -> String {
    let output = std::process::Command::new(proconsul_tests::binary())
        .arg("keygen")
        .output()
        .unwrap();
    assert!(output.status.success());
    let key = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert_eq!(key.len(), 44, "{key}");
    key
}

async fn keyring(agent: &TestAgent) -> Value {
    let answer = get(&agent.url("/v1/operator/keyring")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

#[tokio::test(flavor = "multi_thread")]
async fn gossip_encryption_refuses_a_wrong_key_and_rotates_under_traffic() {
    let first = keygen();
    let second = keygen();
    assert_ne!(first, second);
    let encrypt = format!("-encrypt={first}");
    let cluster = TestCluster::start(3, &[&encrypt]);
    let agent = cluster.agent(0);
    until_alive(agent, 3, Duration::from_secs(30)).await;
    let listed = keyring(agent).await;
    assert_eq!(listed[0]["Keys"][&first], 3, "{listed}");
    assert_eq!(listed[0]["PrimaryKeys"][&first], 3, "{listed}");
    assert_eq!(listed[0]["NumNodes"], 3, "{listed}");

    // An agent with another key cannot join, and nobody learns of it.
    let stranger_dir = TempDir::new("stranger");
    let mut args = vec![
        "-server".to_string(),
        format!("-data-dir={}", stranger_dir.path().display()),
        format!("-encrypt={second}"),
        format!("-retry-join=127.0.0.1:{}", cluster.serf_port(0)),
        "-retry-interval=200ms".to_string(),
    ];
    args.push("-bootstrap-expect=3".to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stranger = TestAgent::launch(&[], Some("stranger"), &args, AgentPorts::free());
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        !members(agent).await.iter().any(|(n, _)| n == "stranger"),
        "the stranger joined"
    );
    let seen_by_stranger = get(&stranger.url("/v1/agent/members")).await.json();
    assert_eq!(
        seen_by_stranger.as_array().unwrap().len(),
        1,
        "{seen_by_stranger}"
    );
    drop(stranger);

    // Rotation under traffic: writes keep going while the key is installed, used and the
    // old one removed; no member is lost.
    let writer = {
        let url = cluster.agent(1).url("/v1/kv/rotation");
        tokio::spawn(async move {
            for i in 0..200u32 {
                let answer = put(&url, i.to_string()).await;
                assert_eq!(answer.status, 200, "{}", answer.body);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    for args in [
        vec!["keyring", "-install", second.as_str()],
        vec!["keyring", "-use", second.as_str()],
        vec!["keyring", "-remove", first.as_str()],
    ] {
        let output = agent.cli(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    writer.await.unwrap();
    let listed = keyring(agent).await;
    assert_eq!(listed[0]["Keys"][&second], 3, "{listed}");
    assert!(listed[0]["Keys"].get(&first).is_none(), "{listed}");
    assert_eq!(listed[0]["PrimaryKeys"][&second], 3, "{listed}");
    let output = agent.cli(&["keyring", "-list"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(&format!("{second} [3/3]")), "{text}");
    // Removing the primary key is refused.
    let refused = agent.cli(&["keyring", "-remove", second.as_str()]);
    assert_eq!(refused.status.code(), Some(1));
    for i in 0..3 {
        let agent = cluster.agent(i);
        until_alive(agent, 3, Duration::from_secs(30)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_encryption_the_keyring_answers_as_consul() {
    let agent = TestAgent::start();
    let answer = get(&agent.url("/v1/operator/keyring")).await;
    assert_eq!(answer.status, 500);
    assert!(
        answer.body.contains("encryption not enabled"),
        "{}",
        answer.body
    );
    // A dev agent is its own only member.
    let listed = members(&agent).await;
    assert_eq!(listed, vec![(agent.node_name.clone(), ALIVE)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_stopped_by_sigint_fails_unless_told_to_leave() {
    // Consul's defaults: servers skip the leave on SIGINT; `skip_leave_on_interrupt =
    // false` makes them leave.
    let dir = TempDir::new("interrupt");
    let file = proconsul_tests::write_file(
        dir.path(),
        "leave.json",
        r#"{"skip_leave_on_interrupt": false}"#,
    );
    for (extra, expected) in [(None, FAILED), (Some(format!("-config-file={file}")), LEFT)] {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let cluster = TestCluster::start(3, &extra);
        let leader = cluster.wait_for_leader(Duration::from_secs(30));
        let stopped = (leader + 1) % 3;
        let name = cluster.name(stopped).to_string();
        let watcher = cluster.agent(leader);
        until_alive(watcher, 3, Duration::from_secs(30)).await;
        cluster.agent(stopped).signal("INT");
        until_member(watcher, &name, expected, Duration::from_secs(30)).await;
    }
}

/// `(name, status, address)` of every member `agent` knows.
async fn member_addresses(agent: &TestAgent) -> Vec<(String, u64, String)> {
    let answer = get(&agent.url("/v1/agent/members")).await.json();
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().to_string(),
                m["Status"].as_u64().unwrap(),
                m["Addr"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The nodes whose `web` instance `agent` answers with `?passing`.
async fn passing_web(agent: &TestAgent) -> Vec<String> {
    let answer = get(&agent.url("/v1/health/service/web?passing"))
        .await
        .json();
    let mut nodes: Vec<String> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["Node"]["Node"].as_str().unwrap().to_string())
        .collect();
    nodes.sort();
    nodes
}

#[tokio::test(flavor = "multi_thread")]
async fn client_agents_fail_recover_leave_and_return_with_a_new_address() {
    let cluster = TestCluster::start(3, &[]);
    let dirs: Vec<TempDir> = (0..3).map(|_| TempDir::new("gossip-client")).collect();
    let names = ["client-1", "client-2", "client-3"];
    // Each client knows one gossip address only: server 1's.
    let mut clients: Vec<TestAgent> = names
        .iter()
        .zip(&dirs)
        .map(|(name, dir)| cluster.start_client(name, &[0], dir.path(), AgentPorts::free(), &[]))
        .collect();
    for (i, client) in clients.iter().enumerate() {
        let registered = put(
            &client.url("/v1/agent/service/register"),
            format!(
                r#"{{"Name": "web", "ID": "web-{i}", "Port": {}}}"#,
                8080 + i
            ),
        )
        .await;
        assert_eq!(registered.status, 200, "{}", registered.body);
    }
    let server = cluster.agent(2);
    until_alive(server, 6, Duration::from_secs(30)).await;
    eventually(
        Duration::from_secs(30),
        "three passing web instances",
        || async { (passing_web(server).await == names).then_some(()) },
    )
    .await;
    // Servers count the pool's alive members by role (`consul.members.*`).
    eventually(Duration::from_secs(40), "members gauges", || async {
        let metrics = get(&server.url("/v1/agent/metrics")).await.json();
        let gauge = |suffix: &str| {
            metrics["Gauges"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["Name"].as_str().unwrap().ends_with(suffix))
                .map(|g| g["Value"].as_f64().unwrap())
        };
        (gauge("members.clients") == Some(3.0) && gauge("members.servers") == Some(3.0))
            .then_some(())
    })
    .await;
    // The leader writes each client's serfHealth from gossip, apart from the client's
    // own registrations: wait for client-1's before binding a session to it.
    until_serf_health(server, names[0], "passing", Duration::from_secs(30)).await;
    // A session of client-1's node (through client-1, bound to its serfHealth) holds a lock.
    let created = put(&clients[0].url("/v1/session/create"), r#"{"Name": "c1"}"#).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let session = created.json()["ID"].as_str().unwrap().to_string();
    let acquired = put(
        &server.url(&format!("/v1/kv/c1-lock?acquire={session}")),
        "x",
    )
    .await;
    assert_eq!(acquired.body.trim(), "true");

    // kill -9: failed, critical, out of `?passing` and DNS, its session ended.
    clients[0].kill();
    until_serf_health(server, "client-1", "critical", Duration::from_secs(30)).await;
    eventually(
        Duration::from_secs(30),
        "client-1 out of ?passing",
        || async { (passing_web(server).await == ["client-2", "client-3"]).then_some(()) },
    )
    .await;
    let dns = proconsul_tests::dig::dig(server.dns_port, &["web.service.consul", "SRV"]);
    let targets = dns.answers("SRV").join(" ");
    assert!(
        !targets.contains("client-1") && targets.contains("client-2"),
        "{targets}"
    );
    eventually(Duration::from_secs(30), "the lock released", || async {
        let kv = get(&server.url("/v1/kv/c1-lock")).await.json();
        kv[0].get("Session").is_none().then_some(())
    })
    .await;

    // SIGSTOP, then SIGCONT: failed, then alive and passing with no manual step.
    clients[1].signal("STOP");
    until_member(server, "client-2", FAILED, Duration::from_secs(30)).await;
    clients[1].signal("CONT");
    until_serf_health(server, "client-2", "passing", Duration::from_secs(60)).await;

    // `leave`: left, and its node deregistered.
    let output = clients[2].cli(&["leave"]);
    assert!(output.status.success(), "{output:?}");
    eventually(Duration::from_secs(30), "client-3 deregistered", || async {
        (!catalog_nodes(server)
            .await
            .contains(&"client-3".to_string()))
        .then_some(())
    })
    .await;
    // The leader deregistered it; this server's own view of the leave may lag a moment.
    until_member(server, "client-3", LEFT, Duration::from_secs(30)).await;

    // client-1 comes back with the same name and data dir on another address: it simply
    // replaces its old self (no name conflict), alive and passing at the new address.
    let returned = TestAgent::launch(
        &[],
        Some("client-1"),
        &[
            &format!("-data-dir={}", dirs[0].path().display()),
            "-bind=127.0.0.2",
            &format!("-retry-join=127.0.0.1:{}", cluster.serf_port(0)),
        ],
        AgentPorts::free(),
    );
    clients[0] = returned;
    clients[0].wait_until_ready();
    eventually(
        Duration::from_secs(30),
        "client-1 alive at 127.0.0.2",
        || async {
            member_addresses(server)
                .await
                .contains(&("client-1".to_string(), ALIVE, "127.0.0.2".to_string()))
                .then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(30),
        "client-1's node at its new address",
        || async {
            let node = get(&server.url("/v1/catalog/node/client-1")).await.json();
            (node["Node"]["Address"] == "127.0.0.2"
                && serf_health(server, "client-1").await.as_deref() == Some("passing"))
            .then_some(())
        },
    )
    .await;
    let listed = member_addresses(server).await;
    assert_eq!(
        listed
            .iter()
            .filter(|(name, ..)| name == "client-1")
            .count(),
        1,
        "{listed:?}"
    );
}
