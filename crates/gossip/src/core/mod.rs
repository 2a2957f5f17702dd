//! The pure membership core: a foca instance plus serf's semantics and Lifeguard, fed
//! datagrams, stream frames and timer ticks with an explicit `now` (no clock, no I/O, no
//! tokio), producing `Output`s for whoever drives it (the tokio runtime or the simulator).

pub(crate) mod broadcast;
pub(crate) mod lifeguard;
mod operations;
mod probing;
pub(crate) mod serf;
mod streams;
mod timers;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::num::{NonZeroU8, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use foca::{Foca, Member as FocaMember, OwnedNotification, PostcardCodec, State, Timer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::config::GossipTiming;
use crate::identity::NodeId;
use crate::keyring::Keyring;
use crate::member::{MemberEvent, MemberStatus, RttSample};
use crate::wire::{self, Extra, Intent, IntentKind, Item, Suspicion, Tags};

use broadcast::{ItemHandler, lock};
use lifeguard::{Awareness, suspicion_timeout};
use probing::{ProbeTrack, SuspicionTimer};
use serf::SerfState;
use timers::{TimerKind, Timers};

/// What the core needs to run one member.
#[derive(Clone, Debug)]
pub(crate) struct CoreConfig {
    pub identity: NodeId,
    pub tags: BTreeMap<String, String>,
    pub timing: GossipTiming,
    pub reconnect_timeout: Duration,
    pub tombstone_timeout: Duration,
    pub keyring: Option<Keyring>,
    pub verify_incoming: bool,
    pub verify_outgoing: bool,
    /// Seeds every random choice (probe order, nonces): fixed in simulations.
    pub seed: [u8; 32],
}

/// Work for the driver.
#[derive(Debug)]
pub(crate) enum Output {
    /// Send a datagram (already sealed as configured).
    Datagram { to: SocketAddr, data: Vec<u8> },
    /// TCP fallback probe: send this frame, feed the reply to `handle_reply`.
    TcpProbe { to: SocketAddr, frame: Vec<u8> },
    /// Start a push-pull with this member (`join`: also when reconnecting to a failed one).
    PushPull { to: SocketAddr, join: bool },
    /// A membership change.
    Event(MemberEvent),
    /// A probe's round trip.
    Rtt(RttSample),
    /// One of our probes ended (acked, directly or through others, or failed): how long it
    /// took, and whether it began with degraded local health (memberlist's `probeNode`
    /// timer and `degraded.probe` counter).
    Probed { elapsed: Duration, degraded: bool },
    /// The keyring changed: persist these keys (base64, primary first).
    KeyringChanged(Vec<String>),
}

/// foca's runtime: collects what foca asks for, in order, for the core to process.
#[derive(Default)]
struct Collect {
    events: Vec<RtEvent>,
}

enum RtEvent {
    Send(NodeId, Vec<u8>),
    Timer(Timer<NodeId>, Duration),
    Note(OwnedNotification<NodeId>),
}

impl foca::Runtime<NodeId> for Collect {
    fn notify(&mut self, notification: foca::Notification<'_, NodeId>) {
        self.events.push(RtEvent::Note(notification.to_owned()));
    }

    fn send_to(&mut self, to: NodeId, data: &[u8]) {
        self.events.push(RtEvent::Send(to, data.to_vec()));
    }

