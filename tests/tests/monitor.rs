//! Log streaming against a real agent: `GET /v1/agent/monitor` at different levels and
//! in both formats while the agent logs (a registration and a bad request at debug,
//! maintenance mode at info), Consul's 400 for an unknown level, the stream's end when
//! the client leaves or the agent stops, `proconsul monitor`, and `agent:read` with ACLs.
//!
//! Lines are awaited with a deadline; nothing asserts how fast they come.

use std::time::Duration;

use proconsul_tests::{TestAgent, call, call_with_token, get, put};
use serde_json::{Value, json};

/// How long a line that must come may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// One client of `/v1/agent/monitor`, read line by line.
struct Monitor {
    response: reqwest::Response,
    pending: Vec<u8>,
}

impl Monitor {
    /// Opens the stream (its headers come at once) and expects a 200.
    async fn open(agent: &TestAgent, query: &str, token: Option<&str>) -> Monitor {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut request =
            reqwest::Client::new().get(agent.url(&format!("/v1/agent/monitor{query}")));
        if let Some(token) = token {
            request = request.header("X-Consul-Token", token);
        }
        let response = tokio::time::timeout(DEADLINE, request.send())
            .await
            .expect("no response headers")
            .expect("request failed");
        assert_eq!(response.status(), 200, "monitor{query}");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        Monitor {
            response,
            pending: Vec::new(),
        }
    }

    /// The lines read until the first that contains `needle`, that one included.
    async fn until(&mut self, needle: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let found = tokio::time::timeout(DEADLINE, async {
            loop {
                while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = self.pending.drain(..=end).collect();
                    let line = String::from_utf8(line).expect("UTF-8 lines");
                    let hit = line.contains(needle);
                    lines.push(line.trim_end_matches('\n').to_string());
                    if hit {
                        return true;
                    }
                }
                match self.response.chunk().await {
                    Ok(Some(bytes)) => self.pending.extend_from_slice(&bytes),
                    _ => return false,
                }
            }
        })
        .await;
        assert_eq!(
            found,
            Ok(true),
            "no line with {needle:?} (false: the stream ended); lines: {lines:#?}"
        );
        lines
    }

    /// Waits for the agent to end the stream; what came meanwhile.
    async fn end(mut self) -> String {
        tokio::time::timeout(DEADLINE, async {
            loop {
                match self.response.chunk().await {
                    Ok(Some(bytes)) => self.pending.extend_from_slice(&bytes),
                    Ok(None) => return String::from_utf8(self.pending).unwrap(),
                    Err(error) => panic!("the stream broke instead of ending: {error}"),
                }
            }
        })
        .await
        .expect("the stream did not end")
    }
}

/// `2024-05-01T10:00:00.123Z [INFO]  module: ...`, hclog's text line.
fn assert_text_line(line: &str) {
    if line.starts_with("  ") {
        return; // a multi-line value's continuation
    }
    let shape: String = line
        .chars()
        .take(24)
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-ddTdd:dd:dd.dddZ", "{line}");
    let bracket = &line[24..33];
    assert!(
        [
            " [TRACE] ",
            " [DEBUG] ",
            " [INFO]  ",
            " [WARN]  ",
            " [ERROR] "
        ]
        .contains(&bracket),
        "{line}"
    );
}

/// hclog's JSON line: the four `@` keys, strings.
fn json_line(line: &str) -> Value {
    let value: Value =
        serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
    for key in ["@level", "@message", "@module", "@timestamp"] {
        assert!(value[key].is_string(), "{key} in {line}");
    }
    value
}

