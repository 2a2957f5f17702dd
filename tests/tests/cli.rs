//! The `proconsul` command-line client against a real dev agent.

use std::process::{Command, Output};

use proconsul_tests::{TestAgent, binary, get, put};

fn run(agent: &TestAgent, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env("CONSUL_HTTP_ADDR", agent.addr())
        .env_remove("CONSUL_HTTP_TOKEN")
        .output()
        .expect("cannot run proconsul")
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
