//! The leader's reconciliation loop: every membership event, and every member every
//! `reconcile_interval` (Consul: 60 s, and at once on gaining leadership), is planned by
//! [`Reconciler`] against the latest catalog and written through Raft. Only the leader
//! writes; followers keep listening so that a new leader starts with a full pass.
//!
//! Timed as Consul times its leader loop: `leader.reconcile` per full pass (members and
//! orphans), `leader.reconcileMember` per member planned (and written when it differs).
//!
//! Beyond Consul, a member reported failed is written critical only once it has stayed
//! failed for `gossip_failure_hold_down`, so a member that flaps back within a probe
//! round costs no Raft entry and no health-answer churn.

use std::collections::BTreeMap;
use std::time::Duration;

use metrics::{Histogram, histogram};
use proconsul_consensus::Consensus;
use proconsul_gossip::{Gossip, Member, MemberEvent, MemberStatus};
use proconsul_state::CommandOutcome;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::membership::dead_servers::{GossipVerdict, servers_to_remove};
use crate::membership::reconcile::{MemberState, MemberView, Reconciler};
use crate::membership::tags;
use crate::telemetry::Timer;

/// How often leadership and pending hold-downs are looked at.
const TICK: Duration = Duration::from_millis(250);
/// How often the leader looks for dead servers to take out of Raft (autopilot).
const DEAD_SERVER_INTERVAL: Duration = Duration::from_secs(5);
/// A new leader waits this long before its full pass, so that members gossip has not
/// merged yet (a server just restarted) are not taken for orphans.
const NEW_LEADER_GRACE: Duration = Duration::from_secs(5);

/// What the loop needs; everything else it reads from gossip and consensus.
pub struct ReconcileLoop {
    pub gossip: Gossip,
    pub consensus: Consensus,
    pub reconciler: Reconciler,
    pub interval: Duration,
    pub failure_hold_down: Duration,
}

/// The loop's timers, made once when it starts.
struct ReconcileTimers {
    reconcile: Histogram,
    member: Histogram,
}

impl ReconcileTimers {
    fn new() -> ReconcileTimers {
        ReconcileTimers {
            reconcile: histogram!("leader.reconcile"),
            member: histogram!("leader.reconcileMember"),
        }
    }
}

/// A member as reconciliation sees it.
pub fn view(member: &Member, state: MemberState) -> MemberView {
    MemberView {
        name: member.name.clone(),
        addr: member.addr.ip(),
        tags: member.tags.clone(),
        state,
    }
}

fn state_of(status: MemberStatus) -> MemberState {
    match status {
        MemberStatus::Alive => MemberState::Alive,
        MemberStatus::Failed => MemberState::Failed,
        MemberStatus::Left => MemberState::Left,
        MemberStatus::Leaving | MemberStatus::None => MemberState::Leaving,
    }
}

