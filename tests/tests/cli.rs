//! The `proconsul` command-line client against a real dev agent.

use std::process::{Command, Output};

use proconsul_tests::{TestAgent, binary, get, put};

fn run(agent: &TestAgent, args: &[&str]) -> Output {
    agent.cli(args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn kv_put_get_delete() {
    let agent = TestAgent::start();
    let output = run(&agent, &["kv", "put", "app/name", "proconsul"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output).trim(), "Success! Data written to: app/name");
    assert_eq!(
        get(&agent.url("/v1/kv/app/name?raw")).await.body,
        "proconsul"
    );

    let output = run(&agent, &["kv", "get", "app/name"]);
    assert_eq!(stdout(&output), "proconsul\n");
    run(&agent, &["kv", "put", "-flags=7", "app/other", "x"]);
    let output = run(&agent, &["kv", "get", "-recurse", "app/"]);
    assert_eq!(stdout(&output), "app/name:proconsul\napp/other:x\n");
    let output = run(&agent, &["kv", "get", "-detailed", "app/other"]);
    assert!(stdout(&output).contains("Flags"), "{}", stdout(&output));
    assert!(stdout(&output).contains('7'));

    let index = get(&agent.url("/v1/kv/app/name")).await.json()[0]["ModifyIndex"].to_string();
    let output = run(
        &agent,
        &["kv", "put", "-cas", "-modify-index=1", "app/name", "no"],
    );
    assert!(!output.status.success());
    let output = run(
        &agent,
        &[
            "kv",
            "put",
            "-cas",
            &format!("-modify-index={index}"),
            "app/name",
            "yes",
        ],
    );
    assert!(output.status.success(), "{output:?}");

    let output = run(&agent, &["kv", "delete", "-recurse", "app/"]);
    assert!(output.status.success(), "{output:?}");
    let output = run(&agent, &["kv", "get", "app/name"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("No key exists"));
}

#[tokio::test]
async fn catalog_members_and_version() {
    let agent = TestAgent::start();
    put(
        &agent.url("/v1/catalog/register"),
        r#"{"Node":"ext","Address":"10.0.0.9","Service":{"Service":"redis"}}"#,
    )
    .await;
    let output = run(&agent, &["catalog", "services"]);
    assert_eq!(stdout(&output), "consul\nredis\n");
    let output = run(&agent, &["catalog", "nodes"]);
    let text = stdout(&output);
    assert!(
        text.contains("ext") && text.contains(&agent.node_name),
        "{text}"
    );
    let output = run(&agent, &["catalog", "datacenters"]);
    assert_eq!(stdout(&output), "dc1\n");
    let output = run(&agent, &["members"]);
    let text = stdout(&output);
    assert!(
        text.contains(&agent.node_name) && text.contains("alive"),
        "{text}"
    );
    let output = run(&agent, &["version"]);
    assert!(
        stdout(&output).starts_with("Proconsul v"),
        "{}",
        stdout(&output)
    );
    let output = run(&agent, &["--version"]);
    let _ = output;
}

#[tokio::test]
async fn unreachable_agent_is_a_clear_error() {
    let port = proconsul_tests::free_port();
    let output = Command::new(binary())
        .args(["kv", "get", "x"])
        .env("CONSUL_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(!output.stderr.is_empty());
}

#[tokio::test]
async fn maint_enables_lists_and_disables() {
    let agent = TestAgent::start();
    put(
        &agent.url("/v1/agent/service/register"),
        r#"{"Name":"web","ID":"web-1"}"#,
    )
    .await;
    let output = run(&agent, &["maint", "-enable", "-reason=kernel upgrade"]);
    assert_eq!(
        stdout(&output),
        "Node entered maintenance mode\n",
        "{output:?}"
    );
    let output = run(
        &agent,
        &["maint", "-enable", "-service=web-1", "-reason", "deploy"],
    );
    assert_eq!(
        stdout(&output),
        "Service entered maintenance mode\n",
        "{output:?}"
    );
    let output = run(&agent, &["maint"]);
    let text = stdout(&output);
    assert!(
        text.contains(&format!("Name:   {}", agent.node_name)),
        "{text}"
    );
    assert!(
        text.contains("Reason: kernel upgrade") && text.contains("ID:     web-1"),
        "{text}"
    );
    let output = run(&agent, &["maint", "-disable"]);
    assert_eq!(stdout(&output), "Node left maintenance mode\n");
    let output = run(&agent, &["maint", "-disable", "-service=web-1"]);
    assert!(output.status.success());
    assert_eq!(stdout(&run(&agent, &["maint"])), "");
    let output = run(&agent, &["maint", "-enable", "-disable"]);
    assert!(!output.status.success());
}

/// The lines of `path` (empty when it does not exist yet).
fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The most `start` lines seen without their `end` in a log of `start`/`end` lines.
fn most_concurrent(log: &[String]) -> i32 {
    let (mut running, mut most) = (0, 0);
    for line in log {
        running += if line == "start" { 1 } else { -1 };
        most = most.max(running);
    }
    most
}

fn spawn_cli(agent: &TestAgent, args: &[&str]) -> std::process::Child {
    agent
        .cli_command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run proconsul")
}

#[tokio::test]
async fn lock_runs_commands_one_at_a_time() {
    let agent = TestAgent::start();
    let scratch = proconsul_tests::TempDir::new("lock");
    let log = scratch.path().join("log");
    let command = format!(
        "echo start >> {0}; sleep 0.5; echo end >> {0}",
        log.display()
    );
    let children: Vec<_> = (0..3)
        .map(|_| spawn_cli(&agent, &["lock", "jobs/backup", &command]))
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let log = lines(&log);
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(most_concurrent(&log), 1, "{log:?}");
    // The lock is free again and the command's exit code comes back.
    let output = run(&agent, &["lock", "jobs/backup", "exit 3"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let entry = get(&agent.url("/v1/kv/jobs/backup/.lock")).await.json();
    assert!(entry[0]["Session"].is_null(), "released: {entry}");
}

#[tokio::test]
async fn lock_with_n_is_a_semaphore_and_times_out() {
    let agent = TestAgent::start();
    let scratch = proconsul_tests::TempDir::new("semaphore");
    let log = scratch.path().join("log");
    let command = format!("echo start >> {0}; sleep 1; echo end >> {0}", log.display());
    let children: Vec<_> = (0..4)
        .map(|_| spawn_cli(&agent, &["lock", "-n=2", "pool/slots", &command]))
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let log = lines(&log);
    assert_eq!(log.len(), 8, "{log:?}");
    assert_eq!(most_concurrent(&log), 2, "{log:?}");

    // Held elsewhere: -timeout gives up.
    let session = put(&agent.url("/v1/session/create"), "{}").await.json()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    put(
        &agent.url(&format!("/v1/kv/busy/.lock?acquire={session}")),
        "",
    )
    .await;
    let output = run(&agent, &["lock", "-timeout=1s", "busy", "true"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("timeout"),
        "{output:?}"
    );
}

#[tokio::test]
async fn event_and_watch_commands() {
    let agent = TestAgent::start();
    let output = run(&agent, &["event", "-name=deploy", "v2"]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output).starts_with("Event ID: "),
        "{}",
        stdout(&output)
    );
    let events = get(&agent.url("/v1/event/list?name=deploy")).await.json();
    assert_eq!(events.as_array().unwrap().len(), 1);

    put(&agent.url("/v1/kv/watched"), "hello").await;
    let output = run(&agent, &["watch", "-type=key", "-key=watched"]);
    assert!(output.status.success(), "{output:?}");
    let entry: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(entry["Key"], "watched");

    let scratch = proconsul_tests::TempDir::new("watch");
    let seen = scratch.path().join("seen");
    let handler = format!("cat >> {}; echo >> {}", seen.display(), seen.display());
    let mut watcher = spawn_cli(
        &agent,
        &["watch", "-type=keyprefix", "-prefix=app/", &handler],
    );
    put(&agent.url("/v1/kv/app/first"), "1").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !std::fs::read_to_string(&seen)
        .unwrap_or_default()
        .contains("app/first")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the handler never saw app/first"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    put(&agent.url("/v1/kv/app/second"), "2").await;
    while !std::fs::read_to_string(&seen)
        .unwrap_or_default()
        .contains("app/second")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the handler never saw app/second"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    let bad = run(&agent, &["watch", "-type=key"]);
    assert_eq!(bad.status.code(), Some(1));
}