    fn submit_after(&mut self, event: Timer<NodeId>, after: Duration) {
        self.events.push(RtEvent::Timer(event, after));
    }
}

/// What the datagram being handled carried beside foca's packet.
#[derive(Debug, Default)]
struct Received {
    coordinate: Option<Vec<u8>>,
    via_udp: bool,
}

/// Counters of the core's traffic (the benchmark's bytes per second).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Traffic {
    pub datagrams_sent: u64,
    pub bytes_sent: u64,
    pub datagrams_dropped: u64,
}

type FocaInstance = Foca<NodeId, PostcardCodec, StdRng, ItemHandler>;

/// One member's membership state machine.
pub(crate) struct Core {
    foca: FocaInstance,
    shared: Arc<Mutex<SerfState>>,
    id: NodeId,
    timing: GossipTiming,
    reconnect_timeout: Duration,
    tombstone_timeout: Duration,
    keyring: Option<Keyring>,
    verify_incoming: bool,
    verify_outgoing: bool,
    rng: StdRng,
    timers: Timers,
    rt: Collect,
    outputs: Vec<Output>,
    awareness: Awareness,
    incarnation: u16,
    probe: Option<ProbeTrack>,
    suspicion_timers: HashMap<Arc<str>, SuspicionTimer>,
    /// Nackers of the probe that just failed, counted as accusers of its target.
    failed_probe_nackers: Option<(Arc<str>, Vec<Arc<str>>)>,
    /// Indirect probes we relay: (target, probe number, requester) → requester.
    relayed: HashMap<(Arc<str>, u8, Arc<str>), NodeId>,
    coordinate: Option<Vec<u8>>,
    coordinate_sent_at: Option<Duration>,
    coordinate_scheduled: bool,
    received: Received,
    /// While answering a TCP ping: acks to this member are returned, not sent.
    capture: Option<(Arc<str>, Vec<Vec<u8>>)>,
    max_transmissions: u8,
    left: bool,
    now: Duration,
    traffic: Traffic,
}

fn retransmit_limit(timing: &GossipTiming, n: usize) -> u8 {
    let limit = timing.retransmit_mult as f64 * ((n + 1) as f64).log10().ceil();
    limit.clamp(1.0, 255.0) as u8
}

fn foca_config(timing: &GossipTiming, max_tx: u8, remove_down_after: Duration) -> foca::Config {
    let nz = |n: usize| NonZeroUsize::new(n.max(1)).unwrap_or(NonZeroUsize::MIN);
    foca::Config {
        probe_period: timing.probe_interval,
        probe_rtt: timing.probe_timeout,
        num_indirect_probes: nz(timing.indirect_checks),
        max_transmissions: NonZeroU8::new(max_tx.max(1)).unwrap_or(NonZeroU8::MIN),
        // Never used as is: the core replaces every suspicion's end (Lifeguard).
        suspect_to_down_after: timing.probe_interval * timing.suspicion_mult,
        remove_down_after: Some(remove_down_after),
        max_packet_size: nz(wire::FOCA_MAX_PACKET),
        notify_down_members: true,
        periodic_announce: None,
        periodic_announce_to_down_members: Some(foca::PeriodicParams {
            frequency: Duration::from_secs(65),
            num_members: nz(2),
        }),
        periodic_gossip: Some(foca::PeriodicParams {
            frequency: timing.gossip_interval,
            num_members: nz(timing.gossip_nodes),
        }),
    }
}

/// How long foca keeps down members, and erased records are kept, so that nothing stale
/// brings a reaped member back.
fn forget_after(reconnect: Duration, tombstone: Duration) -> Duration {
    reconnect.max(tombstone).max(Duration::from_secs(60))
}

/// memberlist's push-pull scaling: × (⌈log2 n − log2 32⌉ + 1) past 32 members.
pub(crate) fn push_pull_interval(base: Duration, n: usize) -> Duration {
    if n <= 32 {
        return base;
    }
    let mult = ((n as f64).log2() - 32f64.log2()).ceil() + 1.0;
    base.mul_f64(mult)
}

impl Core {
    pub fn new(config: CoreConfig, now: Duration) -> Core {
        let remove_down_after = forget_after(config.reconnect_timeout, config.tombstone_timeout);
        let max_tx = retransmit_limit(&config.timing, 1);
        let shared = Arc::new(Mutex::new(SerfState::new(config.identity.clone(), now)));
        let mut rng = StdRng::from_seed(config.seed);
        let foca_rng = StdRng::from_seed(rng.random());
        let foca = Foca::with_custom_broadcast(
            config.identity.clone(),
            foca_config(&config.timing, max_tx, remove_down_after),
            foca_rng,
            PostcardCodec,
            ItemHandler {
                shared: shared.clone(),
            },
        );
        let mut core = Core {
            foca,
            shared,
            id: config.identity,
            timing: config.timing,
            reconnect_timeout: config.reconnect_timeout,
            tombstone_timeout: config.tombstone_timeout,
            keyring: config.keyring,
            verify_incoming: config.verify_incoming,
            verify_outgoing: config.verify_outgoing,
            rng,
            timers: Timers::default(),
            rt: Collect::default(),
            outputs: Vec::new(),
            awareness: Awareness::default(),
            incarnation: 0,
            probe: None,
            suspicion_timers: HashMap::new(),
            relayed: HashMap::new(),
            failed_probe_nackers: None,
            coordinate: None,
            coordinate_sent_at: None,
            coordinate_scheduled: false,
            received: Received::default(),
            capture: None,
            max_transmissions: max_tx,
            left: false,
            now,
            traffic: Traffic::default(),
        };
        core.announce_self(config.tags);
        let jitter = core.rng.random_range(0.0..1.0);
        let first = core.timing.push_pull_interval.mul_f64(jitter);
        core.timers.add(now + first, TimerKind::PushPull);
        core.timers.add(now + core.reap_interval(), TimerKind::Reap);
        core.after_call();
        core
    }