impl ReconcileLoop {
    /// Runs until `shutdown`.
    pub fn spawn(self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { self.run(shutdown).await })
    }

    async fn run(self, shutdown: CancellationToken) {
        let mut events = self.gossip.subscribe();
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Failed members waiting out the hold-down, by name.
        let mut held: BTreeMap<String, Instant> = BTreeMap::new();
        let mut was_leader = false;
        let mut next_full: Option<Instant> = None;
        let mut next_cleanup = Instant::now();
        let timers = ReconcileTimers::new();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                event = events.recv() => match event {
                    Ok(event) if was_leader => self.on_event(event, &mut held, &timers).await,
                    Ok(_) => {}
                    // Missed events are caught by a full pass.
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "serf: reconcile missed events; reconciling every member");
                        next_full = Some(Instant::now());
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = ticker.tick() => {
                    let leader = self.consensus.is_leader();
                    if leader && !was_leader {
                        next_full = Some(Instant::now() + NEW_LEADER_GRACE);
                    }
                    was_leader = leader;
                    if !leader {
                        held.clear();
                        continue;
                    }
                    let now = Instant::now();
                    self.release_held(&mut held, now, &timers).await;
                    if next_full.is_some_and(|at| now >= at) {
                        self.full_pass(&held, &timers).await;
                        next_full = Some(now + self.interval);
                    }
                    if now >= next_cleanup {
                        self.remove_dead_servers().await;
                        next_cleanup = now + DEAD_SERVER_INTERVAL;
                    }
                }
            }
        }
    }

    async fn on_event(
        &self,
        event: MemberEvent,
        held: &mut BTreeMap<String, Instant>,
        timers: &ReconcileTimers,
    ) {
        match event {
            MemberEvent::Failed(member) if !self.failure_hold_down.is_zero() => {
                held.entry(member.name.clone())
                    .or_insert_with(|| Instant::now() + self.failure_hold_down);
            }
            MemberEvent::Reap(member) => {
                held.remove(&member.name);
                self.write(&view(&member, MemberState::Reaped), timers)
                    .await;
            }
            MemberEvent::Join(member)
            | MemberEvent::Leave(member)
            | MemberEvent::Failed(member)
            | MemberEvent::Update(member) => {
                // The member as it is now (a later event may already have moved it).
                let current = self.gossip.member(&member.name).unwrap_or(member);
                if current.status != MemberStatus::Failed {
                    held.remove(&current.name);
                }
                self.write(&view(&current, state_of(current.status)), timers)
                    .await;
            }
        }
    }

    /// Writes the failed members whose hold-down ended and that are still failed.
    async fn release_held(
        &self,
        held: &mut BTreeMap<String, Instant>,
        now: Instant,
        timers: &ReconcileTimers,
    ) {
        let due: Vec<String> = held
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            held.remove(&name);
            if let Some(member) = self.gossip.member(&name)
                && member.status == MemberStatus::Failed
            {
                self.write(&view(&member, MemberState::Failed), timers)
                    .await;
            }
        }
    }

    /// Every member (failed ones still held down wait), then the catalog's nodes no
    /// member owns.
    async fn full_pass(&self, held: &BTreeMap<String, Instant>, timers: &ReconcileTimers) {
        let _timer = Timer::start(&timers.reconcile);
        let views: Vec<MemberView> = self
            .gossip
            .members()
            .iter()
            .map(|member| view(member, state_of(member.status)))
            .collect();
        for member in views.iter().filter(|m| !held.contains_key(&m.name)) {
            self.write(member, timers).await;
        }
        let state = self.consensus.reader().current();
        for command in self.reconciler.plan_orphans(&views, &state) {
            self.commit(command).await;
        }
    }

    /// Autopilot: servers that left, and (with `cleanup_dead_servers`) failed ones, out
    /// of the Raft configuration.
    async fn remove_dead_servers(&self) {
        let verdicts: BTreeMap<String, GossipVerdict> = self
            .gossip
            .members()
            .into_iter()
            .filter(|member| tags::is_server(&member.tags))
            .filter_map(|member| {
                let verdict = match member.status {
                    MemberStatus::Alive => GossipVerdict::Alive,
                    MemberStatus::Failed => GossipVerdict::Failed,
                    MemberStatus::Left => GossipVerdict::Gone,
                    MemberStatus::Leaving | MemberStatus::None => return None,
                };
                Some((member.name, verdict))
            })
            .collect();
        let autopilot = self.consensus.autopilot_configuration();
        let servers = self.consensus.configuration().servers;
        for node_id in servers_to_remove(
            &servers,
            &verdicts,
            autopilot.cleanup_dead_servers,
            autopilot.min_quorum,
        ) {
            let name = servers
                .iter()
                .find(|server| server.node_id == node_id)
                .map_or("", |server| server.name.as_str());
            tracing::info!(server = %name, "autopilot: removing a dead server from the Raft configuration");
            if let Err(error) = self.consensus.remove_server(node_id).await {
                tracing::warn!(server = %name, %error, "autopilot: removing a dead server failed; will retry");
            }
        }
    }

    async fn write(&self, member: &MemberView, timers: &ReconcileTimers) {
        let _timer = Timer::start(&timers.member);
        let state = self.consensus.reader().current();
        if let Some(command) = self.reconciler.plan(member, &state) {
            tracing::info!(member = %member.name, state = ?member.state, "serf: reconciling member into the catalog");
            self.commit(command).await;
        }
    }

    async fn commit(&self, command: proconsul_state::Command) {
        match self.consensus.write(command).await {
            Ok(applied) => {
                if let CommandOutcome::Rejected(reason) = applied.outcome {
                    tracing::warn!(%reason, "serf: the catalog refused a reconcile write");
                }
            }
            Err(error) => {
                tracing::warn!(%error, "serf: reconcile write failed; the next pass retries")
            }
        }
    }
}
