//! One fault run: a cluster started for it, a seed (fixed per scenario, or
//! `PROCONSUL_FAULT_SEED`), the clock every history uses, the nemesis timeline during
//! the traffic, then heal, recover and check. A failed run keeps its histories, seed,
//! timeline and server logs in a directory and prints the command that replays it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http::Endpoints;
use super::nemesis::{Event, FaultCluster, Nemesis, Schedule, run_timeline};
use super::recorder::Clock;
use super::rng::SeededRng;
use crate::check::Findings;
use crate::cluster::TestCluster;

/// The environment variable that replays a run with another seed.
pub const SEED_VARIABLE: &str = "PROCONSUL_FAULT_SEED";

/// How long recovery may take: a leader, then a read and a write per key.
pub const RECOVERY: Duration = Duration::from_secs(30);

/// Something a run saves when it fails: a workload's history.
pub trait Artifact {
    /// Writes the history (JSON Lines) into `dir`.
    fn save(&self, dir: &Path) -> std::io::Result<()>;
}

/// A fault run in progress.
pub struct FaultRun {
    pub name: String,
    pub seed: u64,
    pub clock: Clock,
    pub endpoints: Endpoints,
    rng: SeededRng,
    cluster: Arc<Mutex<FaultCluster>>,
    timeline: Vec<Event>,
    problems: Vec<String>,
}

impl FaultRun {
    /// Starts `servers` servers for the scenario `name`, seeded with `default_seed`
    /// unless `PROCONSUL_FAULT_SEED` says otherwise.
    pub fn start(name: &str, default_seed: u64, servers: usize) -> FaultRun {
        FaultRun::start_with_env(name, default_seed, servers, &[])
    }

