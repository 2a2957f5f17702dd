//! The pure membership core: a foca instance plus serf's semantics and Lifeguard, fed
//! datagrams, stream frames and timer ticks with an explicit `now` (no clock, no I/O, no
//! tokio), producing `Output`s for whoever drives it (the tokio runtime or the simulator).

pub(crate) mod broadcast;
pub(crate) mod lifeguard;
pub(crate) mod serf;
mod timers;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::num::{NonZeroU8, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use foca::{
    Codec, Foca, Header, Member as FocaMember, Message, OwnedNotification, PostcardCodec, State,
    Timer,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::config::GossipTiming;
use crate::error::GossipError;
use crate::identity::NodeId;
use crate::keyring::{self, Keyring};
use crate::member::{GossipStats, Member, MemberEvent, MemberStatus, RttSample};
use crate::wire::{
    self, Extra, Intent, IntentKind, Item, KeyringAnswer, KeyringRequest, PushPullState, StreamMsg,
    Suspicion, Tags,
};

use broadcast::{ItemHandler, lock};
use lifeguard::{Awareness, suspicion_timeout};
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

/// The probe in progress (for RTT, nacks, awareness and the TCP fallback).
#[derive(Debug)]
struct ProbeTrack {
    target: NodeId,
    number: u8,
    sent: Duration,
    acked: bool,
    expected_nacks: u32,
    /// Members that relayed our indirect probe and could not reach the target either.
    nackers: Vec<Arc<str>>,
}

/// Our own failed probe of a member, whose end Lifeguard moves.
#[derive(Debug)]
struct SuspicionTimer {
    timer: Timer<NodeId>,
    incarnation: u16,
    deadline: Duration,
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
        let remove_down_after = config
            .reconnect_timeout
            .max(config.tombstone_timeout)
            .max(Duration::from_secs(60));
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
                s.reap(reconnect, tombstone);
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

