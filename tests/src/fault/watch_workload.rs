//! W3, watches: blocking-query watchers beside a register workload (W1) on the same
//! prefix, one per watched key and one `recurse` watcher on the prefix, each bound to
//! one server; a writer that sets two pair keys in one `/v1/txn` each time; every
//! fourth call of a watcher resumes below the index it has (it must answer at once).
//! Checked with [`crate::check::watch`].

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::http::{self, Endpoints, REQUEST_TIMEOUT};
use super::kv_wire;
use super::recorder::Clock;
use super::register_workload::RegisterWorkload;
use super::run::{Artifact, FaultRun};
use crate::check::Findings;
use crate::check::history::write_jsonl;
use crate::check::register::ReadMode;
use crate::check::watch::{self, WatchCall};

/// A normal watch call's wait, and a resuming one's (which must not wait it out).
const WAIT: Duration = Duration::from_secs(5);
const RESUME_WAIT: Duration = Duration::from_secs(20);

/// One watcher's target.
#[derive(Debug, Clone)]
pub struct Watch {
    pub key: String,
    pub recurse: bool,
    pub mode: ReadMode,
}

/// Running watchers and the pair writer.
pub struct WatchWorkload {
    calls: Arc<Mutex<Vec<WatchCall>>>,
    pair: (String, String),
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl WatchWorkload {
    /// Starts one watcher per `watches` entry (watcher `j` on server `j % n`) and the
    /// pair writer, whose keys are `{prefix}/pair/a` and `{prefix}/pair/b`.
    pub fn start(run: &FaultRun, prefix: &str, watches: Vec<Watch>) -> WatchWorkload {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let pair = (format!("{prefix}/pair/a"), format!("{prefix}/pair/b"));
        let mut tasks: Vec<_> = watches
            .into_iter()
            .enumerate()
            .map(|(j, watch)| {
                let watcher = Watcher {
                    name: format!("watcher-{j}"),
                    server: j % run.endpoints.len(),
                    endpoints: run.endpoints.clone(),
                    clock: run.clock,
                    http: http::client(RESUME_WAIT + Duration::from_secs(10)),
                    watch,
                    calls: calls.clone(),
                };
                tokio::spawn(watcher.run())
            })
            .collect();
        tasks.push(tokio::spawn(pair_writer(
            run.endpoints.clone(),
            pair.clone(),
            run.rng(300),
        )));
        WatchWorkload { calls, pair, tasks }
    }

    /// Stops the watchers and the writer (a call in flight is dropped, not recorded).
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }

    /// Adds the single-key watchers' answers to the register workload's history as
    /// reads, for its linearizability check (call after [`WatchWorkload::stop`] and
    /// before the register workload's check).
    pub fn add_reads_to(&self, registers: &RegisterWorkload) {
        let calls = self.calls.lock().expect("watch calls").clone();
        for read in watch::as_register_reads(&calls, 2_000_000) {
            registers.client.recorder.add(read);
        }
    }

    /// Checks the answers against the register workload's known writes.
    pub fn check(&self, registers: &RegisterWorkload) -> Findings {
        let calls = self.calls.lock().expect("watch calls").clone();
        let writes = watch::known_writes(&registers.client.recorder.history());
        let violations = watch::check(&calls, &writes, (&self.pair.0, &self.pair.1));
        Findings {
            checked: vec![format!(
                "watch: {} blocking-query answers, {} writes with known index",
                calls.len(),
                writes.len()
            )],
            violations,
            undecided: Vec::new(),
        }
    }
}

impl Artifact for WatchWorkload {
    fn save(&self, dir: &Path) -> std::io::Result<()> {
        let calls = self.calls.lock().expect("watch calls").clone();
        write_jsonl(&dir.join("history-watch.jsonl"), &calls)
    }
}

struct Watcher {
    name: String,
    server: usize,
    endpoints: Endpoints,
    clock: Clock,
    http: reqwest::Client,
    watch: Watch,
    calls: Arc<Mutex<Vec<WatchCall>>>,
}

impl Watcher {
    async fn run(self) {
        let mut last = 0u64;
        let started = std::time::Instant::now();
        for n in 0u64.. {
            if started.elapsed() > http::CLIENT_LIFETIME {
                return;
            }
            let resume = last > 1 && n.is_multiple_of(4) && n > 0;
            let (param, wait) = if resume {
                (last - 1, RESUME_WAIT)
            } else {
                (last, WAIT)
            };
            let mut url = format!(
                "{}/v1/kv/{}?index={param}&wait={}s",
                self.endpoints.url(self.server),
                self.watch.key,
                wait.as_secs()
            );
            if self.watch.recurse {
                url.push_str("&recurse");
            }
            if self.watch.mode != ReadMode::Default {
                url.push('&');
                url.push_str(self.watch.mode.query());
            }
            let label = self.endpoints.label(self.server);
            let invoke_ns = self.clock.now_ns();
            let answer = http::send(self.http.get(url)).await;
            let complete_ns = self.clock.now_ns();
            let parsed = match &answer {
                Ok(reply) if reply.status == 404 => reply.index.map(|index| (index, Vec::new())),
                Ok(reply) if reply.status == 200 => reply
                    .index
                    .and_then(|index| entries(&reply.body).map(|entries| (index, entries))),
                _ => None,
            };
            let Some((index, entries)) = parsed else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            self.calls.lock().expect("watch calls").push(WatchCall {
                watcher: self.name.clone(),
                server: label,
                key: self.watch.key.clone(),
                recurse: self.watch.recurse,
                mode: self.watch.mode,
                param,
                wait_ns: wait.as_nanos() as u64,
                invoke_ns,
                complete_ns,
                index,
                entries,
            });
            last = index;
        }
    }
}

/// `(key, value, ModifyIndex)` of each entry of a KV answer.
fn entries(body: &str) -> Option<Vec<(String, String, u64)>> {
    let entries = kv_wire::entries(body)?;
    Some(
        entries
            .into_iter()
            .map(|entry| {
                (
                    entry.key,
                    entry.value.unwrap_or_default(),
                    entry.modify_index,
                )
            })
            .collect(),
    )
}

/// Sets both pair keys to one new value in one transaction, every 100–300 ms, through
/// random servers.
async fn pair_writer(endpoints: Endpoints, pair: (String, String), mut rng: super::rng::SeededRng) {
    let client = http::client(REQUEST_TIMEOUT);
    let started = std::time::Instant::now();
    for seq in 0u64.. {
        if started.elapsed() > http::CLIENT_LIFETIME {
            return;
        }
        let value = format!("pair-{seq}");
        let body = kv_wire::txn_body(&[
            ("set", &pair.0, &value, json!({})),
            ("set", &pair.1, &value, json!({})),
        ]);
        let server = rng.below(endpoints.len() as u64) as usize;
        let url = format!("{}/v1/txn", endpoints.url(server));
        let _ = http::send(client.put(url).body(body)).await;
        tokio::time::sleep(rng.millis(100, 300)).await;
    }
}