    /// [`FaultRun::start`] with environment variables for every server process (the
    /// partition layer's `PROCONSUL_TEST_FAULTS=1`, for one).
    pub fn start_with_env(
        name: &str,
        default_seed: u64,
        servers: usize,
        env: &[(&str, &str)],
    ) -> FaultRun {
        let seed = match std::env::var(SEED_VARIABLE) {
            Ok(text) => parse_seed(&text)
                .unwrap_or_else(|| panic!("{SEED_VARIABLE}={text:?} is not a number")),
            Err(_) => default_seed,
        };
        println!("fault run {name}: seed {seed:#x}, {servers} servers");
        let cluster = TestCluster::start_with_env(servers, &[], env);
        cluster.wait_for_leader(Duration::from_secs(30));
        let endpoints = Endpoints::new((0..servers).map(|i| cluster.agent(i).url("")).collect());
        let fault_cluster = FaultCluster {
            cluster,
            endpoints: endpoints.clone(),
            runtime: tokio::runtime::Handle::current(),
            old_logs: Vec::new(),
            problems: Vec::new(),
        };
        FaultRun {
            name: name.to_string(),
            seed,
            clock: Clock::start(),
            endpoints,
            rng: SeededRng::new(seed),
            cluster: Arc::new(Mutex::new(fault_cluster)),
            timeline: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// An independent random stream for one participant.
    pub fn rng(&self, stream: u64) -> SeededRng {
        self.rng.fork(stream)
    }

    /// Lets traffic run for `traffic`, with `nemeses` injecting faults on `schedule`
    /// (offsets from now), then heals them all.
    pub async fn faults(
        &mut self,
        nemeses: Vec<Box<dyn Nemesis>>,
        schedule: Schedule,
        traffic: Duration,
    ) {
        let cluster = self.cluster.clone();
        let mut rng = self.rng(0);
        let clock = self.clock;
        let start = clock.now_ns();
        let timeline = tokio::task::spawn_blocking(move || {
            let mut nemeses = nemeses;
            let mut cluster = cluster.lock().expect("cluster");
            run_timeline(&mut cluster, &mut nemeses, schedule, &mut rng, clock, start)
        });
        tokio::time::sleep(traffic).await;
        let timeline = timeline.await.expect("the nemesis thread panicked");
        for event in &timeline {
            println!("  {:>8.3}s {}", event.at_ns as f64 / 1e9, event.what);
        }
        self.timeline.extend(timeline);
    }

    /// Waits until every server runs, all agree on a leader, and every server is a voter
    /// of the Raft configuration again (a server taken out by the membership nemesis, or
    /// removed by autopilot while it was killed, must have been added back); a failure
    /// is recorded as a problem of the run.
    pub async fn wait_for_leader_and_voters(&mut self) {
        let cluster = self.cluster.clone();
        let (leader, not_voters) = tokio::task::spawn_blocking(move || {
            let cluster = cluster.lock().expect("cluster");
            for i in 0..cluster.cluster.size() {
                assert!(
                    cluster.cluster.running().contains(&i),
                    "server {i} is not running after the heal"
                );
            }
            let leader = cluster.leader(RECOVERY);
            let not_voters = match leader {
                Some(_) => cluster.wait_for_all_voters(RECOVERY),
                None => Vec::new(),
            };
            let labels: Vec<String> = not_voters
                .iter()
                .map(|i| cluster.endpoints.label(*i))
                .collect();
            (leader, labels)
        })
        .await
        .expect("the leader check panicked");
        match leader {
            Some(leader) => println!(
                "  {:>8.3}s leader {}",
                self.clock.now_ns() as f64 / 1e9,
                self.endpoints.label(leader)
            ),
            None => self.problems.push(format!(
                "no agreed leader within {RECOVERY:?} after the heal"
            )),
        }
        if !not_voters.is_empty() {
            self.problems.push(format!(
                "not voters of the Raft configuration within {RECOVERY:?} after the heal: {}",
                not_voters.join(", ")
            ));
        }
    }

    /// Ends the run: prints what was checked; on any violation saves the evidence and
    /// panics with the command that replays the run.
    pub fn finish(self, mut findings: Findings, artifacts: &[&dyn Artifact]) {
        let nemesis_problems = self.cluster.lock().expect("cluster").problems.clone();
        findings
            .violations
            .splice(0..0, self.problems.iter().chain(&nemesis_problems).cloned());
        for line in &findings.checked {
            println!("  checked {line}");
        }
        for line in &findings.undecided {
            println!("  UNDECIDED (the search's deadline passed; not a pass): {line}");
        }
        if findings.violations.is_empty() {
            println!("fault run {}: no violation", self.name);
            return;
        }
        let dir = self.save(&findings, artifacts);
        panic!(
            "fault run {} found {} violation(s):\n{}\n\nevidence kept in {}\nreplay: {SEED_VARIABLE}={:#x} cargo test -p proconsul-tests --test faults {} -- --nocapture",
            self.name,
            findings.violations.len(),
            findings.violations.join("\n\n"),
            dir.display(),
            self.seed,
            self.name,
        );
    }

    fn save(&self, findings: &Findings, artifacts: &[&dyn Artifact]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "proconsul-faults-{}-seed{:x}-{}",
            self.name,
            self.seed,
            std::process::id()
        ));
        let saved = (|| -> std::io::Result<()> {
            std::fs::create_dir_all(dir.join("logs"))?;
            std::fs::write(dir.join("seed"), format!("{:#x}\n", self.seed))?;
            let timeline: String = self
                .timeline
                .iter()
                .map(|event| format!("{:.3}s {}\n", event.at_ns as f64 / 1e9, event.what))
                .collect();
            std::fs::write(dir.join("timeline.txt"), timeline)?;
            std::fs::write(dir.join("violations.txt"), findings.violations.join("\n\n"))?;
            for artifact in artifacts {
                artifact.save(&dir)?;
            }
            let cluster = self.cluster.lock().expect("cluster");
            for (label, log) in &cluster.old_logs {
                std::fs::write(dir.join("logs").join(format!("{label}.log")), log)?;
            }
            for i in cluster.cluster.running() {
                let label = cluster.endpoints.label(i);
                std::fs::write(
                    dir.join("logs").join(format!("{label}.log")),
                    cluster.cluster.agent(i).log(),
                )?;
            }
            Ok(())
        })();
        if let Err(error) = saved {
            println!("could not save all evidence in {}: {error}", dir.display());
        }
        dir
    }
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}
