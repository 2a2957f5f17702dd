//! Closed-loop load: C clients, each with one request in flight at a time, for a fixed
//! time; every answer's latency is kept for percentiles.

use std::future::Future;
use std::time::{Duration, Instant};

/// The HTTP client load generators share: connections kept for many clients, each
/// request given up after `timeout`.
pub fn load_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    // Installs the ring crypto provider reqwest's rustls build needs.
    let _ = proconsul_api::client::http_client();
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(1024)
        .build()?)
}

/// What one load run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Successful requests' latencies, sorted.
    pub latencies: Vec<Duration>,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency at quantile `q` (0..1), in milliseconds.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let rank = (self.latencies.len() as f64 * q).ceil() as usize;
        let i = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// Runs `op(client, n)` in `clients` loops for `duration`; `op` answers whether the
/// request succeeded.
pub async fn closed_loop<Op, Fut>(clients: usize, duration: Duration, op: Op) -> LoadResult
where
    Op: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failed = 0u64;
                let mut n = 0usize;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    if op(client, n).await {
                        latencies.push(sent.elapsed());
                    } else {
                        failed += 1;
                    }
                    n += 1;
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut result = LoadResult::default();
    for worker in workers {
        if let Ok((latencies, failed)) = worker.await {
            result.latencies.extend(latencies);
            result.failed += failed;
        }
    }
    result.elapsed = started.elapsed();
    result.ok = result.latencies.len() as u64;
    result.latencies.sort();
    result
}

/// Runs `measure` `runs` times and keeps the run with the median rate.
pub async fn median_run<Measure, Fut>(runs: usize, mut measure: Measure) -> LoadResult
where
    Measure: FnMut() -> Fut,
    Fut: Future<Output = LoadResult>,
{
    let mut results = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        results.push(measure().await);
    }
    results.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    results.swap_remove(results.len() / 2)
}
