//! W2, locks: a few lock keys, two or more clients per key, each with its own session
//! (`LockDelay: "0s"`, no checks) that it uses on its key only, acquiring, releasing,
//! reading and now and then destroying it for a new one. After the faults: every
//! session not known destroyed is destroyed, then per key a `?consistent` read, and an
//! acquire and release with a fresh session, must succeed; then fencing and the lock
//! spec are checked.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::http::{self, REQUEST_TIMEOUT};
use super::lock_client::LockClient;
use super::recorder::{Process, Recorder};
use super::register_workload::SEARCH_BUDGET;
use super::rng::SeededRng;
use super::run::{Artifact, FaultRun, RECOVERY};
use crate::check::history::{Outcome, write_jsonl};
use crate::check::register::ReadMode;
use crate::check::{Findings, check_locks};

/// The shape of a lock workload.
#[derive(Debug, Clone, Copy)]
pub struct LockConfig {
    /// Keys are `{prefix}/lock{n}`.
    pub prefix: &'static str,
    pub keys: usize,
    /// Client `c` works on key `c % keys`; at most 5.
    pub clients: usize,
}

/// A running lock workload.
pub struct LockWorkload {
    pub client: LockClient,
    pub keys: Vec<String>,
    stop: Arc<AtomicBool>,
    /// Each client's key and the sessions it leaves not known to be destroyed.
    tasks: Vec<tokio::task::JoinHandle<(String, Vec<String>)>>,
    leftovers: Vec<(String, Vec<String>)>,
}

impl LockWorkload {
    /// Starts the clients; they run until [`LockWorkload::stop`].
    pub fn start(run: &FaultRun, config: LockConfig) -> LockWorkload {
        let client = LockClient {
            http: http::client(REQUEST_TIMEOUT),
            endpoints: run.endpoints.clone(),
            recorder: Arc::new(Recorder::new(run.clock)),
        };
        let keys: Vec<String> = (0..config.keys)
            .map(|k| format!("{}/lock{k}", config.prefix))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..config.clients as u64)
            .map(|c| {
                let key = keys[c as usize % keys.len()].clone();
                let (client, stop) = (client.clone(), stop.clone());
                let rng = run.rng(200 + c);
                let process = Process::new(c, config.clients as u64);
                tokio::spawn(client_loop(client, key, stop, rng, process))
            })
            .collect();
        LockWorkload {
            client,
            keys,
            stop,
            tasks,
            leftovers: Vec::new(),
        }
    }

    /// Stops the clients and waits for them.
    pub async fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks.drain(..) {
            self.leftovers
                .push(task.await.expect("a lock client panicked"));
        }
    }

    /// Recovery, then fencing and the lock spec checked per key.
    pub async fn recover_and_check(&self) -> Findings {
        let mut findings = Findings::default();
        let mut process = Process::new(1_000_000, 1_000);
        for (key, sessions) in &self.leftovers {
            for session in sessions {
                let destroyed = self
                    .retry(&mut process, |process, server| async move {
                        self.client.destroy(process, server, key, session).await
                    })
                    .await;
                if !destroyed {
                    findings.violations.push(format!(
                        "not recovered: session {session} could not be destroyed within {RECOVERY:?}"
                    ));
                }
            }
        }
        for key in &self.keys {
            if let Err(why) = self.recover_key(&mut process, key).await {
                findings.violations.push(why);
            }
        }
        let history = self.client.recorder.history();
        let checked = tokio::task::spawn_blocking(move || check_locks(&history, SEARCH_BUDGET))
            .await
            .expect("the checker panicked");
        findings.merge(checked);
        findings
    }

    /// A `?consistent` read, then a fresh session's acquire and release, of `key`.
    async fn recover_key(&self, process: &mut Process, key: &str) -> Result<(), String> {
        let read = self
            .retry(process, |process, server| async move {
                self.client
                    .read(process, server, key, ReadMode::Consistent)
                    .await
            })
            .await;
        let deadline = Instant::now() + RECOVERY;
        let mut session = None;
        let mut server = 0;
        while session.is_none() && Instant::now() < deadline {
            server = (server + 1) % self.client.endpoints.len();
            session = self.client.create_session(server).await;
        }
        let Some(session) = session else {
            return Err(format!(
                "not recovered: no session could be created within {RECOVERY:?}"
            ));
        };
        let session = session.as_str();
        let acquired = read
            && self
                .retry(process, |process, server| async move {
                    let value = format!("recover-p{process}");
                    self.client
                        .acquire(process, server, key, session, value)
                        .await
                })
                .await;
        let released = acquired
            && self
                .retry(process, |process, server| async move {
                    let value = format!("recover-release-p{process}");
                    self.client
                        .release(process, server, key, session, value, true)
                        .await
                })
                .await;
        if released {
            Ok(())
        } else {
            Err(format!(
                "not recovered: a ?consistent read, an acquire and a release of {key:?} did not all succeed within {RECOVERY:?} (read {read}, acquire {acquired})"
            ))
        }
    }

    /// Runs `op` on server after server until it is `ok`, for up to [`RECOVERY`].
    async fn retry<F, Fut>(&self, process: &mut Process, op: F) -> bool
    where
        F: Fn(u64, usize) -> Fut,
        Fut: std::future::Future<Output = Outcome>,
    {
        let deadline = Instant::now() + RECOVERY;
        let servers = self.client.endpoints.len();
        for attempt in 0.. {
            match op(process.id, attempt % servers).await {
                Outcome::Ok => return true,
                Outcome::Info => process.retire(),
                Outcome::Fail => {}
            }
            if Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }
}

