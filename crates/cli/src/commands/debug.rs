//! `proconsul debug`: records what support asks for into Consul's bundle layout, through
//! the HTTP API, for `-duration`, then archives it (`<output>.tar.gz`, unless
//! `-archive=false`):
//!
//! - `index.json`: `Version` (1), `AgentVersion`, `Interval`, `Duration`, `Targets`;
//!   Proconsul adds `Errors` when a target could not be captured;
//! - `agent.json` (`/v1/agent/self`), `host.json` (`/v1/agent/host`), `members.json`
//!   (`/v1/agent/members?wan`), written once at the start, indented with tabs as Go's
//!   `json.MarshalIndent` does;
//! - `consul.log`: the log at trace level (`/v1/agent/monitor`) for the duration;
//! - `metrics.json`: `/v1/agent/metrics/stream` for the duration, or, where the agent
//!   has no stream, `/v1/agent/metrics` read once per interval;
//! - `listpeers.json`: the Raft peers as `operator raft list-peers` prints them.
//!
//! `pprof` is accepted and dropped with a warning: Consul's Go profiles (`profile.prof`,
//! `trace.out`, and the per-interval `heap.prof` and `goroutine.prof`) have no Rust
//! counterpart in the agent, so no per-interval directories are made (Consul makes them
//! only for those profiles). A failed capture is reported and recorded, never fatal.
//! While capturing on a terminal, a progress line on stderr shows the time and the bytes
//! captured; elsewhere only Consul's lines are printed.

mod archive;
mod streams;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use proconsul_api::client::QueryOptions;
use proconsul_api::duration::format_duration;
use serde_json::{Value, json};

use crate::commands::{HttpArgs, fail};

/// Consul's limits (its defaults, 30s and 5m, are the flags').
const MIN_INTERVAL: Duration = Duration::from_secs(5);
const MIN_DURATION: Duration = Duration::from_secs(10);
/// Added to the duration so that the last interval is captured.
const GRACE: Duration = Duration::from_secs(2);
/// What is captured unless `-capture` says otherwise.
const TARGETS: [&str; 6] = ["metrics", "logs", "pprof", "host", "agent", "members"];

#[derive(Debug, Args)]
pub struct DebugArgs {
    /// How often to capture dynamic information (at least 5s).
    #[arg(long, value_name = "DURATION", value_parser = super::go_duration, default_value = "30s")]
    interval: Duration,
    /// How long to capture (at least 10s).
    #[arg(long, value_name = "DURATION", value_parser = super::go_duration, default_value = "5m")]
    duration: Duration,
    /// The bundle's path [default: consul-debug-<time>]; `.tar.gz` is added when archiving.
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Archive and compress the bundle (`-archive=false` keeps the directory).
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    archive: bool,
    /// What to capture: metrics, logs, pprof, host, agent, members (repeatable) [default: all].
    #[arg(long, value_name = "TARGET")]
    capture: Vec<String>,
    #[command(flatten)]
    http: HttpArgs,
}

/// The capture's settings once validated.
struct Plan {
    interval: Duration,
    duration: Duration,
    output: PathBuf,
    targets: Vec<String>,
}

impl Plan {
    fn captures(&self, target: &str) -> bool {
        self.targets.iter().any(|t| t == target)
    }
}