    /// Broadcasts our join intent and tags for the current generation.
    fn announce_self(&mut self, tags: BTreeMap<String, String>) {
        let (ltime, version) = {
            let mut s = lock(&self.shared);
            (s.clock.increment(), s.clock.increment())
        };
        self.broadcast(Item::Intent(Arc::new(Intent {
            node: self.id.name.clone(),
            generation: self.id.generation,
            ltime,
            kind: IntentKind::Join,
        })));
        self.broadcast(Item::Tags(Arc::new(Tags {
            node: self.id.name.clone(),
            generation: self.id.generation,
            version,
            tags,
        })));
        if let Some(blob) = self.coordinate.clone() {
            self.broadcast_coordinate(blob);
        }
    }

    fn forget_after(&self) -> Duration {
        forget_after(self.reconnect_timeout, self.tombstone_timeout)
    }

    fn reap_interval(&self) -> Duration {
        let shortest = self.reconnect_timeout.min(self.tombstone_timeout) / 5;
        shortest.clamp(Duration::from_millis(50), Duration::from_secs(15))
    }

    fn broadcast(&mut self, item: Item) {
        match postcard::to_allocvec(&item) {
            Ok(bytes) => {
                if let Err(e) = self.foca.add_broadcast(&bytes) {
                    tracing::warn!(error = %e, "gossip item not queued");
                }
            }
            Err(e) => tracing::warn!(error = %e, "gossip item not encoded"),
        }
    }

    fn set_now(&mut self, now: Duration) {
        // The driver's clock never goes back; guard anyway so deadlines stay ordered.
        self.now = self.now.max(now);
        lock(&self.shared).now = self.now;
    }

    // ----- inputs -----

    /// A datagram arrived.
    pub fn handle_datagram(&mut self, now: Duration, data: &[u8]) {
        self.set_now(now);
        if data.len() > wire::MAX_DATAGRAM {
            self.traffic.datagrams_dropped += 1;
            return;
        }
        let Some(body) = self.unseal(data) else {
            self.traffic.datagrams_dropped += 1;
            return;
        };
        self.handle_body(&body, true);
    }

    fn handle_body(&mut self, body: &[u8], via_udp: bool) {
        let Some((foca_part, extras)) = wire::decode_datagram(body) else {
            self.traffic.datagrams_dropped += 1;
            return;
        };
        self.received = Received {
            coordinate: None,
            via_udp,
        };
        for extra in extras {
            match extra {
                Extra::Coordinate(blob) => self.received.coordinate = Some(blob),
                Extra::Nack {
                    target,
                    probe_number,
                    from,
                } => {
                    if let Some(p) = self.probe.as_mut()
                        && p.target.name == target
                        && p.number == probe_number
                        && !p.nackers.contains(&from)
                    {
                        p.nackers.push(from);
                    }
                }
                Extra::Suspected { incarnation, from } => {
                    let mut s = lock(&self.shared);
                    s.apply_item(Item::Suspicion(Suspicion {
                        node: self.id.name.clone(),
                        incarnation,
                        from,
                    }));
                }
            }
        }
        if !foca_part.is_empty()
            && !self.left
            && let Err(e) = self.foca.handle_data(foca_part, &mut self.rt)
        {
            tracing::trace!(error = %e, "gossip packet refused");
        }
        self.after_call();
        self.received = Received::default();
    }

    /// Fires every timer due at `now`.
    pub fn handle_timers(&mut self, now: Duration) {
        self.set_now(now);
        while let Some(kind) = self.timers.pop_due(self.now) {
            self.fire(kind);
            self.after_call();
        }
    }

