//! W1, registers: a few keys, bounded clients doing get (in every consistency mode), put,
//! check-and-set and delete against random servers. After the faults: W1's recovery (a
//! `?consistent` read and a write per key must succeed), W4's durability check on those
//! reads, every server catching up, and the history checked.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::http::{self, REQUEST_TIMEOUT};
use super::recorder::{Process, Recorder};
use super::register_client::{RegisterClient, WritePath};
use super::run::{Artifact, FaultRun, RECOVERY};
use crate::check::durability::{self, FinalRead};
use crate::check::history::{Outcome, write_jsonl};
use crate::check::register::ReadMode;
use crate::check::{Findings, check_registers};

/// How long tier 2 may search each key before answering Unknown.
pub const SEARCH_BUDGET: Duration = Duration::from_secs(30);

/// The shape of a register workload.
#[derive(Debug, Clone, Copy)]
pub struct RegisterConfig {
    /// Keys are `{prefix}/k{n}`.
    pub prefix: &'static str,
    pub keys: usize,
    /// At most 5; each does at most about 20 operations a second.
    pub clients: usize,
}

/// A running register workload.
pub struct RegisterWorkload {
    pub client: RegisterClient,
    pub keys: Vec<String>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RegisterWorkload {
    /// Starts the clients; they run until [`RegisterWorkload::stop`].
    pub fn start(run: &FaultRun, config: RegisterConfig) -> RegisterWorkload {
        let client = RegisterClient {
            http: http::client(REQUEST_TIMEOUT),
            endpoints: run.endpoints.clone(),
            recorder: Arc::new(Recorder::new(run.clock)),
        };
        let keys: Vec<String> = (0..config.keys)
            .map(|k| format!("{}/k{k}", config.prefix))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..config.clients as u64)
            .map(|c| {
                let (client, keys, stop) = (client.clone(), keys.clone(), stop.clone());
                let rng = run.rng(100 + c);
                let process = Process::new(c, config.clients as u64);
                let prefix = config.prefix;
                tokio::spawn(async move {
                    client_loop(client, keys, stop, rng, process, prefix).await;
                })
            })
            .collect();
        RegisterWorkload {
            client,
            keys,
            stop,
            tasks,
        }
    }

