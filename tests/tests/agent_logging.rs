//! The agent's own log against a real agent: `-log-json` lines in hclog's JSON shape, a
//! `-log-file` directory that rotates by bytes and keeps `-log-rotate-max-files`, and
//! `log_level` changed by `proconsul reload` and by SIGHUP (visible in the output), with
//! an unknown level refused by the reload.

use std::time::{Duration, Instant};

use proconsul_tests::{TempDir, TestAgent, put, write_file};
use serde_json::{Value, json};

/// Registers a service through the agent (logged at debug as `Synced service`).
async fn register(agent: &TestAgent, id: &str) {
    let body = json!({"ID": id, "Name": "web", "Port": 80}).to_string();
    let answer = put(&agent.url("/v1/agent/service/register"), body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Waits until the agent's output, from byte `from` on, holds `needle`.
fn wait_for_output(agent: &TestAgent, from: usize, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = agent.log();
        let tail = log.get(from..).unwrap_or_default().to_string();
        if tail.contains(needle) {
            return tail;
        }
        assert!(Instant::now() < deadline, "no {needle:?} in:\n{tail}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn log_json_writes_hclog_json_lines() {
    let agent = TestAgent::start_with(&["-log-json", "-log-level=debug"]);
    register(&agent, "web-json").await;
    wait_for_output(&agent, 0, "Synced service");
    let log = agent.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line:?}")))
        .collect();
    assert!(lines.len() > 3, "{log}");
    for line in &lines {
        for key in ["@level", "@message", "@module", "@timestamp"] {
            assert!(line[key].is_string(), "{key} in {line}");
        }
        let stamp = line["@timestamp"].as_str().unwrap();
        // hclog's JSON time: microseconds, UTC.
        assert!(
            stamp.len() == "2024-05-01T10:00:00.123456Z".len() && stamp.ends_with('Z'),
            "{stamp}"
        );
    }
    let listening = lines
        .iter()
        .find(|line| line["@message"] == "HTTP API listening")
        .expect("the start-up line");
    assert_eq!(listening["@level"], "info");
    assert_eq!(listening["@module"], "agent");
    assert!(listening["http_addr"].is_string(), "{listening}");
    let synced = lines
        .iter()
        .find(|line| line["@message"] == "Synced service")
        .expect("a debug line");
    assert_eq!(synced["@level"], "debug");
    assert_eq!(synced["service"], "web-json");
}

#[tokio::test]
async fn the_log_file_rotates_by_bytes_and_keeps_max_files() {
    const ROTATE_BYTES: u64 = 2048;
    let dir = TempDir::new("log-file");
    let log_dir = format!("{}/", dir.path().display());
    let agent = TestAgent::start_with(&[
        "-log-level=debug",
        &format!("-log-file={log_dir}"),
        &format!("-log-rotate-bytes={ROTATE_BYTES}"),
        "-log-rotate-max-files=2",
    ]);
    let rotated = || -> Vec<(String, u64)> {
        let mut rotated: Vec<(String, u64)> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap())
            .map(|entry| {
                let name = entry.file_name().into_string().unwrap();
                (name, entry.metadata().unwrap().len())
            })
            .filter(|(name, _)| name != "consul.log")
            .collect();
        rotated.sort();
        rotated
    };
    // Enough lines for several rotations: the file gets the bytes stdout gets.
    let start = agent.log().len() as u64;
    let mut n = 0;
    while (agent.log().len() as u64) < start + 6 * ROTATE_BYTES {
        register(&agent, &format!("web-{n}")).await;
        n += 1;
        assert!(n < 1000, "too few lines: {:?}", rotated());
    }
    // Wait for the logging of the last registrations to settle, then look.
    wait_for_output(&agent, 0, &format!("service=web-{}", n - 1));
    let rotated = rotated();
    assert_eq!(rotated.len(), 2, "{rotated:?}");
    for (name, size) in &rotated {
        let stamp = name
            .strip_prefix("consul-")
            .and_then(|rest| rest.strip_suffix(".log"))
            .unwrap_or_else(|| panic!("not Consul's name: {name}"));
        assert!(
            !stamp.is_empty() && stamp.bytes().all(|b| b.is_ascii_digit()),
            "{name}"
        );
        // Rotated once full: the limit, passed by at most one line.
        assert!(
            *size >= ROTATE_BYTES && *size < ROTATE_BYTES + 1024,
            "{name}: {size} bytes"
        );
    }
    // The file holds the same lines as stdout, and the newest lines are in consul.log.
    let current = std::fs::read_to_string(dir.path().join("consul.log")).unwrap();
    assert!(
        current
            .lines()
            .all(|line| line.contains(" [") && agent.log().contains(line)),
        "{current}"
    );
}

#[tokio::test]
async fn reload_changes_the_log_level() {
    let dir = TempDir::new("log-level");
    let config = write_file(dir.path(), "agent.json", r#"{"log_level": "info"}"#);
    let agent = TestAgent::start_with(&["-config-file", &config]);
    register(&agent, "quiet").await;
    std::thread::sleep(Duration::from_millis(300));
    assert!(!agent.log().contains("[DEBUG]"), "{}", agent.log());

    // `proconsul reload` (PUT /v1/agent/reload): debug lines from then on.
    write_file(dir.path(), "agent.json", r#"{"log_level": "debug"}"#);
    let from = agent.log().len();
    let output = agent.cli(&["reload"]);
    assert!(output.status.success(), "{output:?}");
    wait_for_output(&agent, from, "log level changed: log_level=debug");
    register(&agent, "loud").await;
    let tail = wait_for_output(&agent, from, "Synced service: service=loud");
    assert!(tail.contains("[DEBUG] agent: Synced service"), "{tail}");

    // An unknown level fails the reload with Consul's text and changes nothing.
    write_file(dir.path(), "agent.json", r#"{"log_level": "loud"}"#);
    let output = agent.cli(&["reload"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "Failed reloading: Invalid log level: loud. Valid log levels are: [TRACE DEBUG INFO WARN ERR]"
        ),
        "{stderr}"
    );

    // SIGHUP back to warn: info and debug lines stop.
    write_file(dir.path(), "agent.json", r#"{"log_level": "warn"}"#);
    agent.signal("HUP");
    // The reload's own info line is not printed at warn; wait for the level to apply by
    // polling with registrations until one leaves no debug line.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    loop {
        let from = agent.log().len();
        register(&agent, &format!("after-hup-{n}")).await;
        std::thread::sleep(Duration::from_millis(300));
        if !agent.log()[from..].contains("Synced service") {
            break;
        }
        assert!(Instant::now() < deadline, "still debug after SIGHUP");
        n += 1;
    }
    let from = agent.log().len();
    register(&agent, "silent").await;
    std::thread::sleep(Duration::from_millis(300));
    let tail = agent.log()[from..].to_string();
    assert!(
        !tail.contains("[DEBUG]") && !tail.contains("[INFO]"),
        "{tail}"
    );
}
