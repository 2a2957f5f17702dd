//! Faults, injected and healed on a seeded timeline. A [`Nemesis`] acts on a
//! [`FaultCluster`] from a blocking thread (the cluster's calls block); one that needs
//! async calls (the partition layer's `PUT /v1/internal/test/faults`) blocks on the
//! run's runtime through [`FaultCluster::runtime`], e.g.
//! `cluster.runtime.block_on(faults_api::apply(&cluster.cluster, &rules, seed))`, in a
//! run started with [`super::run::FaultRun::start_with_env`] and the layer's switch.

use std::time::Duration;

use super::http::Endpoints;
use super::recorder::Clock;
use super::rng::SeededRng;
use crate::cluster::TestCluster;

/// A kind of fault. `inject` starts one fault (choosing its target with `rng`) and says
/// what it did; `heal` undoes every fault this nemesis still has in place. Both are
/// called from the timeline's thread, never concurrently.
pub trait Nemesis: Send {
    /// A short name for the timeline (`pause`, `kill`, `partition`).
    fn name(&self) -> &'static str;

    fn inject(&mut self, cluster: &mut FaultCluster, rng: &mut SeededRng) -> String;

    /// Returns what it undid, if anything.
    fn heal(&mut self, cluster: &mut FaultCluster) -> Option<String>;
}

/// The cluster as nemeses see it: the servers, their endpoints (whose generation a
/// restart bumps), the runtime, and the logs of processes that were killed.
pub struct FaultCluster {
    pub cluster: TestCluster,
    pub endpoints: Endpoints,
    pub runtime: tokio::runtime::Handle,
    /// `(server label, log)` of every process that is gone.
    pub old_logs: Vec<(String, String)>,
    /// What a nemesis saw go wrong while injecting or healing (a server that left yet
    /// is still counted as a voter); the run's end reports them as violations.
    pub problems: Vec<String>,
}