pub async fn run(args: DebugArgs) -> anyhow::Result<ExitCode> {
    let client = args.http.client()?;
    if let Err(message) = check_timing(args.interval, args.duration) {
        return Ok(fail(format!("==> Capture validation failed: {message}")));
    }
    let me: Value = match client
        .get_json("/v1/agent/self", &QueryOptions::default())
        .await
    {
        Ok((me, _)) => me,
        Err(error) => {
            return Ok(fail(format!(
                "==> Capture validation failed: error querying target agent: {error}. verify connectivity and agent address"
            )));
        }
    };
    let version = me["Config"]["Version"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let targets = match targets(&args.capture) {
        Ok(targets) => targets,
        Err(message) => return Ok(fail(format!("==> Capture validation failed: {message}"))),
    };
    let output = args.output.clone().unwrap_or_else(default_output);
    if output.exists() {
        return Ok(fail(format!(
            "==> Capture validation failed: output directory already exists: {}",
            output.display()
        )));
    }
    if let Err(error) = std::fs::create_dir_all(&output) {
        return Ok(fail(format!(
            "==> Capture validation failed: could not create output directory: {error}"
        )));
    }
    let plan = Plan {
        interval: args.interval,
        duration: args.duration,
        output,
        targets,
    };
    let shown = if args.archive {
        archive::archive_path(&plan.output)
    } else {
        plan.output.clone()
    };
    println!("==> Starting debugger and capturing static information...");
    println!("     Agent Version: '{version}'");
    println!("          Interval: '{}'", format_duration(plan.interval));
    println!("          Duration: '{}'", format_duration(plan.duration));
    println!("            Output: '{}'", shown.display());
    println!("           Capture: '{}'", plan.targets.join(", "));

    let mut errors: Vec<String> = Vec::new();
    for (target, path) in [
        ("host", "/v1/agent/host"),
        ("agent", "/v1/agent/self"),
        ("members", "/v1/agent/members?wan=1"),
    ] {
        if !plan.captures(target) {
            continue;
        }
        let written = match client
            .get_json::<Value>(path, &QueryOptions::default())
            .await
        {
            Ok((value, _)) => {
                archive::write_json(&plan.output.join(format!("{target}.json")), &value)
            }
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = written {
            eprintln!("==> Static capture failed: {target}: {error}");
            errors.push(format!("{target}: {error}"));
        }
    }
    if plan.captures("logs") || plan.captures("metrics") {
        errors.extend(streams::capture(&client, &plan).await);
    }
    let index = json!({
        "Version": 1,
        "AgentVersion": version,
        "Interval": format_duration(plan.interval),
        "Duration": format_duration(plan.duration + GRACE),
        "Targets": plan.targets,
        "Errors": errors,
    });
    if let Err(error) = archive::write_json(&plan.output.join("index.json"), &index) {
        return Ok(fail(format!("==> Error creating index document: {error}")));
    }
    match client
        .get_json::<Value>("/v1/operator/raft/configuration", &QueryOptions::default())
        .await
    {
        Ok((configuration, _)) => {
            let table = super::operator::peers_table(&configuration);
            if let Err(error) = std::fs::write(plan.output.join("listpeers.json"), table) {
                eprintln!("==> Raft list peers capture failed: {error}");
            }
        }
        Err(error) => eprintln!(
            "==> Raft list peers capture failed: Failed to retrieve raft configuration: {error}"
        ),
    }
    if args.archive
        && let Err(error) = archive::create(&plan.output)
    {
        return Ok(fail(format!("==> Archive creation failed: {error}")));
    }
    println!("    Saved debug archive: {}", shown.display());
    Ok(ExitCode::SUCCESS)
}

/// Consul's limits on `-interval` and `-duration`.
fn check_timing(interval: Duration, duration: Duration) -> Result<(), String> {
    if duration < MIN_DURATION {
        return Err(format!(
            "duration must be longer than {}",
            format_duration(MIN_DURATION)
        ));
    }
    if interval < MIN_INTERVAL {
        return Err(format!(
            "interval must be longer than {}",
            format_duration(MIN_INTERVAL)
        ));
    }
    if duration < interval {
        return Err(format!(
            "duration ({}) must be longer than interval ({})",
            format_duration(duration),
            format_duration(interval)
        ));
    }
    Ok(())
}

/// The targets asked for (all by default; `cluster` is `members`'s old name), without
/// `pprof`, which is reported.
fn targets(asked: &[String]) -> Result<Vec<String>, String> {
    let mut targets: Vec<String> = if asked.is_empty() {
        TARGETS.iter().map(|t| t.to_string()).collect()
    } else {
        asked.to_vec()
    };
    for target in &mut targets {
        if target == "cluster" {
            *target = "members".to_string();
        }
        if !TARGETS.contains(&target.as_str()) {
            return Err(format!("target not found: {target}"));
        }
    }
    if targets.iter().any(|t| t == "pprof") {
        eprintln!(
            "==> [WARN] Unable to capture pprof: Proconsul has no Go runtime profiles (profile.prof, trace.out, heap.prof, goroutine.prof)."
        );
        targets.retain(|t| t != "pprof");
    }
    Ok(targets)
}

/// `consul-debug-2006-01-02T15-04-05Z` in the current directory, the time in UTC.
fn default_output() -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    PathBuf::from(format!(
        "consul-debug-{:04}-{:02}-{:02}T{:02}-{:02}-{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_and_targets_are_checked_as_consul_checks_them() {
        let s = Duration::from_secs;
        assert_eq!(
            check_timing(s(5), s(9)),
            Err("duration must be longer than 10s".to_string())
        );
        assert_eq!(
            check_timing(s(4), s(10)),
            Err("interval must be longer than 5s".to_string())
        );
        assert_eq!(
            check_timing(s(30), s(20)),
            Err("duration (20s) must be longer than interval (30s)".to_string())
        );
        assert_eq!(check_timing(s(30), s(300)), Ok(()));
        assert_eq!(
            targets(&[]).unwrap(),
            ["metrics", "logs", "host", "agent", "members"]
        );
        assert_eq!(
            targets(&["cluster".to_string(), "logs".to_string()]).unwrap(),
            ["members", "logs"]
        );
        assert_eq!(
            targets(&["profiles".to_string()]),
            Err("target not found: profiles".to_string())
        );
        let name = default_output().display().to_string();
        assert!(
            name.starts_with("consul-debug-") && name.ends_with('Z'),
            "{name}"
        );
        assert!(!name.contains(':'));
    }
}