#[tokio::test]
async fn lines_arrive_at_each_clients_level_in_its_format() {
    let agent = TestAgent::start();
    let mut debug_text = Monitor::open(&agent, "?loglevel=debug", None).await;
    let mut debug_json = Monitor::open(&agent, "?loglevel=DeBuG&logjson", None).await;
    // No level: INFO. `logjson` turns JSON on whatever its value, as in Consul.
    let mut info_text = Monitor::open(&agent, "", None).await;
    let mut info_json = Monitor::open(&agent, "?loglevel=INFO&logjson=false", None).await;

    let registered = put(
        &agent.url("/v1/agent/service/register"),
        json!({"Name": "monitored-svc"}).to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let refused = get(&agent.url("/v1/kv/some-key?index=abc")).await;
    assert_eq!(refused.status, 400);
    let maintenance = put(
        &agent.url("/v1/agent/maintenance?enable=true&reason=monitoring"),
        Vec::new(),
    )
    .await;
    assert_eq!(maintenance.status, 200, "{}", maintenance.body);

    let lines = debug_text.until("maintenance mode enabled").await;
    lines.iter().for_each(|line| assert_text_line(line));
    assert!(
        lines
            .iter()
            .any(|line| line.ends_with("[DEBUG] agent: Synced service: service=monitored-svc")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("[DEBUG] agent.http: request refused:")
                && line.contains("status=\"400 Bad Request\"")
                && line.contains("Invalid index")),
        "{lines:#?}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("[INFO]  agent.http: maintenance mode enabled: check=_node_maintenance"),
        "{lines:#?}"
    );

    let lines = info_text.until("maintenance mode enabled").await;
    lines.iter().for_each(|line| assert_text_line(line));
    assert!(
        lines
            .iter()
            .all(|line| !line.contains("[DEBUG]") && !line.contains("[TRACE]")),
        "{lines:#?}"
    );

    let lines: Vec<Value> = debug_json
        .until("maintenance mode enabled")
        .await
        .iter()
        .map(|line| json_line(line))
        .collect();
    assert!(
        lines.iter().any(|line| line["@message"] == "Synced service"
            && line["@level"] == "debug"
            && line["@module"] == "agent"
            && line["service"] == "monitored-svc"),
        "{lines:#?}"
    );
    let last = lines.last().unwrap();
    assert_eq!(last["@level"], "info");
    assert_eq!(last["@module"], "agent.http");
    assert_eq!(last["check"], "_node_maintenance");

    let lines: Vec<Value> = info_json
        .until("maintenance mode enabled")
        .await
        .iter()
        .map(|line| json_line(line))
        .collect();
    assert!(
        lines
            .iter()
            .all(|line| ["info", "warn", "error"].contains(&line["@level"].as_str().unwrap())),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn an_unknown_level_is_refused_with_consuls_text() {
    let agent = TestAgent::start();
    for level in ["loud", "warning", "off"] {
        let answer = get(&agent.url(&format!("/v1/agent/monitor?loglevel={level}"))).await;
        assert_eq!(answer.status, 400, "{level}");
        assert_eq!(answer.body, format!("Unknown log level: {level}"));
    }
    let output = agent.cli(&["monitor", "-log-level=loud"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "Error starting monitor: Unexpected response code: 400 (Unknown log level: loud)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_ends_when_the_client_leaves_or_the_agent_stops() {
    let mut agent = TestAgent::start();
    let mut watcher = Monitor::open(&agent, "?loglevel=trace", None).await;
    let leaving = Monitor::open(&agent, "?loglevel=warn&logjson", None).await;
    watcher
        .until("monitor client arrived: level=Warn format=Json")
        .await;
    drop(leaving);
    watcher
        .until("monitor client left: level=Warn format=Json")
        .await;

    assert!(agent.terminate().success());
    let rest = watcher.end().await;
    assert!(
        rest.contains("[INFO]  agent: caught signal, shutting down: signal=SIGTERM"),
        "{rest}"
    );
}

#[tokio::test]
async fn the_cli_prints_the_stream_until_interrupted() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let agent = TestAgent::start();
    let mut watcher = Monitor::open(&agent, "?loglevel=trace", None).await;
    let mut command =
        tokio::process::Command::from(agent.cli_command(&["monitor", "-log-level=debug"]));
    let mut cli = command
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot start proconsul monitor");
    watcher
        .until("monitor client arrived: level=Debug format=Text")
        .await;
    let registered = put(
        &agent.url("/v1/agent/service/register"),
        json!({"Name": "cli-svc"}).to_string(),
    )
    .await;
    assert_eq!(registered.status, 200);

    let mut stdout = BufReader::new(cli.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let found = tokio::time::timeout(DEADLINE, async {
        while let Ok(Some(line)) = stdout.next_line().await {
            let hit = line.ends_with("[DEBUG] agent: Synced service: service=cli-svc");
            printed.push(line);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "{printed:#?}");
    printed.iter().for_each(|line| assert_text_line(line));

    let pid = cli.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(DEADLINE, cli.wait())
        .await
        .expect("proconsul monitor did not exit on SIGINT")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    watcher
        .until("monitor client left: level=Debug format=Text")
        .await;
}

const MANAGEMENT: &str = "c0ffee00-0000-4000-8000-00000000beef";

/// A token carrying a new policy with `rules`; its secret.
async fn token_with(agent: &TestAgent, name: &str, rules: &str) -> String {
    let policy = call_with_token(
        "PUT",
        &agent.url("/v1/acl/policy"),
        Some(MANAGEMENT),
        Some(
            json!({"Name": name, "Rules": rules})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(policy.status, 200, "{}", policy.body);
    let token = call_with_token(
        "PUT",
        &agent.url("/v1/acl/token"),
        Some(MANAGEMENT),
        Some(
            json!({"Policies": [{"ID": policy.json()["ID"]}]})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(token.status, 200, "{}", token.body);
    token.json()["SecretID"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn reading_the_log_needs_agent_read() {
    let dir = proconsul_tests::TempDir::new("monitor-acl");
    let config = json!({"primary_datacenter": "dc1",
        "acl": {"enabled": true, "default_policy": "deny",
                "tokens": {"initial_management": MANAGEMENT}}});
    let file = proconsul_tests::write_file(dir.path(), "acl.json", &config.to_string());
    let agent = TestAgent::start_with(&["-config-file", &file]);
    // The leader creates the management token once it leads.
    let deadline = std::time::Instant::now() + DEADLINE;
    while call_with_token(
        "GET",
        &agent.url("/v1/acl/token/self"),
        Some(MANAGEMENT),
        None,
    )
    .await
    .status
        != 200
    {
        assert!(std::time::Instant::now() < deadline, "no management token");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reader = token_with(
        &agent,
        "agent-read",
        "agent_prefix \"\" { policy = \"read\" }",
    )
    .await;
    let node_writer = token_with(
        &agent,
        "node-write",
        "node_prefix \"\" { policy = \"write\" }",
    )
    .await;

    let url = agent.url("/v1/agent/monitor?loglevel=debug");
    for token in [None, Some(node_writer.as_str())] {
        let refused = call_with_token("GET", &url, token, None).await;
        assert_eq!(refused.status, 403, "{token:?}: {}", refused.body);
        assert!(
            refused.body.contains("lacks permission 'agent:read'"),
            "{}",
            refused.body
        );
    }
    // The permission is checked before the level, as in Consul.
    let refused = call("GET", &agent.url("/v1/agent/monitor?loglevel=loud"), None).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let unknown = call_with_token(
        "GET",
        &url,
        Some("00000000-dead-4000-8000-000000000000"),
        None,
    )
    .await;
    assert_eq!(unknown.status, 403);
    assert!(unknown.body.contains("ACL not found"), "{}", unknown.body);

    let mut allowed = Monitor::open(&agent, "?loglevel=debug", Some(&reader)).await;
    allowed.until("monitor client arrived").await;
    Monitor::open(&agent, "?logjson", Some(MANAGEMENT)).await;
}