    fn finish_send(&mut self, (to, data): (NodeId, Vec<u8>), header: Option<&Header<NodeId>>) {
        let mut extras = Vec::new();
        let mut is_ack = false;
        if let Some(h) = header {
            if h.src_incarnation > self.incarnation {
                // We refuted a suspicion about ourselves: Lifeguard counts it against us.
                self.awareness
                    .apply(1, self.timing.awareness_max_multiplier);
                self.incarnation = h.src_incarnation;
            }
            match &h.message {
                Message::Ping(number) => {
                    self.probe = Some(ProbeTrack {
                        target: to.clone(),
                        number: *number,
                        sent: self.now,
                        acked: false,
                        expected_nacks: 0,
                        nackers: Vec::new(),
                    });
                    let suspected = lock(&self.shared)
                        .suspicions
                        .get(&to.name)
                        .map(|st| st.incarnation);
                    if let Some(incarnation) = suspected {
                        extras.push(Extra::Suspected {
                            incarnation,
                            from: self.id.name.clone(),
                        });
                    }
                }
                Message::Ack(_) => {
                    is_ack = true;
                    if let Some(blob) = &self.coordinate {
                        extras.push(Extra::Coordinate(blob.clone()));
                    }
                }
                Message::PingReq { probe_number, .. } => {
                    if let Some(p) = self.probe.as_mut()
                        && p.number == *probe_number
                    {
                        p.expected_nacks += 1;
                    }
                }
                Message::ForwardedAck { .. } => {}
                _ => {}
            }
        }
        let mut body = wire::encode_datagram(&data, &extras);
        if body.len() + keyring::SEAL_OVERHEAD > wire::MAX_DATAGRAM {
            body = wire::encode_datagram(&data, &[]);
        }
        if is_ack
            && let Some((node, captured)) = self.capture.as_mut()
            && *node == to.name
        {
            captured.push(body);
            return;
        }
        let data = self.seal(&body);
        self.traffic.datagrams_sent += 1;
        self.traffic.bytes_sent += data.len() as u64;
        self.outputs.push(Output::Datagram { to: to.addr, data });
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

    fn on_received(&mut self, header: Header<NodeId>) {
        match header.message {
            Message::Ack(number) => {
                let via_udp = self.received.via_udp;
                let Some(p) = self.probe.as_mut() else {
                    return;
                };
                if p.acked || p.number != number || p.target != header.src {
                    return;
                }
                p.acked = true;
                let rtt = self.now.saturating_sub(p.sent);
                self.awareness
                    .apply(-1, self.timing.awareness_max_multiplier);
                if via_udp {
                    let peer_coordinate = self
                        .received
                        .coordinate
                        .take()
                        .or_else(|| lock(&self.shared).coordinate_of(&header.src.name));
                    self.outputs.push(Output::Rtt(RttSample {
                        node: header.src.name.to_string(),
                        rtt,
                        peer_coordinate,
                    }));
                }
            }
            Message::ForwardedAck {
                origin,
                probe_number,
            } => {
                if let Some(p) = self.probe.as_mut()
                    && !p.acked
                    && p.number == probe_number
                    && p.target == origin
                {
                    p.acked = true;
                    self.awareness
                        .apply(-1, self.timing.awareness_max_multiplier);
                }
            }
            Message::PingReq {
                target,
                probe_number,
            } => {
                // We relay an indirect probe: nack if no ack comes back in 80% of the timeout.
                let at = self.now + self.timing.probe_timeout.mul_f64(0.8);
                self.timers.add(
                    at,
                    TimerKind::Nack {
                        target: target.name.clone(),
                        probe_number,
                        requester: header.src.name.clone(),
                    },
                );
                self.relayed.insert(
                    (target.name, probe_number, header.src.name.clone()),
                    header.src,
                );
            }
            Message::IndirectAck {
                target,
                probe_number,
            } => {
                // The target answered our relayed ping: no nack.
                self.relayed
                    .remove(&(header.src.name.clone(), probe_number, target.name));
            }
            _ => {}
        }
    }

    fn send_nack(&mut self, target: Arc<str>, probe_number: u8, requester: Arc<str>) {
        let Some(to) = self
            .relayed
            .remove(&(target.clone(), probe_number, requester))
        else {
            return;
        };
        let body = wire::encode_datagram(
            &[],
            &[Extra::Nack {
                target,
                probe_number,
                from: self.id.name.clone(),
            }],
        );
        self.send_body(to.addr, &body);
    }

    fn send_body(&mut self, to: SocketAddr, body: &[u8]) {
        let data = self.seal(body);
        self.traffic.datagrams_sent += 1;
        self.traffic.bytes_sent += data.len() as u64;
        self.outputs.push(Output::Datagram { to, data });
    }

    fn on_foca_timer(&mut self, timer: Timer<NodeId>, after: Duration) {
        match timer {
            Timer::ProbeRandomMember(_) | Timer::SendIndirectProbe { .. } => {
                let at = self.now + self.awareness.scale(after);
                self.timers.add(at, TimerKind::Foca(timer));
            }
            Timer::ChangeSuspectToDown {
                ref member_id,
                incarnation,
                ..
            } => self.on_probe_failed(member_id.clone(), incarnation, timer),
            other => self.timers.add(self.now + after, TimerKind::Foca(other)),
        }
    }

    /// Our probe of `member` failed: accuse it (gossiped, so others' accusations and ours
    /// confirm each other), warn it directly so it can refute, and arm the suspicion end.
    fn on_probe_failed(&mut self, member: NodeId, incarnation: u16, timer: Timer<NodeId>) {
        let name = member.name.clone();
        let fresh = self
            .suspicion_timers
            .get(&name)
            .is_none_or(|t| t.incarnation != incarnation);
        if fresh {
            self.suspicion_timers.insert(
                name.clone(),
                SuspicionTimer {
                    timer,
                    incarnation,
                    deadline: Duration::MAX,
                },
            );
        }
        // We accuse; so does every member that relayed our probe and could not reach it
        // (its nack): each is an independent path that failed.
        let nackers = match self.failed_probe_nackers.take() {
            Some((target, nackers)) if target == name => nackers,
            _ => Vec::new(),
        };
        for from in std::iter::once(self.id.name.clone()).chain(nackers) {
            self.broadcast(Item::Suspicion(Suspicion {
                node: name.clone(),
                incarnation,
                from,
            }));
        }
        let body = wire::encode_datagram(
            &[],
            &[Extra::Suspected {
                incarnation,
                from: self.id.name.clone(),
            }],
        );
        self.send_body(member.addr, &body);
        self.move_suspicion_end(&name);
    }

    /// Recomputes when our suspicion of `name` ends from the accusers known so far.
    fn move_suspicion_end(&mut self, name: &Arc<str>) {
        let n = self.cluster_size();
        let Some(t) = self.suspicion_timers.get_mut(name) else {
            return;
        };
        let (started, accusers) = {
            let s = lock(&self.shared);
            match s.suspicions.get(name) {
                Some(st) if st.incarnation == t.incarnation => (st.started, st.accusers.len()),
                _ => (self.now, 1),
            }
        };
        let deadline = started + suspicion_timeout(&self.timing, n, accusers.max(1));
        if deadline < t.deadline {
            t.deadline = deadline;
            self.timers.add(
                deadline.max(self.now),
                TimerKind::SuspicionEnd(name.clone()),
            );
        }
    }

    fn maybe_tcp_probe(&mut self, probed: &NodeId) {
        let Some(p) = self.probe.as_ref() else {
            return;
        };
        if p.acked || &p.target != probed {
            return;
        }
        let header = Header {
            src: self.id.clone(),
            src_incarnation: self.incarnation,
            dst: probed.clone(),
            message: Message::Ping(p.number),
        };
        let mut packet = Vec::new();
        if PostcardCodec.encode_header(&header, &mut packet).is_err() {
            return;
        }
        let body = wire::encode_datagram(&packet, &[]);
        let frame = self.seal_msg(&StreamMsg::Ping(body));
        self.outputs.push(Output::TcpProbe {
            to: probed.addr,
            frame,
        });
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
            let remove = self
                .reconnect_timeout
                .max(self.tombstone_timeout)
                .max(Duration::from_secs(60));
            if self
                .foca
                .set_config(foca_config(&self.timing, max_tx, remove))
                .is_err()
            {
                tracing::debug!("gossip: foca refused a configuration update");
            }
        }
    }

