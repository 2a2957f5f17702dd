//! `proconsul info` and `proconsul debug` against a real agent: `info` prints
//! `agent/self`'s `Stats` in `consul info`'s sections; `debug` writes Consul's bundle
//! (index, agent, host, members, log, metrics, peers) as a valid `.tar.gz`, or leaves the
//! directory with `-archive=false`, and shows its progress on stderr.

use std::collections::BTreeMap;
use std::path::Path;

use proconsul_tests::{TempDir, TestAgent, get, put};
use serde_json::{Value, json};

#[tokio::test]
async fn info_prints_the_stats_sections() {
    let agent = TestAgent::start();
    let output = agent.cli(&["info"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut sections: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut order = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(entry) = line.strip_prefix('\t') {
            let (key, value) = entry
                .split_once(" = ")
                .unwrap_or_else(|| panic!("{line:?}"));
            sections
                .get_mut(&current)
                .unwrap()
                .push((key.to_string(), value.to_string()));
        } else {
            current = line
                .strip_suffix(':')
                .unwrap_or_else(|| panic!("{line:?}"))
                .to_string();
            order.push(current.clone());
            sections.insert(current.clone(), Vec::new());
        }
    }
    assert_eq!(
        order,
        [
            "agent", "build", "consul", "raft", "runtime", "serf_lan", "serf_wan"
        ],
        "{text}"
    );
    for (name, entries) in &sections {
        let keys: Vec<&String> = entries.iter().map(|(key, _)| key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "{name} is not sorted");
    }
    let value = |section: &str, key: &str| -> String {
        sections[section]
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no {section}.{key} in {text}"))
            .1
            .clone()
    };
    assert_eq!(value("build", "version"), "1.22.0");
    assert_eq!(value("consul", "server"), "true");
    assert_eq!(value("consul", "leader"), "true");
    let leader: String =
        serde_json::from_str(&get(&agent.url("/v1/status/leader")).await.body).unwrap();
    assert_eq!(value("consul", "leader_addr"), leader);
    assert_eq!(value("raft", "state"), "Leader");
    assert_eq!(value("raft", "num_peers"), "0");
    assert!(value("raft", "latest_configuration").starts_with("[{Suffrage:Voter ID:"));
    let applied: u64 = value("raft", "applied_index").parse().unwrap();
    assert!(applied > 0);
    assert!(value("raft", "commit_index").parse::<u64>().unwrap() >= applied);
    assert_eq!(value("runtime", "os"), std::env::consts::OS);
    assert!(value("runtime", "goroutines").parse::<u64>().unwrap() > 0);
    assert!(value("runtime", "cpu_count").parse::<u64>().unwrap() > 0);
    for key in ["check_monitors", "check_ttls", "checks", "services"] {
        value("agent", key).parse::<u64>().unwrap();
    }
    // The gossip pool: this dev agent is its only member.
    assert_eq!(value("serf_lan", "members"), "1");
    assert_eq!(value("serf_lan", "failed"), "0");
    assert_eq!(value("serf_lan", "encrypted"), "false");
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[tokio::test]
async fn debug_writes_consuls_bundle_as_a_tar_gz() {
    let agent = TestAgent::start();
    let dir = TempDir::new("debug");
    let output = dir.path().join("bundle");
    let debug = agent
        .cli_command(&[
            "debug",
            "-duration=10s",
            "-interval=5s",
            &format!("-output={}", output.display()),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Something to log while the capture runs.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let body = json!({"ID": "debugged", "Name": "debugged", "Port": 1}).to_string();
    assert_eq!(
        put(&agent.url("/v1/agent/service/register"), body)
            .await
            .status,
        200
    );
    let finished = tokio::task::spawn_blocking(move || debug.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&finished.stdout);
    let stderr = String::from_utf8_lossy(&finished.stderr);
    assert!(finished.status.success(), "{stdout}\n{stderr}");
    let archive = dir.path().join("bundle.tar.gz");
    assert!(
        stdout.contains("==> Starting debugger and capturing static information..."),
        "{stdout}"
    );
    assert!(stdout.contains("Agent Version: '1.22.0'"), "{stdout}");
    assert!(
        stdout.contains(&format!("Saved debug archive: {}", archive.display())),
        "{stdout}"
    );
    assert!(stdout.contains("==> Capture successful"), "{stdout}");
    // Not a terminal: no progress line.
    assert!(!stderr.contains("Capturing"), "{stderr}");
    assert!(stderr.contains("Unable to capture pprof"), "{stderr}");
    assert!(!output.exists(), "the directory is removed once archived");

    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success(), "not a valid tar.gz");
    let bundle = unpacked.join("bundle");
    let index = read_json(&bundle.join("index.json"));
    assert_eq!(index["Version"], 1);
    assert_eq!(index["AgentVersion"], "1.22.0");
    assert_eq!(index["Interval"], "5s");
    assert_eq!(index["Duration"], "12s");
    assert_eq!(
        index["Targets"],
        json!(["metrics", "logs", "host", "agent", "members"])
    );
    assert!(read_json(&bundle.join("agent.json"))["Config"]["NodeName"].is_string());
    assert!(
        read_json(&bundle.join("host.json"))["CollectionTime"]
            .as_u64()
            .is_some()
    );
    assert!(
        read_json(&bundle.join("members.json"))
            .as_array()
            .unwrap()
            .len()
            == 1
    );
    let log = std::fs::read_to_string(bundle.join("consul.log")).unwrap();
    assert!(log.contains("Synced service: service=debugged"), "{log}");
    // Metrics: what `/v1/agent/metrics/stream` sent meanwhile, whole summaries (how
    // many 10-second intervals ended during the capture depends on the clock).
    let metrics = std::fs::read_to_string(bundle.join("metrics.json")).unwrap();
    assert!(!index["Errors"].to_string().contains("metrics"), "{index}");
    for summary in serde_json::Deserializer::from_str(&metrics).into_iter::<Value>() {
        let summary = summary.unwrap_or_else(|error| panic!("{error}: {metrics}"));
        assert!(summary["Gauges"].is_array(), "{summary}");
    }
    let peers = std::fs::read_to_string(bundle.join("listpeers.json")).unwrap();
    assert!(peers.starts_with("Node"), "{peers}");
    assert!(peers.contains("leader"), "{peers}");
}

#[tokio::test]
async fn debug_static_targets_without_archive_and_refusals() {
    let agent = TestAgent::start();
    let dir = TempDir::new("debug-static");
    let output = dir.path().join("plain");
    let run = |args: &[&str]| agent.cli(args);
    let out = format!("-output={}", output.display());
    let done = run(&[
        "debug",
        "-archive=false",
        "-capture=host",
        "-capture",
        "agent",
        &out,
    ]);
    assert!(done.status.success(), "{done:?}");
    let mut names: Vec<String> = std::fs::read_dir(&output)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["agent.json", "host.json", "index.json", "listpeers.json"]
    );
    assert_eq!(
        read_json(&output.join("index.json"))["Targets"],
        json!(["host", "agent"])
    );
    // Consul's refusals: the output exists, a short duration, an unknown target.
    for (args, expected) in [
        (
            vec!["debug", out.as_str()],
            "output directory already exists",
        ),
        (
            vec!["debug", "-duration=5s"],
            "duration must be longer than 10s",
        ),
        (
            vec!["debug", "-capture=profiles"],
            "target not found: profiles",
        ),
    ] {
        let refused = run(&args);
        assert!(!refused.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains(&format!("Capture validation failed: {expected}")),
            "{args:?}: {stderr}"
        );
    }
}