impl Artifact for LockWorkload {
    fn save(&self, dir: &Path) -> std::io::Result<()> {
        write_jsonl(
            &dir.join("history-lock.jsonl"),
            &self.client.recorder.history(),
        )
    }
}

/// One client on one key: acquire 35%, release 25%, read 30% (default or
/// `?consistent`), destroy its session 10%; 40–80 ms apart. Returns its key and the
/// sessions it made that are not known to be destroyed.
async fn client_loop(
    client: LockClient,
    key: String,
    stop: Arc<AtomicBool>,
    mut rng: SeededRng,
    mut process: Process,
) -> (String, Vec<String>) {
    let servers = client.endpoints.len() as u64;
    let mut live: Vec<String> = Vec::new();
    let mut seq = 0;
    let started = std::time::Instant::now();
    while !stop.load(Ordering::SeqCst) && started.elapsed() < http::CLIENT_LIFETIME {
        let server = rng.below(servers) as usize;
        let choice = rng.weighted(&[35, 25, 30, 10]);
        let Some(session) = live.last().cloned() else {
            if let Some(session) = client.create_session(server).await {
                live.push(session);
            }
            tokio::time::sleep(rng.millis(40, 80)).await;
            continue;
        };
        seq += 1;
        let value = format!("{key}-p{}-{seq}", process.id);
        let outcome = match choice {
            0 => {
                client
                    .acquire(process.id, server, &key, &session, value)
                    .await
            }
            1 => {
                let through_txn = rng.percent(50);
                client
                    .release(process.id, server, &key, &session, value, through_txn)
                    .await
            }
            2 => {
                let mode = if rng.percent(50) {
                    ReadMode::Default
                } else {
                    ReadMode::Consistent
                };
                client.read(process.id, server, &key, mode).await
            }
            _ => {
                let outcome = client.destroy(process.id, server, &key, &session).await;
                if outcome == Outcome::Ok {
                    live.retain(|s| *s != session);
                }
                // A new session either way; an unknown destroy is retried at the end.
                if let Some(fresh) = client.create_session(server).await {
                    live.push(fresh);
                }
                outcome
            }
        };
        if outcome == Outcome::Info {
            process.retire();
        }
        tokio::time::sleep(rng.millis(40, 80)).await;
    }
    (key, live)
}
