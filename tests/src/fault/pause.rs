//! SIGSTOP pauses: a server (the leader half of the time) frozen, then SIGCONT. A paused
//! server holds its connections open and answers nothing, as a long GC pause or a
//! stalled VM would.

use super::nemesis::{FaultCluster, Nemesis};
use super::rng::SeededRng;

/// Pauses one server at a time.
#[derive(Default)]
pub struct PauseNemesis {
    paused: Vec<usize>,
}

impl Nemesis for PauseNemesis {
    fn name(&self) -> &'static str {
        "pause"
    }

    fn inject(&mut self, cluster: &mut FaultCluster, rng: &mut SeededRng) -> String {
        let (target, label) = cluster.pick(rng, 50);
        cluster.cluster.agent(target).signal("STOP");
        self.paused.push(target);
        format!("SIGSTOP {label}")
    }

    fn heal(&mut self, cluster: &mut FaultCluster) -> Option<String> {
        if self.paused.is_empty() {
            return None;
        }
        let mut resumed = Vec::new();
        for target in self.paused.drain(..) {
            cluster.cluster.agent(target).signal("CONT");
            resumed.push(cluster.endpoints.label(target));
        }
        Some(format!("SIGCONT {}", resumed.join(", ")))
    }
}
