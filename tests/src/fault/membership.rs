//! Membership changes under load, as a [`Nemesis`]: one server taken out of the Raft
//! configuration while the workloads run, then brought back as a voter, so that the
//! checker judges the histories across configuration changes (a leader removing itself
//! and handing over, a quorum counted over two voters, a returning server catching up).
//! Consul's two ways are used, chosen with the run's seed:
//! - **leave**: `PUT /v1/agent/leave` on the server. It takes itself out of the
//!   configuration, gossips its leave and exits.
//! - **remove-peer**: `DELETE /v1/operator/raft/peer?address=` (or `?id=`) through
//!   another server, then the removed server is stopped with SIGTERM (a server does not
//!   leave on SIGTERM).
//!
//! The heal starts the server again with its data dir (a server that left or was
//! removed finds through `-retry-join` a cluster that does not count it and asks to be
//! added; autopilot makes it a voter once it has stayed healthy for
//! `ServerStabilizationTime`), and waits until the leader's configuration counts it as
//! a voter. A leave or removal answered 200 after which the leader's configuration still
//! counts the server as a voter is a violation of the run (the others' quorum would
//! count a server that is gone). Only one server is out at a time, and only when every server is a voter, so
//! the configuration keeps a majority of the original voters. While a server is out,
//! the workloads' requests to it fail to connect (or are unanswered while it leaves),
//! as with a killed server; the restarted process is a new one for per-server checks.

use std::time::{Duration, Instant};

use super::nemesis::{FaultCluster, Nemesis};
use super::rng::SeededRng;

/// How long `inject` waits for every server to be a voter before it skips its turn (a
/// server added back by an earlier heal or after a kill may still be a learner).
const ALL_VOTERS_WAIT: Duration = Duration::from_secs(10);

/// How long a leave or a removal may take: openraft's membership change (30 s at most in
/// Proconsul) and, for a leave, gossiping it.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(45);

/// How long a server that left may take to exit before it is killed.
const EXIT_WAIT: Duration = Duration::from_secs(15);

/// How long the heal waits for the returning server to be a voter: catching up,
/// autopilot's stabilization time, and the promotion. Not an assertion: a server that is
/// not a voter by then is reported by the run's end ([`FaultCluster::wait_for_all_voters`]).
const VOTER_WAIT: Duration = Duration::from_secs(60);

/// How a server is taken out of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Departure {
    /// `PUT /v1/agent/leave` on the server itself.
    Leave,
    /// `DELETE /v1/operator/raft/peer` through another server, then SIGTERM.
    RemovePeer,
}

/// Takes one server out of the configuration at a time; `heal` starts it again and
/// waits until it is a voter.
#[derive(Default)]
pub struct MembershipNemesis {
    /// The server that is out, if any.
    out: Option<usize>,
}

