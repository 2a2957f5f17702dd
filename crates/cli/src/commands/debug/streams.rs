//! The dynamic part of `debug`: for the duration (plus a grace of 2 s), the log at trace
//! level into `consul.log` and the metrics into `metrics.json`, while a line per
//! interval goes to stdout (Consul's `Capture successful <time> (<n>)`) and a progress
//! line to stderr. Ctrl-C ends the capture early; what was captured is kept.

use std::io::Write;
use std::time::Duration;

use proconsul_api::client::{Client, QueryOptions};
use proconsul_api::duration::format_duration;
use tokio::time::Instant;

use super::{GRACE, Plan};

/// Captures logs and metrics as `plan` says; returns what failed, as `target: error`.
pub async fn capture(client: &Client, plan: &Plan) -> Vec<String> {
    let deadline = Instant::now() + plan.duration + GRACE;
    let logs = async {
        if !plan.captures("logs") {
            return Ok(());
        }
        let response = client
            .get_streaming("/v1/agent/monitor", &[("loglevel", "TRACE".to_string())])
            .await
            .map_err(|error| error.to_string())?;
        copy_until(response, &plan.output.join("consul.log"), deadline).await
    };
    let metrics = async {
        if !plan.captures("metrics") {
            return Ok(());
        }
        metrics(client, plan, deadline).await
    };
    let ticks = intervals(plan, deadline);
    let (logs, metrics, ()) = tokio::select! {
        results = async { tokio::join!(logs, metrics, ticks) } => results,
        _ = tokio::signal::ctrl_c() => {
            eprintln!();
            eprintln!("==> Error encountered during collection: stopping collection due to shutdown signal");
            (Ok(()), Ok(()), ())
        }
    };
    let mut errors = Vec::new();
    for (target, result) in [("logs", logs), ("metrics", metrics)] {
        if let Err(error) = result {
            eprintln!("==> Error encountered during collection: {target}: {error}");
            errors.push(format!("{target}: {error}"));
        }
    }
    errors
}

/// `/v1/agent/metrics/stream` into `metrics.json`; without a stream (404), the last
/// interval's summary, `/v1/agent/metrics`, read once per interval.
async fn metrics(client: &Client, plan: &Plan, deadline: Instant) -> Result<(), String> {
    let path = plan.output.join("metrics.json");
    match client.get_streaming("/v1/agent/metrics/stream", &[]).await {
        Ok(response) => return copy_until(response, &path, deadline).await,
        Err(error) if !error.to_string().contains("404") => return Err(error.to_string()),
        Err(_) => {}
    }
    let mut file = std::fs::File::create(&path).map_err(|error| error.to_string())?;
    loop {
        let (summary, _) = client
            .get_json::<serde_json::Value>("/v1/agent/metrics", &QueryOptions::default())
            .await
            .map_err(|error| error.to_string())?;
        let text = serde_json::to_string_pretty(&summary).map_err(|error| error.to_string())?;
        writeln!(file, "{text}").map_err(|error| error.to_string())?;
        if tokio::time::timeout_at(deadline, tokio::time::sleep(plan.interval))
            .await
            .is_err()
        {
            return Ok(());
        }
    }
}

/// Writes the body of `response` to `path` as it arrives, until `deadline`.
async fn copy_until(
    mut response: reqwest::Response,
    path: &std::path::Path,
    deadline: Instant,
) -> Result<(), String> {
    let mut file = std::fs::File::create(path).map_err(|error| error.to_string())?;
    loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) | Ok(Ok(None)) => return Ok(()),
            Ok(Ok(Some(chunk))) => file.write_all(&chunk).map_err(|error| error.to_string())?,
            Ok(Err(error)) => return Err(error.to_string()),
        }
    }
}

/// Consul's per-interval lines on stdout, and a progress line on stderr (rewritten in
/// place on a terminal, one per interval otherwise).
async fn intervals(plan: &Plan, deadline: Instant) {
    let started = Instant::now();
    let total = deadline - started;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let now = || time::OffsetDateTime::now_utc();
    println!("==> Beginning capture interval {} (0)", now());
    println!("==> Capture successful {} (0)", now());
    let mut next_interval = started + plan.interval;
    let mut count = 0;
    loop {
        let tick = if terminal {
            next_interval.min(Instant::now() + Duration::from_secs(1))
        } else {
            next_interval
        };
        if tick >= deadline {
            tokio::time::sleep_until(deadline).await;
            break;
        }
        tokio::time::sleep_until(tick).await;
        if Instant::now() >= next_interval {
            count += 1;
            next_interval += plan.interval;
            if terminal {
                eprint!("\r\x1b[K");
            }
            println!("==> Capture successful {} ({count})", now());
        }
        let elapsed = Duration::from_secs(started.elapsed().as_secs());
        let line = format!(
            "    Capturing: {} of {} (interval {count})",
            format_duration(elapsed),
            format_duration(Duration::from_secs(total.as_secs()))
        );
        if terminal {
            eprint!("\r\x1b[K{line}");
        } else {
            eprintln!("{line}");
        }
    }
    if terminal {
        eprintln!();
    }
}