    // ----- sealing -----

    fn seal(&mut self, body: &[u8]) -> Vec<u8> {
        match &self.keyring {
            Some(ring) if self.verify_outgoing => ring.seal(self.rng.random(), body),
            _ => {
                let mut out = Vec::with_capacity(body.len() + 1);
                out.push(wire::PLAIN);
                out.extend_from_slice(body);
                out
            }
        }
    }

    fn unseal(&self, data: &[u8]) -> Option<Vec<u8>> {
        match *data.first()? {
            wire::PLAIN => {
                let accept = self.keyring.is_none() || !self.verify_incoming;
                accept.then(|| data[1..].to_vec())
            }
            keyring::SEALED_VERSION => self.keyring.as_ref()?.open(data),
            _ => None,
        }
    }

    fn seal_msg(&mut self, msg: &StreamMsg) -> Vec<u8> {
        let body = postcard::to_allocvec(msg).unwrap_or_default();
        self.seal(&body)
    }

    /// Unseals and decodes a stream frame.
    pub fn open_frame(&self, frame: &[u8]) -> Result<StreamMsg, GossipError> {
        let body = self.unseal(frame).ok_or_else(|| {
            GossipError::Protocol(
                "message could not be decrypted (wrong or missing gossip key?)".into(),
            )
        })?;
        postcard::from_bytes(&body).map_err(|e| GossipError::Protocol(e.to_string()))
    }

    // ----- streams (push-pull, fallback ping, keyring) -----

    /// This member's whole state.
    pub fn state(&self) -> PushPullState {
        let mut members: Vec<FocaMember<NodeId>> =
            self.foca.iter_membership_state().cloned().collect();
        if !self.left {
            members.push(FocaMember::new(
                self.id.clone(),
                self.incarnation,
                State::Alive,
            ));
        }
        let s = lock(&self.shared);
        PushPullState {
            from: self.id.clone(),
            members,
            items: s.items(),
            member_time: s.clock.time(),
        }
    }

    /// The frame that starts a push-pull.
    pub fn push_pull_frame(&mut self, join: bool) -> Vec<u8> {
        let state = self.state();
        self.seal_msg(&StreamMsg::PushPull { join, state })
    }

    /// The frame that asks a member to perform a keyring operation.
    pub fn keyring_frame(&mut self, request: KeyringRequest) -> Vec<u8> {
        self.seal_msg(&StreamMsg::Keyring(request))
    }

    /// Merges a member's state (push-pull, join).
    pub fn merge_state(&mut self, now: Duration, state: PushPullState) {
        self.set_now(now);
        if self.left {
            return;
        }
        {
            let mut s = lock(&self.shared);
            s.clock.witness(state.member_time);
            for item in state.items {
                s.apply_item(item);
            }
        }
        if let Err(e) = self
            .foca
            .apply_many(state.members.into_iter(), true, &mut self.rt)
        {
            tracing::debug!(error = %e, "gossip: push-pull state refused");
        }
        self.after_call();
    }

