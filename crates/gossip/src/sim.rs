//! Deterministic simulation of a whole cluster in one process: the same pure cores the agent
//! runs, a fake network (latency, loss, partitions, TCP for push-pull and fallback probes),
//! virtual time and one seeded random generator, so a run is reproducible from its seed.
//! A member can be killed, made to leave, restarted as a new generation, or CPU-starved
//! (frozen for part of every period, handling what arrived meanwhile late).
//!
//! Used by the simulation tests and by the benchmark (`proconsul-bench gossip-sim`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::config::GossipTiming;
use crate::core::{Core, CoreConfig, Output};
use crate::identity::NodeId;
use crate::keyring::Keyring;
use crate::member::{Member, MemberEvent, MemberStatus};
use crate::wire::{PushPullState, StreamMsg};

/// The cluster and network to simulate.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Members at the start.
    pub members: usize,
    /// Seeds everything: same seed, same run.
    pub seed: u64,
    /// Protocol timing of every member.
    pub timing: GossipTiming,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// One-way latency, uniform in `min_latency..=max_latency`.
    pub min_latency: Duration,
    /// See `min_latency`.
    pub max_latency: Duration,
    /// Seal every message with AES-GCM (costs CPU, changes nothing else).
    pub encrypt: bool,
    /// Failed members are reaped after this.
    pub reconnect_timeout: Duration,
    /// Left members are forgotten after this.
    pub tombstone_timeout: Duration,
}

impl SimConfig {
    /// Consul's LAN timing on a LAN-like network (0.1–1 ms, no loss).
    pub fn lan(members: usize, seed: u64) -> SimConfig {
        SimConfig {
            members,
            seed,
            timing: GossipTiming::lan(),
            loss: 0.0,
            min_latency: Duration::from_micros(100),
            max_latency: Duration::from_millis(1),
            encrypt: false,
            reconnect_timeout: Duration::from_secs(72 * 3600),
            tombstone_timeout: Duration::from_secs(24 * 3600),
        }
    }
}

/// Something a member saw happen to another (recorded after `start_recording`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// Virtual time.
    pub at: Duration,
    /// The member that saw it.
    pub observer: usize,
    /// The member it is about.
    pub subject: usize,
    /// What it saw.
    pub kind: ObservedKind,
}

/// The kind of an observed membership event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObservedKind {
    /// `MemberEvent::Join`.
    Join,
    /// `MemberEvent::Leave`.
    Leave,
    /// `MemberEvent::Failed`.
    Failed,
    /// `MemberEvent::Update`.
    Update,
    /// `MemberEvent::Reap`.
    Reap,
}

#[derive(Debug)]
enum StreamKind {
    PushPull,
    Probe,
}

#[derive(Debug)]
enum Event {
    Start {
        node: usize,
    },
    Datagram {
        to: usize,
        data: Vec<u8>,
    },
    Timer {
        node: usize,
    },
    StreamRequest {
        from: usize,
        to: usize,
        frame: Vec<u8>,
        kind: StreamKind,
    },
    StreamReply {
        to: usize,
        frame: Vec<u8>,
        kind: StreamKind,
    },
    LeaveFinish {
        node: usize,
    },
}

impl Event {
    /// The member that handles the event.
    fn node(&self) -> usize {
        match self {
            Event::Start { node } | Event::Timer { node } | Event::LeaveFinish { node } => *node,
            Event::Datagram { to, .. }
            | Event::StreamRequest { to, .. }
            | Event::StreamReply { to, .. } => *to,
        }
    }
}

struct Scheduled {
    at: Duration,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// CPU starvation: the member runs for `run`, then is frozen for `freeze`, repeatedly.
#[derive(Clone, Copy, Debug)]
struct Starvation {
    run: Duration,
    freeze: Duration,
}

struct SimNode {
    core: Core,
    name: String,
    running: bool,
    /// Its datagrams are dropped both ways (streams still pass).
    udp_blocked: bool,
    timer_at: Option<Duration>,
    starved: Option<Starvation>,
}

/// Totals of the simulated traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimTraffic {
    /// Datagrams handed to the network.
    pub datagrams: u64,
    /// Their bytes.
    pub datagram_bytes: u64,
    /// The largest datagram sent.
    pub largest_datagram: usize,
    /// Datagrams the network lost.
    pub lost: u64,
    /// Bytes of TCP frames (push-pull, fallback probes).
    pub stream_bytes: u64,
    /// TCP fallback probes started.
    pub tcp_probes: u64,
    /// RTT samples produced.
    pub rtt_samples: u64,
}

