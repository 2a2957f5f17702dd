//! Network partitions between servers, as a [`Nemesis`], so that the recorded workloads
//! are judged by the checker while the servers cannot all reach each other. The rules
//! come from the servers' test fault layer ([`crate::faults_api`]), so a run using this
//! nemesis starts its cluster with [`crate::faults_api::FAULTS_ENV`]
//! ([`super::run::FaultRun::start_with_env`]). Each fault is one
//! [`PartitionShape`] chosen with the run's seeded generator, laid around the server
//! that leads when it is injected; the seed replays the shapes, not which server leads.

use std::time::Duration;

use super::nemesis::{FaultCluster, Nemesis};
use super::rng::SeededRng;
use crate::faults_api::{self, PartitionShape, Rule};

/// How long `inject` waits for the servers to agree on a leader to lay the shape around.
const LEADER_WAIT: Duration = Duration::from_secs(2);

/// Partitions the servers in one of the [`PartitionShape`]s at a time; `heal` removes
/// every rule on every server.
#[derive(Default)]
pub struct PartitionNemesis {
    /// Whether rules are in force (set by `inject`, cleared by `heal`).
    in_force: bool,
}

impl Nemesis for PartitionNemesis {
    fn name(&self) -> &'static str {
        "partition"
    }

    fn inject(&mut self, cluster: &mut FaultCluster, rng: &mut SeededRng) -> String {
        let shape = PartitionShape::ALL[rng.below(PartitionShape::ALL.len() as u64) as usize];
        // Drawn whether it is needed or not, so the seed's later choices stay the same.
        let running = cluster.cluster.running();
        let fallback = running[rng.below(running.len() as u64) as usize];
        let (leader, role) = match cluster.leader(LEADER_WAIT) {
            Some(leader) => (leader, "leader"),
            None => (fallback, "no agreed leader; chosen"),
        };
        let rules = shape.rules(cluster.cluster.size(), leader);
        cluster
            .runtime
            .block_on(faults_api::apply(&cluster.cluster, &rules, 0));
        self.in_force = true;
        format!(
            "{} around {} ({role}): {}",
            shape.name(),
            cluster.endpoints.label(leader),
            describe_links(cluster, &rules)
        )
    }

    fn heal(&mut self, cluster: &mut FaultCluster) -> Option<String> {
        if !self.in_force {
            return None;
        }
        cluster
            .runtime
            .block_on(faults_api::heal_all(&cluster.cluster));
        self.in_force = false;
        Some("every link restored".to_string())
    }
}

/// The cut links for the timeline: `A <-> B` when both directions are lost, `A -> B`
/// when only what A sends to B is.
fn describe_links(cluster: &FaultCluster, rules: &[Rule]) -> String {
    let mut links: Vec<(usize, usize)> = rules
        .iter()
        .filter_map(|rule| Some((rule.from?, rule.to?)))
        .collect();
    links.sort_by_key(|&(from, to)| (from.min(to), from.max(to), from));
    let label = |i: usize| cluster.endpoints.label(i);
    links
        .iter()
        .filter_map(|&(from, to)| {
            let both_ways = links.contains(&(to, from));
            match (both_ways, from < to) {
                (true, true) => Some(format!("{} <-> {}", label(from), label(to))),
                (true, false) => None,
                (false, _) => Some(format!("{} -> {}", label(from), label(to))),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