impl FaultCluster {
    /// The server every running server agrees leads, if they agree within `within`.
    pub fn leader(&self, within: Duration) -> Option<usize> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(leader) = self.cluster.agreed_leader() {
                return Some(leader);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A running server: the leader with probability `leader_percent`, else any; and
    /// how to name it in the timeline (`server-2#0 (leader)`).
    pub fn pick(&self, rng: &mut SeededRng, leader_percent: u64) -> (usize, String) {
        let running = self.cluster.running();
        let wants_leader = rng.percent(leader_percent);
        let any = running[rng.below(running.len() as u64) as usize];
        let leader = self.leader(Duration::from_secs(2));
        let target = match leader {
            Some(leader) if wants_leader => leader,
            _ => any,
        };
        let role = if Some(target) == leader {
            " (leader)"
        } else {
            ""
        };
        (target, format!("{}{role}", self.endpoints.label(target)))
    }

    /// Kills server `i` with SIGKILL, keeping its log.
    pub fn kill(&mut self, i: usize) {
        self.keep_log(i);
        self.cluster.kill(i);
    }

    /// Stops server `i` with SIGTERM (it does not leave the cluster), keeping its log.
    pub fn terminate(&mut self, i: usize) {
        self.keep_log(i);
        self.cluster.terminate(i);
    }

    /// Lets go of server `i`, whose process ended on its own (after a leave), keeping
    /// its log.
    pub fn forget_exited(&mut self, i: usize) {
        self.keep_log(i);
        self.cluster.forget(i);
    }

    fn keep_log(&mut self, i: usize) {
        let log = self.cluster.agent(i).log();
        self.old_logs.push((self.endpoints.label(i), log));
    }

    /// The Raft configuration as the agreed leader (found within `within`) answers it:
    /// each server of this cluster it lists, by index, and whether it is a voter. `None`
    /// without an agreed leader or an answer from it.
    pub fn raft_configuration(&self, within: Duration) -> Option<Vec<(usize, bool)>> {
        let leader = self.leader(within)?;
        let url = self
            .cluster
            .agent(leader)
            .url("/v1/operator/raft/configuration");
        let body = crate::blocking_get(&url).ok()?;
        let configuration: serde_json::Value = serde_json::from_str(&body).ok()?;
        let servers = configuration["Servers"].as_array()?;
        Some(
            servers
                .iter()
                .filter_map(|server| {
                    let address = server["Address"].as_str()?;
                    let i =
                        (0..self.cluster.size()).find(|i| self.cluster.rpc_addr(*i) == address)?;
                    Some((i, server["Voter"].as_bool() == Some(true)))
                })
                .collect(),
        )
    }

    /// Waits up to `within` until every server of the cluster is a voter of the
    /// configuration; returns those that are not (empty once all are). Unknown (no
    /// agreed leader) counts every server as missing.
    pub fn wait_for_all_voters(&self, within: Duration) -> Vec<usize> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let missing: Vec<usize> = match self.raft_configuration(Duration::from_secs(2)) {
                Some(configuration) => (0..self.cluster.size())
                    .filter(|i| !configuration.contains(&(*i, true)))
                    .collect(),
                None => (0..self.cluster.size()).collect(),
            };
            if missing.is_empty() || std::time::Instant::now() > deadline {
                return missing;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Starts server `i` again (a new generation) without waiting for it.
    pub fn restart(&mut self, i: usize) {
        self.endpoints.restarted(i);
        self.cluster.restart(i);
    }
}

/// One line of the nemesis timeline.
#[derive(Debug, Clone)]
pub struct Event {
    pub at_ns: u64,
    pub what: String,
}

/// When faults happen: from `start` to `end` of the traffic (measured from its start),
/// a fault lasting 1–5 s, then a quiet 0.5–2 s, and so on.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Duration,
    pub end: Duration,
}

/// Runs the timeline on the calling (blocking) thread: faults from `schedule.start` to
/// `schedule.end` after `clock`'s `traffic_start_ns`, each nemesis chosen with `rng`,
/// then heals them all. Returns the timeline.
pub fn run_timeline(
    cluster: &mut FaultCluster,
    nemeses: &mut [Box<dyn Nemesis>],
    schedule: Schedule,
    rng: &mut SeededRng,
    clock: Clock,
    traffic_start_ns: u64,
) -> Vec<Event> {
    let mut timeline = Vec::new();
    let at = |offset: Duration| traffic_start_ns + offset.as_nanos() as u64;
    sleep_until(clock, at(schedule.start));
    while !nemeses.is_empty() && clock.now_ns() < at(schedule.end) {
        let which = rng.below(nemeses.len() as u64) as usize;
        let nemesis = &mut nemeses[which];
        let what = nemesis.inject(cluster, rng);
        timeline.push(Event {
            at_ns: clock.now_ns(),
            what: format!("{}: {what}", nemesis.name()),
        });
        let lasts = rng.millis(1000, 5000);
        sleep_until(
            clock,
            (clock.now_ns() + lasts.as_nanos() as u64).min(at(schedule.end)),
        );
        if let Some(what) = nemesis.heal(cluster) {
            timeline.push(Event {
                at_ns: clock.now_ns(),
                what: format!("{}: {what}", nemesis.name()),
            });
        }
        std::thread::sleep(rng.millis(500, 2000));
    }
    timeline.extend(heal_all(cluster, nemeses, clock));
    timeline
}

/// Heals every nemesis (the run's end, or a failure).
pub fn heal_all(
    cluster: &mut FaultCluster,
    nemeses: &mut [Box<dyn Nemesis>],
    clock: Clock,
) -> Vec<Event> {
    nemeses
        .iter_mut()
        .filter_map(|nemesis| {
            let name = nemesis.name();
            nemesis.heal(cluster).map(|what| Event {
                at_ns: clock.now_ns(),
                what: format!("{name}: {what} (final heal)"),
            })
        })
        .collect()
}

fn sleep_until(clock: Clock, at_ns: u64) {
    let now = clock.now_ns();
    if at_ns > now {
        std::thread::sleep(Duration::from_nanos(at_ns - now));
    }
}