/// A simulated cluster.
pub struct Simulation {
    config: SimConfig,
    nodes: Vec<SimNode>,
    by_addr: HashMap<SocketAddr, usize>,
    by_name: HashMap<String, usize>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    now: Duration,
    rng: StdRng,
    /// Partition group of each member (`None`: fully connected).
    groups: Option<Vec<u32>>,
    /// The membership every member starts from.
    bootstrap: Option<PushPullState>,
    recording: bool,
    observations: Vec<Observation>,
    traffic: SimTraffic,
}

fn sim_addr(i: usize) -> SocketAddr {
    let i = i as u32 + 1;
    SocketAddr::from((
        Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8),
        8301,
    ))
}

impl Simulation {
    /// Builds the cluster: every member starts (at a random moment of the first probe
    /// interval) already knowing all the others, as after a completed join.
    pub fn new(config: SimConfig) -> Simulation {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let keyring = config
            .encrypt
            .then(|| Keyring::new(rng.random::<[u8; 32]>().to_vec()).expect("32-byte key"));
        let mut sim = Simulation {
            nodes: Vec::with_capacity(config.members),
            by_addr: HashMap::new(),
            by_name: HashMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            now: Duration::ZERO,
            rng,
            groups: None,
            bootstrap: None,
            recording: false,
            observations: Vec::new(),
            traffic: SimTraffic::default(),
            config,
        };
        for i in 0..sim.config.members {
            let name = format!("node-{i}");
            let id = NodeId::new(name.as_str(), sim_addr(i), 1);
            let core = sim.new_core(id, keyring.clone());
            sim.by_addr.insert(sim_addr(i), i);
            sim.by_name.insert(name.clone(), i);
            sim.nodes.push(SimNode {
                core,
                name,
                running: true,
                udp_blocked: false,
                timer_at: None,
                starved: None,
            });
        }
        // One shared state (names shared between members, as Arc<str>), applied by each
        // member at a random moment of the first probe interval.
        let mut members = Vec::with_capacity(sim.nodes.len());
        let mut items = Vec::new();
        for node in &sim.nodes {
            let state = node.core.state();
            members.extend(
                state
                    .members
                    .into_iter()
                    .filter(|m| m.id() == node.core.local()),
            );
            items.extend(state.items);
        }
        let shared = PushPullState {
            from: sim.nodes[0].core.local().clone(),
            members,
            items,
            member_time: 2,
        };
        let interval = sim.config.timing.probe_interval;
        for i in 0..sim.nodes.len() {
            let _ = sim.nodes[i].core.take_outputs();
            let at = interval.mul_f64(sim.rng.random_range(0.0..1.0));
            sim.schedule(at, Event::Start { node: i });
        }
        sim.bootstrap = Some(shared);
        sim
    }

    fn new_core(&mut self, id: NodeId, keyring: Option<Keyring>) -> Core {
        Core::new(
            CoreConfig {
                identity: id,
                tags: Default::default(),
                timing: self.config.timing.clone(),
                reconnect_timeout: self.config.reconnect_timeout,
                tombstone_timeout: self.config.tombstone_timeout,
                keyring,
                verify_incoming: true,
                verify_outgoing: true,
                seed: self.rng.random(),
            },
            self.now,
        )
    }