    /// When `handle_timers` should next be called.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.timers.next_deadline()
    }

    /// Drains the work produced so far.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outputs)
    }

    fn fire(&mut self, kind: TimerKind) {
        match kind {
            TimerKind::Foca(timer) => {
                if self.left {
                    return;
                }
                if let Timer::SendIndirectProbe { probed_id, .. } = &timer {
                    self.maybe_tcp_probe(probed_id);
                }
                if let Err(e) = self.foca.handle_timer(timer, &mut self.rt) {
                    tracing::trace!(error = %e, "gossip timer");
                }
            }
            TimerKind::SuspicionEnd(name) => {
                let due = self
                    .suspicion_timers
                    .get(&name)
                    .is_some_and(|t| t.deadline <= self.now);
                if due
                    && let Some(t) = self.suspicion_timers.remove(&name)
                    && !self.left
                    && let Err(e) = self.foca.handle_timer(t.timer, &mut self.rt)
                {
                    tracing::trace!(error = %e, "gossip suspicion timer");
                }
            }
            TimerKind::SuspicionNotice(name) => self.remind_suspect(name),
            TimerKind::Nack {
                target,
                probe_number,
                requester,
            } => self.send_nack(target, probe_number, requester),
            TimerKind::PushPull => self.push_pull_tick(),
            TimerKind::Reap => {
                let (reconnect, tombstone) = (self.reconnect_timeout, self.tombstone_timeout);
                let n = self.cluster_size();
                let longest = suspicion_timeout(&self.timing, n, 1) * 2;
                let now = self.now;
                let mut s = lock(&self.shared);
                s.reap(reconnect, tombstone, self.forget_after());
                s.suspicions
                    .retain(|_, st| now.saturating_sub(st.started) < longest);
                drop(s);
                self.timers.add(now + self.reap_interval(), TimerKind::Reap);
            }
            TimerKind::CoordinateBroadcast => {
                self.coordinate_scheduled = false;
                if let Some(blob) = self.coordinate.clone() {
                    self.broadcast_coordinate(blob);
                }
            }
        }
    }

    fn cluster_size(&self) -> usize {
        self.foca.num_members() + 1
    }

    fn push_pull_tick(&mut self) {
        let n = self.cluster_size();
        let next = push_pull_interval(self.timing.push_pull_interval, n);
        self.timers.add(self.now + next, TimerKind::PushPull);
        if self.left {
            return;
        }
        let (alive, failed) = {
            let s = lock(&self.shared);
            (
                s.addrs_with(MemberStatus::Alive),
                s.addrs_with(MemberStatus::Failed),
            )
        };
        if !alive.is_empty() {
            let (_, addr) = &alive[self.rng.random_range(0..alive.len())];
            self.outputs.push(Output::PushPull {
                to: *addr,
                join: false,
            });
        }
        // serf's reconnect: try a failed member with probability failed / alive.
        if !failed.is_empty() {
            let p = failed.len() as f64 / alive.len().max(1) as f64;
            if self.rng.random_range(0.0..1.0) < p {
                let (_, addr) = &failed[self.rng.random_range(0..failed.len())];
                self.outputs.push(Output::PushPull {
                    to: *addr,
                    join: true,
                });
            }
        }
    }

    // ----- foca's runtime events -----

    /// Processes everything foca produced, and what it implies, until quiet.
    fn after_call(&mut self) {
        loop {
            while !self.rt.events.is_empty() {
                let events = std::mem::take(&mut self.rt.events);
                let mut pending: Option<(NodeId, Vec<u8>)> = None;
                for event in events {
                    match event {
                        RtEvent::Send(to, data) => {
                            if let Some(p) = pending.take() {
                                self.finish_send(p, None);
                            }
                            pending = Some((to, data));
                        }
                        RtEvent::Note(OwnedNotification::DataSent(header)) => {
                            if let Some(p) = pending.take() {
                                self.finish_send(p, Some(&header));
                            }
                        }
                        RtEvent::Note(note) => self.on_notification(note),
                        RtEvent::Timer(timer, after) => self.on_foca_timer(timer, after),
                    }
                }
                if let Some(p) = pending.take() {
                    self.finish_send(p, None);
                }
            }
            if !self.process_pending() {
                break;
            }
        }
        let events = lock(&self.shared).take_events();
        self.outputs.extend(events.into_iter().map(Output::Event));
        self.adjust_to_cluster_size();
    }

    /// Acts on what the serf state flagged; `true` if foca was called again.
    fn process_pending(&mut self) -> bool {
        let pending = std::mem::take(&mut lock(&self.shared).pending);
        let mut called = false;
        for name in pending.suspicions_changed {
            self.move_suspicion_end(&name);
        }
        if let Some(incarnation) = pending.self_suspected
            && !self.left
        {
            // Refute: foca bumps our incarnation and gossips it; tell the accusers directly.
            let me = FocaMember::new(self.id.clone(), incarnation, State::Suspect);
            if let Err(e) = self
                .foca
                .apply_many(std::iter::once(me), true, &mut self.rt)
            {
                tracing::trace!(error = %e, "refutation");
            }
            let accusers: Vec<NodeId> = {
                let s = lock(&self.shared);
                s.suspicions
                    .get(&self.id.name)
                    .map(|st| {
                        st.accusers
                            .iter()
                            .filter_map(|a| s.records.get(a).and_then(|r| r.id.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            lock(&self.shared).suspicions.remove(&self.id.name);
            for accuser in accusers.into_iter().take(3) {
                let _ = self.foca.announce(accuser, &mut self.rt);
            }
            called = true;
        }
        if pending.refute_leave && !self.left {
            let ltime = lock(&self.shared).clock.increment();
            self.broadcast(Item::Intent(Arc::new(Intent {
                node: self.id.name.clone(),
                generation: self.id.generation,
                ltime,
                kind: IntentKind::Join,
            })));
            called = true;
        }
        called || !self.rt.events.is_empty()
    }

    fn on_notification(&mut self, note: OwnedNotification<NodeId>) {
        match note {
            OwnedNotification::MemberUp(id) => lock(&self.shared).set_liveness(&id, true),
            OwnedNotification::MemberDown(id) => lock(&self.shared).set_liveness(&id, false),
            OwnedNotification::Rename(_old, new) => {
                let mut s = lock(&self.shared);
                let up = s.records.get(&new.name).is_some_and(|r| r.up);
                s.set_liveness(&new, up);
            }
            OwnedNotification::Rejoin(new) => self.on_rejoin(new),
            OwnedNotification::DataReceived(header) => self.on_received(header),
            OwnedNotification::ProbeFailed(number, id) => {
                if let Some(p) = self.probe.take()
                    && p.number == number
                    && p.target == id
                {
                    // Lifeguard: missing nacks mean we are the problem (or, with no one
                    // to relay, count the failure against ourselves).
                    let delta = if p.expected_nacks > 0 {
                        p.expected_nacks.saturating_sub(p.nackers.len() as u32) as i64
                    } else {
                        1
                    };
                    self.awareness
                        .apply(delta, self.timing.awareness_max_multiplier);
                    self.outputs.push(Output::Probed {
                        elapsed: self.now.saturating_sub(p.sent),
                        degraded: p.degraded,
                    });
                    self.failed_probe_nackers = Some((p.target.name, p.nackers));
                }
            }
            OwnedNotification::Defunct => {
                tracing::debug!(node = %self.id.name, "gossip: declared down and not rejoining");
            }
            OwnedNotification::Active
            | OwnedNotification::Idle
            | OwnedNotification::DataSent(_) => {}
        }
    }

    fn on_rejoin(&mut self, new: NodeId) {
        tracing::info!(node = %new.name, generation = new.generation, "gossip: rejoining as a new generation");
        self.id = new.clone();
        self.incarnation = 0;
        {
            let mut s = lock(&self.shared);
            s.local = new.clone();
            if let Some(rec) = s.records.get_mut(&new.name) {
                rec.id = Some(new.clone());
                rec.up = true;
            }
        }
        let tags = lock(&self.shared).local_tags();
        self.announce_self(tags);
    }

    fn adjust_to_cluster_size(&mut self) {
        let max_tx = retransmit_limit(&self.timing, self.cluster_size());
        if max_tx != self.max_transmissions {
            self.max_transmissions = max_tx;
            if self
                .foca
                .set_config(foca_config(&self.timing, max_tx, self.forget_after()))
                .is_err()
            {
                tracing::debug!("gossip: foca refused a configuration update");
            }
        }
    }
}