    /// Starts from a known membership without re-gossiping it (simulations start clusters
    /// of thousands this way instead of thousands of joins).
    pub fn bootstrap(&mut self, now: Duration, state: PushPullState) {
        self.set_now(now);
        {
            let mut s = lock(&self.shared);
            s.clock.witness(state.member_time);
            for item in state.items {
                s.apply_item(item);
            }
        }
        let others = state.members.into_iter().filter(|m| m.id() != &self.id);
        if let Err(e) = self.foca.apply_many(others, false, &mut self.rt) {
            tracing::debug!(error = %e, "gossip: bootstrap state refused");
        }
        self.after_call();
    }

    /// Answers a TCP fallback ping: the acks foca produces go back on the stream.
    fn answer_ping(&mut self, body: &[u8]) -> Vec<Vec<u8>> {
        let Some((foca_part, _)) = wire::decode_datagram(body) else {
            return Vec::new();
        };
        let Ok(header) = Codec::<NodeId>::decode_header(&mut PostcardCodec, foca_part) else {
            return Vec::new();
        };
        if !matches!(header.message, Message::Ping(_)) {
            return Vec::new();
        }
        self.capture = Some((header.src.name.clone(), Vec::new()));
        self.handle_body(body, false);
        self.capture
            .take()
            .map(|(_, acks)| acks)
            .unwrap_or_default()
    }

    /// Serves a request frame received on a stream; returns the reply frame.
    pub fn handle_request(&mut self, now: Duration, frame: &[u8]) -> Vec<u8> {
        self.set_now(now);
        let reply = match self.open_frame(frame) {
            Err(e) => StreamMsg::Error(e.to_string()),
            Ok(StreamMsg::PushPull { state, .. }) => {
                if self.left {
                    StreamMsg::Error("node has left".into())
                } else {
                    let ours = self.state();
                    self.merge_state(now, state);
                    StreamMsg::PushPullReply(ours)
                }
            }
            Ok(StreamMsg::Ping(body)) => StreamMsg::PingReply(self.answer_ping(&body)),
            Ok(StreamMsg::Keyring(request)) => StreamMsg::KeyringReply(self.keyring_local(request)),
            Ok(_) => StreamMsg::Error("unexpected request".into()),
        };
        self.seal_msg(&reply)
    }

    /// Handles the reply to a fallback ping (its acks, as if received by UDP but no RTT).
    pub fn handle_ping_reply(&mut self, now: Duration, bodies: Vec<Vec<u8>>) {
        self.set_now(now);
        for body in bodies {
            self.handle_body(&body, false);
        }
    }

    /// Performs a keyring operation on this member.
    pub fn keyring_local(&mut self, request: KeyringRequest) -> KeyringAnswer {
        let node = self.id.name.to_string();
        let Some(ring) = self.keyring.as_mut() else {
            return KeyringAnswer {
                node,
                error: Some("keyring is empty (gossip encryption is not enabled)".into()),
                keys: Vec::new(),
                primary: None,
            };
        };
        let result = match &request {
            KeyringRequest::List => Ok(false),
            KeyringRequest::Install(k) => keyring::decode_key(k)
                .and_then(|k| ring.install(k))
                .map(|_| true),
            KeyringRequest::Use(k) => keyring::decode_key(k)
                .and_then(|k| ring.use_key(&k))
                .map(|_| true),
            KeyringRequest::Remove(k) => keyring::decode_key(k)
                .and_then(|k| ring.remove(&k))
                .map(|_| true),
        };
        let keys = ring.keys_base64();
        let primary = keys.first().cloned();
        match result {
            Ok(changed) => {
                if changed {
                    self.outputs.push(Output::KeyringChanged(keys.clone()));
                }
                KeyringAnswer {
                    node,
                    error: None,
                    keys,
                    primary,
                }
            }
            Err(e) => KeyringAnswer {
                node,
                error: Some(e.to_string()),
                keys,
                primary,
            },
        }
    }

    // ----- local operations -----

    /// Replaces this member's tags.
    pub fn set_tags(&mut self, tags: BTreeMap<String, String>) -> Result<(), GossipError> {
        let len = wire::tags_len(&tags);
        if len > wire::MAX_TAGS {
            return Err(GossipError::TagsTooLarge(len));
        }
        let version = lock(&self.shared).clock.increment();
        self.broadcast(Item::Tags(Arc::new(Tags {
            node: self.id.name.clone(),
            generation: self.id.generation,
            version,
            tags,
        })));
        self.after_call();
        Ok(())
    }