    fn schedule(&mut self, at: Duration, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            event,
        }));
    }

    fn latency(&mut self) -> Duration {
        let (min, max) = (self.config.min_latency, self.config.max_latency);
        if max <= min {
            return min;
        }
        min + (max - min).mul_f64(self.rng.random_range(0.0..1.0))
    }

    fn connected(&self, a: usize, b: usize) -> bool {
        self.groups.as_ref().is_none_or(|g| g[a] == g[b])
    }

    /// When a starved member thaws, if it is frozen at `at`.
    fn frozen_until(&self, node: usize, at: Duration) -> Option<Duration> {
        let s = self.nodes[node].starved?;
        let period = (s.run + s.freeze).as_nanos();
        let phase = at.as_nanos() % period;
        (phase >= s.run.as_nanos()).then(|| at + Duration::from_nanos((period - phase) as u64))
    }

    // ----- driving -----

    /// Virtual time.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Runs the cluster for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.run_until(end, |_| false);
    }

    /// Runs until `done` holds (checked every 100 ms of virtual time) or `deadline`;
    /// returns whether `done` held.
    pub fn run_until(
        &mut self,
        deadline: Duration,
        mut done: impl FnMut(&Simulation) -> bool,
    ) -> bool {
        let step = Duration::from_millis(100);
        let mut next_check = self.now;
        loop {
            if self.now >= next_check {
                if done(self) {
                    return true;
                }
                next_check = self.now + step;
            }
            let limit = next_check.min(deadline);
            let due = self.queue.peek().is_some_and(|Reverse(s)| s.at <= limit);
            if !due {
                self.now = limit;
                if limit >= deadline {
                    return done(self);
                }
                continue;
            }
            let Some(Reverse(scheduled)) = self.queue.pop() else {
                continue;
            };
            self.now = self.now.max(scheduled.at);
            self.handle(scheduled.event);
        }
    }

    fn handle(&mut self, event: Event) {
        let node = event.node();
        if !self.nodes[node].running {
            return;
        }
        if let Some(thaw) = self.frozen_until(node, self.now) {
            self.schedule(thaw, event);
            return;
        }
        let now = self.now;
        match event {
            Event::Start { node } => {
                if let Some(state) = &self.bootstrap {
                    self.nodes[node].core.bootstrap(now, state.clone());
                }
            }
            Event::Datagram { to, data } => self.nodes[to].core.handle_datagram(now, &data),
            Event::Timer { node } => {
                if self.nodes[node].timer_at != Some(now) {
                    return;
                }
                self.nodes[node].timer_at = None;
                self.nodes[node].core.handle_timers(now);
            }
            Event::StreamRequest {
                from,
                to,
                frame,
                kind,
            } => {
                if !self.connected(from, to) {
                    return;
                }
                let reply = self.nodes[to].core.handle_request(now, &frame);
                self.traffic.stream_bytes += reply.len() as u64;
                let at = now + self.latency();
                self.schedule(
                    at,
                    Event::StreamReply {
                        to: from,
                        frame: reply,
                        kind,
                    },
                );
            }
            Event::StreamReply { to, frame, kind } => {
                let core = &mut self.nodes[to].core;
                match (core.open_frame(&frame), kind) {
                    (Ok(StreamMsg::PushPullReply(state)), StreamKind::PushPull) => {
                        core.merge_state(now, state)
                    }
                    (Ok(StreamMsg::PingReply(bodies)), StreamKind::Probe) => {
                        core.handle_ping_reply(now, bodies)
                    }
                    _ => {}
                }
            }
            Event::LeaveFinish { node } => self.nodes[node].core.leave_finish(now),
        }
        self.after(node);
    }

    /// Carries out what a member produced and re-arms its timer.
    fn after(&mut self, node: usize) {
        let outputs = self.nodes[node].core.take_outputs();
        for output in outputs {
            match output {
                Output::Datagram { to, data } => {
                    let Some(&to) = self.by_addr.get(&to) else {
                        continue;
                    };
                    self.traffic.datagrams += 1;
                    self.traffic.datagram_bytes += data.len() as u64;
                    self.traffic.largest_datagram = self.traffic.largest_datagram.max(data.len());
                    let lost = self.config.loss > 0.0
                        && self.rng.random_range(0.0..1.0) < self.config.loss;
                    let blocked = self.nodes[node].udp_blocked || self.nodes[to].udp_blocked;
                    if lost || blocked || !self.connected(node, to) {
                        self.traffic.lost += 1;
                        continue;
                    }
                    let at = self.now + self.latency();
                    self.schedule(at, Event::Datagram { to, data });
                }
                Output::TcpProbe { to, frame } => {
                    let Some(&to) = self.by_addr.get(&to) else {
                        continue;
                    };
                    self.traffic.tcp_probes += 1;
                    self.send_stream(node, to, frame, StreamKind::Probe);
                }
                Output::PushPull { to, join } => {
                    let Some(&to) = self.by_addr.get(&to) else {
                        continue;
                    };
                    let frame = self.nodes[node].core.push_pull_frame(join);
                    self.send_stream(node, to, frame, StreamKind::PushPull);
                }
                Output::Event(event) => self.observe(node, &event),
                Output::Rtt(_) => self.traffic.rtt_samples += 1,
                Output::Probed { .. } => {}
                Output::KeyringChanged(_) => {}
            }
        }
        if let Some(deadline) = self.nodes[node].core.next_deadline()
            && self.nodes[node].timer_at.is_none_or(|at| deadline < at)
        {
            let deadline = deadline.max(self.now);
            self.nodes[node].timer_at = Some(deadline);
            self.schedule(deadline, Event::Timer { node });
        }
    }

    fn send_stream(&mut self, from: usize, to: usize, frame: Vec<u8>, kind: StreamKind) {
        self.traffic.stream_bytes += frame.len() as u64;
        // A TCP exchange costs a handshake before the request arrives.
        let at = self.now + self.latency() * 2;
        self.schedule(
            at,
            Event::StreamRequest {
                from,
                to,
                frame,
                kind,
            },
        );
    }

    fn observe(&mut self, observer: usize, event: &MemberEvent) {
        if !self.recording {
            return;
        }
        let kind = match event {
            MemberEvent::Join(_) => ObservedKind::Join,
            MemberEvent::Leave(_) => ObservedKind::Leave,
            MemberEvent::Failed(_) => ObservedKind::Failed,
            MemberEvent::Update(_) => ObservedKind::Update,
            MemberEvent::Reap(_) => ObservedKind::Reap,
        };
        let Some(&subject) = self.by_name.get(&event.member().name) else {
            return;
        };
        self.observations.push(Observation {
            at: self.now,
            observer,
            subject,
            kind,
        });
    }

    // ----- faults and operations -----

    /// Records membership events from now on (the start-up joins are not recorded).
    pub fn start_recording(&mut self) {
        self.recording = true;
    }

    /// Stops a member without leaving (a crash): it handles nothing any more.
    pub fn kill(&mut self, node: usize) {
        self.nodes[node].running = false;
    }

    /// Makes a member leave: its intent spreads for `propagate`, then it goes quiet.
    pub fn leave(&mut self, node: usize, propagate: Duration) {
        let now = self.now;
        self.nodes[node].core.leave_start(now);
        self.after(node);
        self.schedule(now + propagate, Event::LeaveFinish { node });
    }

    /// Force-leaves `name` from `node`'s point of view.
    pub fn force_leave(
        &mut self,
        node: usize,
        name: &str,
        prune: bool,
    ) -> Result<(), crate::GossipError> {
        let result = self.nodes[node].core.force_leave(name, prune);
        self.after(node);
        result
    }

    /// Restarts a killed member as a new generation on a new address, joining through
    /// `seed` (a push-pull), as a rescheduled container would.
    pub fn restart(&mut self, node: usize, seed: usize) {
        let old = self.nodes[node].core.local().clone();
        let addr = sim_addr(self.nodes.len() + node + 100_000);
        let id = NodeId::new(old.name.clone(), addr, old.generation + 1000);
        let keyring = self.nodes[node].core.keyring().cloned();
        let core = self.new_core(id, keyring);
        self.by_addr.insert(addr, node);
        self.nodes[node].core = core;
        self.nodes[node].running = true;
        self.nodes[node].timer_at = None;
        let frame = self.nodes[node].core.push_pull_frame(true);
        self.send_stream(node, seed, frame, StreamKind::PushPull);
        self.after(node);
    }

    /// Starves a member of CPU: it runs for `run`, then freezes for `freeze`, repeatedly.
    pub fn starve(&mut self, node: usize, run: Duration, freeze: Duration) {
        self.nodes[node].starved = Some(Starvation { run, freeze });
    }

    /// Splits the network: members in different groups cannot reach each other.
    pub fn partition(&mut self, group_of: impl Fn(usize) -> u32) {
        self.groups = Some((0..self.nodes.len()).map(group_of).collect());
    }

    /// Blocks (or unblocks) a member's datagrams both ways; TCP still passes (a firewall
    /// dropping UDP).
    pub fn block_udp(&mut self, node: usize, blocked: bool) {
        self.nodes[node].udp_blocked = blocked;
    }

    /// Reconnects every member.
    pub fn heal(&mut self) {
        self.groups = None;
    }

    /// Changes the datagram loss rate.
    pub fn set_loss(&mut self, loss: f64) {
        self.config.loss = loss;
    }

    // ----- observing -----

    /// Number of members.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the simulation has no members.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A member's name.
    pub fn name(&self, node: usize) -> &str {
        &self.nodes[node].name
    }

    /// Whether a member runs (not killed).
    pub fn is_running(&self, node: usize) -> bool {
        self.nodes[node].running
    }

    /// How `observer` sees `subject`.
    pub fn status_seen(&self, observer: usize, subject: usize) -> Option<MemberStatus> {
        self.nodes[observer]
            .core
            .member(&self.nodes[subject].name)
            .map(|m| m.status)
    }

    /// `subject` as `observer` sees it.
    pub fn member_seen(&self, observer: usize, subject: usize) -> Option<Member> {
        self.nodes[observer].core.member(&self.nodes[subject].name)
    }

    /// Whether every running member other than `subject` sees it with `status`.
    pub fn all_running_see(&self, subject: usize, status: MemberStatus) -> bool {
        (0..self.nodes.len())
            .filter(|&i| i != subject && self.nodes[i].running)
            .all(|i| self.status_seen(i, subject) == Some(status))
    }

    /// A member's own incarnation (it rises each time it refutes a suspicion).
    pub fn incarnation(&self, node: usize) -> u16 {
        self.nodes[node].core.incarnation()
    }

    /// A member's Lifeguard health score.
    pub fn health_score(&self, node: usize) -> u32 {
        self.nodes[node].core.stats().health_score
    }

    /// Everything recorded since `start_recording`.
    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    /// Traffic so far.
    pub fn traffic(&self) -> SimTraffic {
        self.traffic
    }
}
