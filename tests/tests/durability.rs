//! Server mode on disk (`-server -bootstrap -data-dir`): acknowledged writes survive the
//! process being killed with SIGKILL, through the log and through snapshots, and a bad
//! setup is refused with a clear message.

use proconsul_tests::{TempDir, TestAgent, binary, get, put};
use serde_json::json;

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let data = TempDir::new("durable");
    let mut acknowledged = Vec::new();
    {
        let agent = TestAgent::start_server(data.path(), "durable-1", &[]);
        for i in 0..40 {
            let answer = put(&agent.url(&format!("/v1/kv/app/k{i}")), format!("v{i}")).await;
            assert_eq!(answer.body.trim(), "true");
            acknowledged.push(i);
        }
        let registered = put(
            &agent.url("/v1/catalog/register"),
            json!({"Node": "db-host", "Address": "10.0.0.5", "Service": {"Service": "db", "Port": 5432}}).to_string(),
        )
        .await;
        assert_eq!(registered.status, 200);
        let session = put(
            &agent.url("/v1/session/create"),
            json!({"Node": "durable-1"}).to_string(),
        )
        .await;
        assert_eq!(session.status, 200, "{}", session.body);
        // Dropping the agent kills it with SIGKILL: no clean shutdown.
    }
    let agent = TestAgent::start_server(data.path(), "durable-1", &[]);
    for i in acknowledged {
        let value = get(&agent.url(&format!("/v1/kv/app/k{i}?raw"))).await;
        assert_eq!(value.status, 200, "app/k{i} lost");
        assert_eq!(value.body, format!("v{i}"));
    }
    let db = get(&agent.url("/v1/catalog/service/db")).await.json();
    assert_eq!(db[0]["Address"], "10.0.0.5");
    assert_eq!(
        get(&agent.url("/v1/session/list"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let self_info = get(&agent.url("/v1/agent/self")).await.json();
    assert_eq!(self_info["DebugConfig"]["DevMode"], false);
    assert_eq!(
        self_info["DebugConfig"]["DataDir"],
        data.path().display().to_string()
    );
}

#[tokio::test]
async fn snapshots_compact_the_log_and_restore_after_kill_9() {
    let data = TempDir::new("snapshots");
    {
        let agent =
            TestAgent::start_server(data.path(), "durable-2", &["-raft-snapshot-threshold=50"]);
        for i in 0..300 {
            put(&agent.url(&format!("/v1/kv/many/k{i:03}")), "x").await;
        }
        let snapshot = data.path().join("raft/snapshot.bin");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !snapshot.exists() {
            assert!(std::time::Instant::now() < deadline, "no snapshot written");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let agent = TestAgent::start_server(data.path(), "durable-2", &["-raft-snapshot-threshold=50"]);
    let keys = get(&agent.url("/v1/kv/many/?keys")).await.json();
    assert_eq!(keys.as_array().unwrap().len(), 300);
}

#[test]
fn unsupported_setups_are_refused() {
    let run = |args: &[&str]| {
        let output = std::process::Command::new(binary())
            .arg("agent")
            .args(args)
            .output()
            .expect("run proconsul");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let data = TempDir::new("refused");
    let dir = format!("-data-dir={}", data.path().display());
    let (code, stderr) = run(&["-server", "-bootstrap"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("data_dir cannot be empty"), "{stderr}");
    let (code, stderr) = run(&["-server", "-bootstrap", "-bootstrap-expect=3", &dir]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("mutually exclusive"), "{stderr}");
    let (code, stderr) = run(&["-server", "-raft-multiplier=11", &dir]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("Must be between 1 and 10"), "{stderr}");
    // A client agent (no -server) has no Raft to bootstrap.
    let (code, stderr) = run(&["-bootstrap-expect=3", &dir]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("requires 'server = true'"), "{stderr}");
}

#[tokio::test]
async fn the_agents_services_checks_and_maintenance_survive_a_restart() {
    let data = TempDir::new("local-state");
    {
        let agent = TestAgent::start_server(data.path(), "durable-3", &[]);
        let registered = put(
            &agent.url("/v1/agent/service/register"),
            json!({"Name": "api", "ID": "api-1", "Port": 8080, "Tags": ["v1"],
                   "Check": {"CheckID": "api-ttl", "TTL": "10m", "Status": "passing"}})
            .to_string(),
        )
        .await;
        assert_eq!(registered.status, 200, "{}", registered.body);
        put(
            &agent.url("/v1/agent/maintenance?enable=true&reason=upgrade"),
            "",
        )
        .await;
        // The file is written shortly after each change.
        let file = data.path().join("local-state.json");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("_node_maintenance")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "local state not saved"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    let agent = TestAgent::start_server(data.path(), "durable-3", &[]);
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["api-1"]["Tags"], json!(["v1"]));
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(checks["api-ttl"]["Status"], "passing");
    assert_eq!(checks["_node_maintenance"]["Status"], "critical");
    assert!(
        checks["_node_maintenance"]["Notes"]
            .as_str()
            .unwrap_or("")
            .contains("upgrade"),
        "{checks}"
    );
    let catalog = get(&agent.url("/v1/catalog/service/api")).await.json();
    assert_eq!(catalog[0]["ServiceID"], "api-1");
    // A TTL check keeps running: a pass is accepted.
    assert_eq!(
        put(&agent.url("/v1/agent/check/pass/api-ttl"), "")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn operator_raft_shows_the_lone_server() {
    let data = TempDir::new("operator");
    let agent = TestAgent::start_server(data.path(), "durable-4", &[]);
    put(&agent.url("/v1/kv/x"), "1").await;
    let configuration = get(&agent.url("/v1/operator/raft/configuration"))
        .await
        .json();
    let servers = configuration["Servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0]["Node"], "durable-4");
    assert_eq!(servers[0]["Leader"], true);
    assert_eq!(servers[0]["Voter"], true);
    let peers = get(&agent.url("/v1/status/peers")).await.json();
    assert_eq!(servers[0]["Address"], peers[0]);
    assert!(servers[0]["LastIndex"].as_u64().unwrap() > 0);

    let output = std::process::Command::new(binary())
        .args(["operator", "raft", "list-peers"])
        .env("CONSUL_HTTP_ADDR", agent.addr())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(table.starts_with("Node"), "{table}");
    assert!(
        table.contains("durable-4") && table.contains("leader") && table.contains("0 commits"),
        "{table}"
    );

    let missing = proconsul_tests::call(
        "DELETE",
        &agent.url("/v1/operator/raft/peer?address=10.9.9.9:8300"),
        None,
    )
    .await;
    assert_eq!(missing.status, 500);
    assert!(missing.body.contains("not found"), "{}", missing.body);
    let only = proconsul_tests::call(
        "POST",
        &agent.url("/v1/operator/raft/transfer-leader"),
        None,
    )
    .await;
    assert_eq!(only.status, 500);
    assert!(only.body.contains("no other voters"), "{}", only.body);
}
