//! Configuration files: services and checks from HCL and JSON, flags over files,
//! refusal of bad files, `validate`, `reload` and `services register|deregister`.

use std::path::Path;
use std::process::{Command, Output};

use proconsul_tests::{TempDir, TestAgent, binary, get};
use serde_json::json;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs the agent and expects it to refuse to start; a hang or a success fails the test.
fn expect_refusal(args: &[&str]) -> String {
    let mut child = Command::new(binary())
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the agent started instead of refusing: {args:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success(), "{args:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    stderr
}

fn cli(agent: &TestAgent, args: &[&str]) -> Output {
    agent.cli(args)
}

#[tokio::test]
async fn services_and_checks_from_hcl_and_json_are_registered() {
    let scratch = TempDir::new("load");
    let dir = scratch.path();
    write(
        dir,
        "a.hcl",
        r#"
datacenter = "dc-from-file"
service {
  name = "web"
  port = 8080
  tags = ["primary"]
  check {
    ttl = "30s"
  }
}
"#,
    );
    write(
        dir,
        "b.json",
        r#"{"services": [{"name": "db", "id": "db-1", "port": 5432}], "check": {"name": "disk", "ttl": "60s"}}"#,
    );
    let agent = TestAgent::start_with(&[
        "-config-dir",
        dir.to_str().unwrap(),
        "-datacenter=dc-from-flag",
    ]);
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["web"]["Port"], 8080);
    assert_eq!(services["web"]["Tags"], json!(["primary"]));
    assert_eq!(services["db-1"]["Service"], "db");
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(checks["service:web"]["Type"], "ttl");
    assert_eq!(checks["disk"]["Type"], "ttl");
    let me = get(&agent.url("/v1/agent/self")).await.json();
    assert_eq!(
        me["Config"]["Datacenter"], "dc-from-flag",
        "flags override files"
    );
    let rows = get(&agent.url("/v1/catalog/service/web?dc=dc-from-flag"))
        .await
        .json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
}

#[test]
fn a_bad_file_stops_the_agent_with_file_and_key() {
    let scratch = TempDir::new("bad");
    let dir = scratch.path();
    let file = write(dir, "bad.json", r#"{"ports": {"htp": 8500}}"#);
    let stderr = expect_refusal(&[
        "agent",
        "-dev",
        "-http-port=0",
        "-server-port=0",
        "-config-file",
        &file,
    ]);
    assert!(
        stderr.contains("bad.json") && stderr.contains("ports.htp"),
        "{stderr}"
    );

    let script = write(
        dir,
        "script.json",
        r#"{"check": {"name": "s", "args": ["/bin/true"], "interval": "10s"}}"#,
    );
    // Script checks from files need enable_local_script_checks.
    let stderr = expect_refusal(&[
        "agent",
        "-dev",
        "-http-port=0",
        "-server-port=0",
        "-config-file",
        &script,
    ]);
    assert!(stderr.contains("Scripts are disabled"), "{stderr}");
}

#[test]
fn validate_reports_valid_and_invalid_files() {
    let scratch = TempDir::new("validate");
    let dir = scratch.path();
    let good = write(
        dir,
        "good.hcl",
        "node_name = \"n1\"\nservice {\n  name = \"x\"\n}\n",
    );
    let bad = write(dir, "bad.hcl", "node_nam = \"n1\"\n");
    let output = Command::new(binary())
        .args(["validate", &good])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Configuration is valid!\n"
    );
    let output = Command::new(binary())
        .args(["validate", &good, &bad])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.hcl") && stderr.contains("node_nam"),
        "{stderr}"
    );
}

#[tokio::test]
async fn reload_applies_the_files_again_and_leaves_api_registrations_alone() {
    let scratch = TempDir::new("reload");
    let dir = scratch.path();
    let file = write(
        dir,
        "services.json",
        r#"{"services": [{"name": "one"}, {"name": "two"}]}"#,
    );
    let agent = TestAgent::start_with(&["-config-file", &file]);
    proconsul_tests::put(
        &agent.url("/v1/agent/service/register"),
        r#"{"Name": "api-owned"}"#,
    )
    .await;
    write(
        dir,
        "services.json",
        r#"{"services": [{"name": "two", "port": 2}, {"name": "three"}]}"#,
    );
    let output = cli(&agent, &["reload"]);
    assert!(output.status.success(), "{output:?}");
    let services = get(&agent.url("/v1/agent/services")).await.json();
    let mut names: Vec<&String> = services.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["api-owned", "three", "two"]);
    assert_eq!(services["two"]["Port"], 2);
    assert_eq!(
        get(&agent.url("/v1/catalog/service/one")).await.json(),
        json!([])
    );

    write(
        dir,
        "services.json",
        r#"{"services": [{"name": "broken", "port": "x"}]}"#,
    );
    let output = cli(&agent, &["reload"]);
    assert!(!output.status.success());
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(
        services.as_object().unwrap().len(),
        3,
        "a bad reload changes nothing"
    );
}

#[tokio::test]
async fn services_register_and_deregister_from_flags_and_files() {
    let agent = TestAgent::start();
    let output = cli(
        &agent,
        &[
            "services",
            "register",
            "-name=web",
            "-port=80",
            "-tag=a",
            "-tag=b",
            "-meta=team=core",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Registered service: web\n",
        "{output:?}"
    );
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["web"]["Tags"], json!(["a", "b"]));
    assert_eq!(services["web"]["Meta"]["team"], "core");

    let scratch = TempDir::new("services");
    let dir = scratch.path();
    let file = write(
        dir,
        "svc.hcl",
        "service {\n  name = \"cache\"\n  id = \"cache-1\"\n  port = 6379\n}\n",
    );
    let output = cli(&agent, &["services", "register", &file]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json()["cache-1"]["Port"],
        6379
    );

    let output = cli(&agent, &["services", "deregister", &file]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Deregistered service: cache-1\n"
    );
    let output = cli(&agent, &["services", "deregister", "-id=web"]);
    assert!(output.status.success());
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json(),
        json!({})
    );
    let output = cli(&agent, &["services", "register"]);
    assert!(!output.status.success());
}
