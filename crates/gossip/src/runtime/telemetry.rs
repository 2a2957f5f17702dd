//! memberlist's and serf's metrics, recorded by the tokio driver (the pure core only
//! reports what happened, in its outputs), with Consul's names and its `network` label
//! (`lan` or `wan`, the pool's `GossipConfig::network`). Handles are made once per
//! member; with no recorder installed they are the `metrics` facade's no-ops.
//!
//! - `memberlist.udp.sent` / `udp.received` (bytes), `memberlist.tcp.accept`,
//!   `tcp.connect` (connections), `tcp.sent` (bytes);
//! - `memberlist.probeNode` (timer: one probe, acked or failed) and
//!   `memberlist.degraded.probe` (probes begun with degraded local health),
//!   `memberlist.pushPullNode` (timer: one push-pull exchange),
//!   `memberlist.health.score` (gauge: Lifeguard's awareness);
//! - `serf.member.join`, `member.left`, `member.failed`, `member.update` (one per event),
//!   `serf.member.flap` (a member that failed and is alive again within serf's flap
//!   timeout, 60 s).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};

use crate::member::MemberEvent;

/// serf's `FlapTimeout`.
const FLAP_TIMEOUT: Duration = Duration::from_secs(60);

/// One member's handles.
pub(crate) struct GossipMetrics {
    pub udp_sent: Counter,
    pub udp_received: Counter,
    pub tcp_accept: Counter,
    pub tcp_connect: Counter,
    pub tcp_sent: Counter,
    pub probe_node: Histogram,
    pub degraded_probe: Counter,
    pub push_pull_node: Histogram,
    pub health_score: Gauge,
    member_join: Counter,
    member_left: Counter,
    member_failed: Counter,
    member_update: Counter,
    member_flap: Counter,
    /// When each member now failed was reported failed (bounded by the members known).
    failed_at: Mutex<HashMap<String, Instant>>,
}

impl GossipMetrics {
    /// Handles labelled `network=<network>`.
    pub fn new(network: &'static str) -> GossipMetrics {
        let (key, value) = ("network", network);
        GossipMetrics {
            udp_sent: counter!("memberlist.udp.sent", key => value),
            udp_received: counter!("memberlist.udp.received", key => value),
            tcp_accept: counter!("memberlist.tcp.accept", key => value),
            tcp_connect: counter!("memberlist.tcp.connect", key => value),
            tcp_sent: counter!("memberlist.tcp.sent", key => value),
            probe_node: histogram!("memberlist.probeNode", key => value),
            degraded_probe: counter!("memberlist.degraded.probe", key => value),
            push_pull_node: histogram!("memberlist.pushPullNode", key => value),
            health_score: gauge!("memberlist.health.score", key => value),
            member_join: counter!("serf.member.join", key => value),
            member_left: counter!("serf.member.left", key => value),
            member_failed: counter!("serf.member.failed", key => value),
            member_update: counter!("serf.member.update", key => value),
            member_flap: counter!("serf.member.flap", key => value),
            failed_at: Mutex::new(HashMap::new()),
        }
    }

    /// One of our probes ended.
    pub fn probed(&self, elapsed: Duration, degraded: bool) {
        self.probe_node.record(elapsed.as_secs_f64() * 1000.0);
        if degraded {
            self.degraded_probe.increment(1);
        }
    }

    /// Counts a membership event as serf does.
    pub fn event(&self, event: &MemberEvent) {
        let mut failed_at = self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            MemberEvent::Join(member) => {
                self.member_join.increment(1);
                if failed_at
                    .remove(&member.name)
                    .is_some_and(|at| at.elapsed() < FLAP_TIMEOUT)
                {
                    self.member_flap.increment(1);
                }
            }
            MemberEvent::Leave(member) => {
                self.member_left.increment(1);
                failed_at.remove(&member.name);
            }
            MemberEvent::Failed(member) => {
                self.member_failed.increment(1);
                failed_at.insert(member.name.clone(), Instant::now());
            }
            MemberEvent::Update(_) => self.member_update.increment(1),
            MemberEvent::Reap(member) => {
                failed_at.remove(&member.name);
            }
        }
    }
}
