//! The dynamic part of `debug`: for the duration (plus a grace of 2 s), the log at trace
//! level into `consul.log` and the metrics into `metrics.json`, while a line per
//! interval goes to stdout (Consul's `Capture successful <time> (<n>)`) and, when
//! stderr is a terminal, a progress line to stderr (time and bytes captured, rewritten
//! in place, then a summary); elsewhere nothing more than Consul prints. Ctrl-C ends
//! the capture early; what was captured is kept.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proconsul_api::client::{Client, QueryOptions};
use proconsul_api::duration::format_duration;
use tokio::time::Instant;

use super::{GRACE, Plan};
use crate::progress;

/// Captures logs and metrics as `plan` says; returns what failed, as `target: error`.
pub async fn capture(client: &Client, plan: &Plan) -> Vec<String> {
    let deadline = Instant::now() + plan.duration + GRACE;
    let captured = AtomicU64::new(0);
    let logs = async {
        if !plan.captures("logs") {
            return Ok(());
        }
        let response = client
            .get_streaming("/v1/agent/monitor", &[("loglevel", "TRACE".to_string())])
            .await
            .map_err(|error| error.to_string())?;
        copy_until(
            response,
            &plan.output.join("consul.log"),
            deadline,
            &captured,
        )
        .await
    };
    let metrics = async {
        if !plan.captures("metrics") {
            return Ok(());
        }
        metrics(client, plan, deadline, &captured).await
    };
    let ticks = intervals(plan, deadline, &captured);
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
async fn metrics(
    client: &Client,
    plan: &Plan,
    deadline: Instant,
    captured: &AtomicU64,
) -> Result<(), String> {
    let path = plan.output.join("metrics.json");
    match client.get_streaming("/v1/agent/metrics/stream", &[]).await {
        Ok(response) => return copy_until(response, &path, deadline, captured).await,
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
        captured.fetch_add(text.len() as u64 + 1, Ordering::Relaxed);
        if tokio::time::timeout_at(deadline, tokio::time::sleep(plan.interval))
            .await
            .is_err()
        {
            return Ok(());
        }
    }
}

/// Writes the body of `response` to `path` as it arrives, until `deadline`, counting
/// the bytes into `captured`.
async fn copy_until(
    mut response: reqwest::Response,
    path: &std::path::Path,
    deadline: Instant,
    captured: &AtomicU64,
) -> Result<(), String> {
    let mut file = std::fs::File::create(path).map_err(|error| error.to_string())?;
    loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) | Ok(Ok(None)) => return Ok(()),
            Ok(Ok(Some(chunk))) => {
                file.write_all(&chunk).map_err(|error| error.to_string())?;
                captured.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            Ok(Err(error)) => return Err(error.to_string()),
        }
    }
}

/// Consul's per-interval lines on stdout; on a terminal, a progress line on stderr
/// (rewritten every second) and a summary at the end.
async fn intervals(plan: &Plan, deadline: Instant, captured: &AtomicU64) {
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
        if terminal {
            let elapsed = Duration::from_secs(started.elapsed().as_secs());
            eprint!(
                "\r\x1b[K    Capturing: {} of {} (interval {count}), {}",
                format_duration(elapsed),
                format_duration(Duration::from_secs(total.as_secs())),
                progress::size(captured.load(Ordering::Relaxed))
            );
        }
    }
    if terminal {
        eprintln!(
            "\r\x1b[K{}",
            progress::summary(
                "    Captured",
                captured.load(Ordering::Relaxed),
                started.elapsed()
            )
        );
    }
}