    /// Sets this member's coordinate: it rides on every ack at once, and is gossiped at most
    /// once per `coordinate_broadcast_interval`.
    pub fn set_coordinate(&mut self, now: Duration, blob: Vec<u8>) {
        self.set_now(now);
        if blob.len() > wire::MAX_COORDINATE {
            tracing::warn!(
                len = blob.len(),
                "gossip: coordinate too large, not disseminated"
            );
            return;
        }
        self.coordinate = Some(blob.clone());
        let due = self
            .coordinate_sent_at
            .is_none_or(|at| self.now >= at + self.timing.coordinate_broadcast_interval);
        if due {
            self.broadcast_coordinate(blob);
        } else if !self.coordinate_scheduled
            && let Some(at) = self.coordinate_sent_at
        {
            self.coordinate_scheduled = true;
            self.timers.add(
                at + self.timing.coordinate_broadcast_interval,
                TimerKind::CoordinateBroadcast,
            );
        }
        self.after_call();
    }

    fn broadcast_coordinate(&mut self, blob: Vec<u8>) {
        self.coordinate_sent_at = Some(self.now);
        let version = lock(&self.shared).clock.increment();
        self.broadcast(Item::Coordinate(Arc::new(wire::Coordinate {
            node: self.id.name.clone(),
            generation: self.id.generation,
            version,
            blob,
        })));
    }

    /// First half of a leave: announce the intent (others see us leaving).
    pub fn leave_start(&mut self, now: Duration) {
        self.set_now(now);
        let ltime = {
            let mut s = lock(&self.shared);
            s.leaving = true;
            s.clock.increment()
        };
        self.broadcast(Item::Intent(Arc::new(Intent {
            node: self.id.name.clone(),
            generation: self.id.generation,
            ltime,
            kind: IntentKind::Leave { prune: false },
        })));
        let _ = self.foca.gossip(&mut self.rt);
        self.after_call();
    }

    /// Second half of a leave: declare ourselves down and go quiet.
    pub fn leave_finish(&mut self, now: Duration) {
        self.set_now(now);
        if self.left {
            return;
        }
        let _ = self.foca.gossip(&mut self.rt);
        let _ = self.foca.leave_cluster(&mut self.rt);
        self.left = true;
        {
            let mut s = lock(&self.shared);
            let local = s.local.clone();
            s.set_liveness(&local, false);
        }
        self.after_call();
    }

    /// Serf's `RemoveFailedNode`: a leave intent on behalf of `name`.
    pub fn force_leave(&mut self, name: &str, prune: bool) -> Result<(), GossipError> {
        if name == &*self.id.name {
            return Err(GossipError::NotAllowed(
                "cannot force-leave the local node".into(),
            ));
        }
        let (node, generation, ltime) = {
            let mut s = lock(&self.shared);
            let rec = s
                .records
                .get_key_value(name)
                .filter(|(_, r)| r.reported.is_some());
            let Some((node, rec)) = rec else {
                return Err(GossipError::NoSuchMember(name.to_string()));
            };
            let node = node.clone();
            let generation = rec.id.as_ref().map(|i| i.generation).unwrap_or(0);
            (node, generation, s.clock.increment())
        };
        self.broadcast(Item::Intent(Arc::new(Intent {
            node,
            generation,
            ltime,
            kind: IntentKind::Leave { prune },
        })));
        let _ = self.foca.gossip(&mut self.rt);
        self.after_call();
        Ok(())
    }

    // ----- views -----

    pub fn local(&self) -> &NodeId {
        &self.id
    }

    pub fn members(&self) -> Vec<Member> {
        let mut members: Vec<Member> = lock(&self.shared).members().collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        members
    }

    pub fn member(&self, name: &str) -> Option<Member> {
        lock(&self.shared)
            .records
            .get(name)
            .and_then(|r| r.member())
    }

    pub fn coordinate_of(&self, name: &str) -> Option<Vec<u8>> {
        lock(&self.shared).coordinate_of(name)
    }

    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_ref()
    }

    #[allow(dead_code)] // read by the simulator
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    pub fn has_left(&self) -> bool {
        self.left
    }

    /// Alive members other than us (for keyring fan-out).
    pub fn alive_peers(&self) -> Vec<(Arc<str>, SocketAddr)> {
        lock(&self.shared).addrs_with(MemberStatus::Alive)
    }

    pub fn stats(&self) -> GossipStats {
        let s = lock(&self.shared);
        let (members, failed, left) = s.counts();
        GossipStats {
            members,
            failed,
            left,
            health_score: self.awareness.score(),
            member_time: s.clock.time(),
            event_time: 0,
            intent_queue: self.foca.custom_broadcast_backlog(),
            encrypted: self.keyring.is_some(),
        }
    }
}
