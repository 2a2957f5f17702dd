//! How workloads reach the servers: each server's fixed address and its generation (a
//! restarted server is a new one for per-server checks), and requests with a 2 s timeout
//! whose failures are classified the way the history needs them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::check::history::Outcome;

/// The per-request timeout of workload clients; a request that takes longer is `info`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// How long any workload task lives at most, should nobody stop it (a scenario's
/// traffic lasts about 20 s, recovery at most a minute more).
pub const CLIENT_LIFETIME: Duration = Duration::from_secs(180);

/// The servers' HTTP addresses (fixed for the whole run) and generations.
#[derive(Clone)]
pub struct Endpoints {
    urls: Arc<Vec<String>>,
    generations: Arc<Vec<AtomicU64>>,
}

impl Endpoints {
    pub fn new(urls: Vec<String>) -> Endpoints {
        let generations = urls.iter().map(|_| AtomicU64::new(0)).collect();
        Endpoints {
            urls: Arc::new(urls),
            generations: Arc::new(generations),
        }
    }

    pub fn len(&self) -> usize {
        self.urls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// `http://127.0.0.1:PORT` of server `i`.
    pub fn url(&self, i: usize) -> &str {
        &self.urls[i]
    }

    /// `server-N#generation`, naming one run of server `i`'s process.
    pub fn label(&self, i: usize) -> String {
        format!(
            "server-{}#{}",
            i + 1,
            self.generations[i].load(Ordering::SeqCst)
        )
    }

    /// Server `i` was restarted: later operations go to a new process.
    pub fn restarted(&self, i: usize) {
        self.generations[i].fetch_add(1, Ordering::SeqCst);
    }
}

/// A reqwest client for workloads, with [`REQUEST_TIMEOUT`] unless told otherwise.
pub fn client(timeout: Duration) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(2)
        .build()
        .expect("cannot build an HTTP client")
}

/// An answer that arrived.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub index: Option<u64>,
    pub body: String,
}

/// Sends a request; `Err` carries the outcome a write must be recorded with: `fail` when
/// the connection was never made (nothing was sent), `info` otherwise (it may have
/// arrived).
pub async fn send(request: reqwest::RequestBuilder) -> Result<Reply, Outcome> {
    let response = request.send().await.map_err(|error| {
        if error.is_connect() {
            Outcome::Fail
        } else {
            Outcome::Info
        }
    })?;
    let status = response.status().as_u16();
    let index = response
        .headers()
        .get("x-consul-index")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let body = response.text().await.map_err(|_| Outcome::Info)?;
    Ok(Reply {
        status,
        index,
        body,
    })
}

/// The outcome of a write's answer that is not a success: 5xx may have been applied
/// (the leader may have committed it before the error), 4xx was refused before Raft.
pub fn write_failure(status: u16) -> Outcome {
    if status >= 500 {
        Outcome::Info
    } else {
        Outcome::Fail
    }
}
