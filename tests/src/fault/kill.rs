//! kill -9 and restart: a quorum-safe set of servers (a minority: one of three, two of
//! five; the leader half of the time), or with [`KillNemesis::whole_cluster`] every
//! server at once, killed with SIGKILL, then started again with their data dirs. What
//! was acknowledged must survive it.

use super::nemesis::{FaultCluster, Nemesis};
use super::rng::SeededRng;

/// Kills a minority of the servers at a time, or all of them.
#[derive(Default)]
pub struct KillNemesis {
    killed: Vec<usize>,
    whole_cluster: bool,
}

impl KillNemesis {
    /// Kills every server at once (a power cut of the whole cluster, except that the
    /// page cache survives).
    pub fn whole_cluster() -> KillNemesis {
        KillNemesis {
            killed: Vec::new(),
            whole_cluster: true,
        }
    }
}

impl Nemesis for KillNemesis {
    fn name(&self) -> &'static str {
        if self.whole_cluster {
            "kill-all"
        } else {
            "kill"
        }
    }

    fn inject(&mut self, cluster: &mut FaultCluster, rng: &mut SeededRng) -> String {
        let mut labels = Vec::new();
        if self.whole_cluster {
            for target in cluster.cluster.running() {
                labels.push(cluster.endpoints.label(target));
                cluster.kill(target);
                self.killed.push(target);
            }
        } else {
            let minority = (cluster.cluster.size() - 1) / 2;
            let count = 1 + rng.below(minority.max(1) as u64) as usize;
            for _ in 0..count {
                let (target, label) = cluster.pick(rng, 50);
                labels.push(label);
                cluster.kill(target);
                self.killed.push(target);
            }
        }
        format!("SIGKILL {}", labels.join(", "))
    }

    fn heal(&mut self, cluster: &mut FaultCluster) -> Option<String> {
        if self.killed.is_empty() {
            return None;
        }
        let mut restarted = Vec::new();
        for target in self.killed.drain(..) {
            cluster.restart(target);
            restarted.push(cluster.endpoints.label(target));
        }
        Some(format!("restart as {}", restarted.join(", ")))
    }
}