    /// Stops the clients and waits for them (each finishes its operation in flight).
    pub async fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks.drain(..) {
            task.await.expect("a register client panicked");
        }
    }

    /// Recovery, durability and the history's checks.
    pub async fn recover_and_check(&self, run: &FaultRun) -> Findings {
        let mut findings = Findings::default();
        let mut finals = BTreeMap::new();
        let mut recovery_values = BTreeMap::new();
        for (k, key) in self.keys.iter().enumerate() {
            match self.recover_key(run, k as u64, key).await {
                Ok((last, value)) => {
                    finals.insert(key.clone(), last);
                    recovery_values.insert(key.clone(), value);
                }
                Err(why) => findings.violations.push(why),
            }
        }
        let history = self.client.recorder.history();
        if let Err(why) = durability::check(&history, &finals) {
            findings.violations.push(format!("durability (W4): {why}"));
        }
        findings.merge(self.caught_up(&recovery_values).await);
        let checked = tokio::task::spawn_blocking(move || check_registers(&history, SEARCH_BUDGET))
            .await
            .expect("the checker panicked");
        findings.merge(checked);
        findings
    }

    /// A `?consistent` read (the final state, for W4) and a write of `key`, each retried
    /// on server after server until it succeeds or [`RECOVERY`] passes.
    async fn recover_key(
        &self,
        run: &FaultRun,
        k: u64,
        key: &str,
    ) -> Result<(FinalRead, String), String> {
        let deadline = Instant::now() + RECOVERY;
        let mut process = Process::new(1_000_000 + k, 1_000);
        let servers = self.client.endpoints.len();
        let mut attempt = 0;
        let last = loop {
            let invoke_ns = run.clock.now_ns();
            let server = attempt % servers;
            attempt += 1;
            if let Some(found) = self
                .client
                .get(process.id, server, key, ReadMode::Consistent)
                .await
            {
                break FinalRead { found, invoke_ns };
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not recovered: no ?consistent read of {key:?} succeeded within {RECOVERY:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        loop {
            let value = format!("recover-p{}-{attempt}", process.id);
            let server = attempt % servers;
            attempt += 1;
            let written = self
                .client
                .write(process.id, server, key, value.clone(), None, WritePath::Txn)
                .await;
            match written.outcome {
                Outcome::Ok => return Ok((last, value)),
                Outcome::Info => process.retire(),
                Outcome::Fail => {}
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not recovered: no write of {key:?} succeeded within {RECOVERY:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Every server (`?stale`, its own replica) comes to hold each key's recovery write.
    async fn caught_up(&self, values: &BTreeMap<String, String>) -> Findings {
        let mut findings = Findings::default();
        let endpoints = &self.client.endpoints;
        for server in 0..endpoints.len() {
            for (key, value) in values {
                let url = format!("{}/v1/kv/{key}?stale", endpoints.url(server));
                let deadline = Instant::now() + RECOVERY;
                loop {
                    let seen = match http::send(self.client.http.get(&url)).await {
                        Ok(reply) if reply.status == 200 => {
                            super::register_client::parse_entry(&reply.body)
                                .is_some_and(|(seen, _)| &seen == value)
                        }
                        _ => false,
                    };
                    if seen {
                        break;
                    }
                    if Instant::now() > deadline {
                        findings.violations.push(format!(
                            "{} never caught up: its replica lacks {key:?} = {value:?} after {RECOVERY:?}",
                            endpoints.label(server)
                        ));
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        findings
    }
}

impl Artifact for RegisterWorkload {
    fn save(&self, dir: &Path) -> std::io::Result<()> {
        write_jsonl(
            &dir.join("history-register.jsonl"),
            &self.client.recorder.history(),
        )
    }
}

/// One client: get 40% (consistent, default and stale 15/15/10), put 35%, CAS 20% (on
/// the index it last saw), delete 5%, through random servers, 30–70 ms apart.
async fn client_loop(
    client: RegisterClient,
    keys: Vec<String>,
    stop: Arc<AtomicBool>,
    mut rng: super::rng::SeededRng,
    mut process: Process,
    prefix: &str,
) {
    let mut last_seen: HashMap<usize, u64> = HashMap::new();
    let servers = client.endpoints.len() as u64;
    let mut seq = 0u64;
    let started = Instant::now();
    while !stop.load(Ordering::SeqCst) && started.elapsed() < http::CLIENT_LIFETIME {
        let k = rng.below(keys.len() as u64) as usize;
        let key = &keys[k];
        let server = rng.below(servers) as usize;
        let path = if rng.percent(50) {
            WritePath::Txn
        } else {
            WritePath::Kv
        };
        seq += 1;
        let value = format!("{prefix}-p{}-{seq}", process.id);
        let choice = rng.weighted(&[15, 15, 10, 35, 20, 5]);
        let written = match choice {
            0..=2 => {
                let mode = [ReadMode::Consistent, ReadMode::Default, ReadMode::Stale][choice];
                if let Some(found) = client.get(process.id, server, key, mode).await {
                    last_seen.insert(k, found.map_or(0, |(_, index)| index));
                }
                None
            }
            3 => Some(
                client
                    .write(process.id, server, key, value, None, path)
                    .await,
            ),
            4 => {
                let expect = last_seen.get(&k).copied().unwrap_or(0);
                Some(
                    client
                        .write(process.id, server, key, value, Some(expect), path)
                        .await,
                )
            }
            _ => Some(client.delete(process.id, server, key).await),
        };
        if let Some(written) = written {
            if written.outcome == Outcome::Info {
                process.retire();
            }
            if let Some(index) = written.index {
                last_seen.insert(k, index);
            }
        }
        tokio::time::sleep(rng.millis(30, 70)).await;
    }
}