impl Nemesis for MembershipNemesis {
    fn name(&self) -> &'static str {
        "membership"
    }

    fn inject(&mut self, cluster: &mut FaultCluster, rng: &mut SeededRng) -> String {
        // Every choice is drawn up front, so the seed's later choices stay the same
        // whichever way this one goes.
        let (target, label) = cluster.pick(rng, 50);
        let departure = if rng.percent(50) {
            Departure::Leave
        } else {
            Departure::RemovePeer
        };
        let by_id = rng.percent(50);
        let via_draw = rng.below(cluster.cluster.size() as u64) as usize;
        if self.out.is_some() {
            return "skipped: a server is still out".to_string();
        }
        let not_voters = cluster.wait_for_all_voters(ALL_VOTERS_WAIT);
        if !not_voters.is_empty() {
            let labels: Vec<String> = not_voters
                .iter()
                .map(|i| cluster.endpoints.label(*i))
                .collect();
            return format!(
                "skipped: not every server is a voter (missing {})",
                labels.join(", ")
            );
        }
        self.out = Some(target);
        let (accepted, done) = match departure {
            Departure::Leave => leave(cluster, target, &label),
            Departure::RemovePeer => {
                let others: Vec<usize> = cluster
                    .cluster
                    .running()
                    .into_iter()
                    .filter(|i| *i != target)
                    .collect();
                let via = others[via_draw % others.len()];
                remove_peer(cluster, target, &label, via, by_id)
            }
        };
        let (listed, configuration) = configuration_of(cluster, target);
        // A leave or a removal that was answered 200 must have taken the server's vote
        // away: the others' quorum must not count a server that is gone.
        if accepted && listed == Some(true) {
            cluster.problems.push(format!(
                "{done}, yet the leader's Raft configuration still counts it as a voter"
            ));
        }
        format!("{done}; {configuration}")
    }

    fn heal(&mut self, cluster: &mut FaultCluster) -> Option<String> {
        let target = self.out.take()?;
        cluster.restart(target);
        let label = cluster.endpoints.label(target);
        let started = Instant::now();
        let deadline = started + VOTER_WAIT;
        loop {
            let voter = cluster
                .raft_configuration(Duration::from_secs(2))
                .is_some_and(|configuration| configuration.contains(&(target, true)));
            if voter {
                return Some(format!(
                    "restart as {label}; a voter again after {:.1}s",
                    started.elapsed().as_secs_f64()
                ));
            }
            if Instant::now() > deadline {
                return Some(format!(
                    "restart as {label}; NOT a voter within {VOTER_WAIT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Whether the leader's configuration still lists `target` (`Some(voter)`), and that
/// in words for the timeline.
fn configuration_of(cluster: &FaultCluster, target: usize) -> (Option<bool>, String) {
    match cluster.raft_configuration(Duration::from_secs(5)) {
        None => (
            None,
            "configuration unknown (no agreed leader within 5s)".to_string(),
        ),
        Some(configuration) => match configuration.iter().find(|(i, _)| *i == target) {
            None => (None, "out of the configuration".to_string()),
            Some((_, true)) => (Some(true), "still a voter of the configuration".to_string()),
            Some((_, false)) => (
                Some(false),
                "still a non-voter of the configuration".to_string(),
            ),
        },
    }
}

/// `PUT /v1/agent/leave` on `target`, then waits for its process to exit (killing it if
/// it does not). Returns whether the leave was answered 200, and what happened.
fn leave(cluster: &mut FaultCluster, target: usize, label: &str) -> (bool, String) {
    let url = cluster.cluster.agent(target).url("/v1/agent/leave");
    let (accepted, answer) = request(cluster, reqwest::Method::PUT, &url);
    let deadline = Instant::now() + EXIT_WAIT;
    while !cluster.cluster.has_exited(target) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if cluster.cluster.has_exited(target) {
        cluster.forget_exited(target);
        (accepted, format!("leave {label}: {answer}; exited"))
    } else {
        cluster.kill(target);
        let what = format!("leave {label}: {answer}; did not exit within {EXIT_WAIT:?}, SIGKILL");
        (accepted, what)
    }
}

/// `DELETE /v1/operator/raft/peer` for `target` through `via` (by its ID or its
/// address), then SIGTERM to `target`. Returns whether the removal was answered 200, and
/// what happened.
fn remove_peer(
    cluster: &mut FaultCluster,
    target: usize,
    label: &str,
    via: usize,
    by_id: bool,
) -> (bool, String) {
    let address = cluster.cluster.rpc_addr(target);
    let query = if by_id {
        match node_id(cluster, target) {
            Some(id) => format!("id={id}"),
            None => format!("address={address}"),
        }
    } else {
        format!("address={address}")
    };
    let url = cluster
        .cluster
        .agent(via)
        .url(&format!("/v1/operator/raft/peer?{query}"));
    let (accepted, answer) = request(cluster, reqwest::Method::DELETE, &url);
    cluster.terminate(target);
    let what = format!(
        "remove {label} ({query}) through {}: {answer}; SIGTERM",
        cluster.endpoints.label(via)
    );
    (accepted, what)
}

/// `target`'s node ID (`/v1/agent/self`'s `Config.NodeID`), as `?id=` takes it.
fn node_id(cluster: &FaultCluster, target: usize) -> Option<String> {
    let url = cluster.cluster.agent(target).url("/v1/agent/self");
    let body = crate::blocking_get(&url).ok()?;
    let agent: serde_json::Value = serde_json::from_str(&body).ok()?;
    Some(agent["Config"]["NodeID"].as_str()?.to_string())
}

/// Sends a bodiless request: whether it was answered 200, and how it went (`200`,
/// `500 <body>`, or the error).
fn request(cluster: &FaultCluster, method: reqwest::Method, url: &str) -> (bool, String) {
    let client = super::http::client(CHANGE_TIMEOUT);
    cluster.runtime.block_on(async {
        match client.request(method, url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                if status == 200 {
                    (true, "200".to_string())
                } else {
                    (false, format!("{status} {}", body.trim()))
                }
            }
            Err(error) => (false, format!("no answer ({error})")),
        }
    })
}
