//! The tokio driver of the pure core: one UDP socket and one TCP listener on the same
//! address, a single loop feeding datagrams and timer deadlines to the core, short-lived tasks
//! for TCP exchanges (push-pull, fallback probes, keyring operations), bounded broadcast
//! channels for events and RTT samples, and shutdown through a `CancellationToken`.

mod keyring_file;
mod stream;
mod telemetry;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Notify, Semaphore, broadcast};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::GossipConfig;
use crate::core::{Core, CoreConfig, Output};
use crate::error::GossipError;
use crate::identity::NodeId;
use crate::keyring::Keyring;
use crate::member::{
    GossipStats, KeyringOp, KeyringReport, Member, MemberEvent, NodeKeyring, RttSample,
};
use crate::wire::{self, KeyringRequest, StreamMsg};
use telemetry::GossipMetrics;

/// Events kept for a lagging subscriber before it loses some.
const EVENT_CAPACITY: usize = 4096;
/// RTT samples kept for a lagging subscriber.
const RTT_CAPACITY: usize = 1024;
/// Concurrent inbound TCP exchanges (memberlist: 128 push-pulls).
const MAX_INBOUND_STREAMS: usize = 128;
/// Concurrent outbound keyring requests.
const KEYRING_FANOUT: usize = 32;

/// A running gossip member. Cheap to clone; every clone drives the same member.
#[derive(Clone)]
pub struct Gossip {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    core: Mutex<Core>,
    socket: UdpSocket,
    origin: Instant,
    events: broadcast::Sender<MemberEvent>,
    rtts: broadcast::Sender<RttSample>,
    /// Wakes the loop when a call may have added an earlier timer.
    wake: Notify,
    token: CancellationToken,
    tasks: TaskTracker,
    config: GossipConfig,
    /// memberlist's and serf's metrics.
    metrics: GossipMetrics,
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Binds UDP and TCP on the same address (an ephemeral port is chosen once for both).
async fn bind(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), GossipError> {
    if addr.port() != 0 {
        let udp = UdpSocket::bind(addr).await?;
        let tcp = TcpListener::bind(addr).await?;
        return Ok((udp, tcp));
    }
    let mut last = None;
    for _ in 0..16 {
        let udp = UdpSocket::bind(addr).await?;
        let chosen = udp.local_addr()?;
        match TcpListener::bind(chosen).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .map(GossipError::Io)
        .unwrap_or(GossipError::Config("no free port".into())))
}

/// The keyring to start with: the file if it exists (Consul ignores `encrypt` then),
/// otherwise the configured one, which is then written to the file.
fn initial_keyring(config: &GossipConfig) -> Result<Option<Keyring>, GossipError> {
    if let Some(path) = &config.keyring_file {
        if let Some(ring) = keyring_file::load(path)? {
            if config.keyring.is_some() {
                tracing::warn!(file = %path.display(), "gossip: keyring file exists; the configured encrypt key is ignored");
            }
            return Ok(Some(ring));
        }
        if let Some(ring) = &config.keyring {
            keyring_file::save(path, &ring.keys_base64())?;
        }
    }
    Ok(config.keyring.clone())
}

impl Gossip {
    /// Binds the UDP socket and TCP listener, starts the member (alone until `join`), and
    /// spawns its tasks, stopped by `shutdown` or `Gossip::shutdown`.
    pub async fn start(
        config: GossipConfig,
        shutdown: CancellationToken,
    ) -> Result<Gossip, GossipError> {
        if config.node_name.is_empty() {
            return Err(GossipError::Config("node name is empty".into()));
        }
        let tags_len = wire::tags_len(&config.tags);
        if tags_len > wire::MAX_TAGS {
            return Err(GossipError::TagsTooLarge(tags_len));
        }
        let keyring = initial_keyring(&config)?;
        let (udp, tcp) = bind(config.bind).await?;
        let bound = udp.local_addr()?;
        let mut advertise = config.advertise;
        if advertise.port() == 0 {
            advertise.set_port(bound.port());
        }
        if advertise.ip().is_unspecified() {
            advertise.set_ip(bound.ip());
        }
        let mut seed = [0u8; 32];
        rand::fill(&mut seed);
        let identity = NodeId::new(config.node_name.as_str(), advertise, unix_millis());
        let core = Core::new(
            CoreConfig {
                identity,
                tags: config.tags.clone(),
                timing: config.timing.clone(),
                reconnect_timeout: config.reconnect_timeout,
                tombstone_timeout: config.tombstone_timeout,
                keyring,
                verify_incoming: config.verify_incoming,
                verify_outgoing: config.verify_outgoing,
                seed,
            },
            Duration::ZERO,
        );
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (rtts, _) = broadcast::channel(RTT_CAPACITY);
        let gossip = Gossip {
            inner: Arc::new(Inner {
                name: config.node_name.clone(),
                core: Mutex::new(core),
                socket: udp,
                origin: Instant::now(),
                events,
                rtts,
                wake: Notify::new(),
                token: shutdown.child_token(),
                tasks: TaskTracker::new(),
                metrics: GossipMetrics::new(config.network),
                config,
            }),
        };
        let run = gossip.clone();
        gossip
            .inner
            .tasks
            .spawn(async move { run.run_loop().await });
        let serve = gossip.clone();
        gossip
            .inner
            .tasks
            .spawn(async move { serve.accept_loop(tcp).await });
        let outputs = gossip.core().take_outputs();
        gossip.dispatch(outputs);
        tracing::info!(node = %gossip.inner.name, addr = %advertise, "gossip: started");
        Ok(gossip)
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        self.inner.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> Duration {
        self.inner.origin.elapsed()
    }

    /// Runs `f` on the core, sends what it produced, and wakes the loop (the call may have
    /// armed an earlier timer).
    fn with_core<R>(&self, f: impl FnOnce(&mut Core, Duration) -> R) -> R {
        let result = self.drive(f);
        self.inner.wake.notify_one();
        result
    }

    /// Runs `f` on the core and sends what it produced (the loop's own calls: it looks at
    /// the next deadline right after).
    fn drive<R>(&self, f: impl FnOnce(&mut Core, Duration) -> R) -> R {
        let now = self.now();
        let (result, outputs, health) = {
            let mut core = self.core();
            let result = f(&mut core, now);
            (result, core.take_outputs(), core.health_score())
        };
        self.inner.metrics.health_score.set(health as f64);
        self.dispatch(outputs);
        result
    }

    /// The UDP receive and timer loop.
    async fn run_loop(&self) {
        let mut buf = vec![0u8; 65536];
        loop {
            let deadline = self.core().next_deadline();
            let sleep_until = deadline
                .map(|d| self.inner.origin + d)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = self.inner.token.cancelled() => break,
                received = self.inner.socket.recv_from(&mut buf) => match received {
                    Ok((len, _from)) => {
                        self.inner.metrics.udp_received.increment(len as u64);
                        let data = &buf[..len];
                        self.drive(|core, now| core.handle_datagram(now, data));
                    }
                    Err(e) => {
                        // ICMP errors surface here on some platforms; keep serving.
                        tracing::trace!(error = %e, "gossip: udp receive");
                    }
                },
                _ = tokio::time::sleep_until(sleep_until.into()) => {
                    // A member that was starved of CPU finds late timers and queued acks at
                    // once: read the acks first, so late timers do not accuse peers that
                    // answered in time (Lifeguard's point: the slow member is us).
                    for _ in 0..256 {
                        let Ok((len, _)) = self.inner.socket.try_recv_from(&mut buf) else {
                            break;
                        };
                        self.inner.metrics.udp_received.increment(len as u64);
                        let data = &buf[..len];
                        self.drive(|core, now| core.handle_datagram(now, data));
                    }
                    self.drive(|core, now| core.handle_timers(now));
                }
                _ = self.inner.wake.notified() => {}
            }
        }
    }

    /// Serves inbound TCP exchanges.
    async fn accept_loop(&self, listener: TcpListener) {
        let permits = Arc::new(Semaphore::new(MAX_INBOUND_STREAMS));
        loop {
            let accepted = tokio::select! {
                _ = self.inner.token.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (mut stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::debug!(error = %e, "gossip: tcp accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            self.inner.metrics.tcp_accept.increment(1);
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "gossip: too many concurrent streams, dropping one");
                continue;
            };
            let this = self.clone();
            self.inner.tasks.spawn(async move {
                let _permit = permit;
                let timeout = this.inner.config.timing.tcp_timeout;
                let serve = async {
                    let frame = stream::read_frame(&mut stream).await?;
                    let reply = this.with_core(|core, now| core.handle_request(now, &frame));
                    stream::write_frame(&mut stream, &reply).await?;
                    this.inner
                        .metrics
                        .tcp_sent
                        .increment(stream::framed_len(&reply));
                    Ok::<(), GossipError>(())
                };
                tokio::select! {
                    _ = this.inner.token.cancelled() => {}
                    result = tokio::time::timeout(timeout, serve) => {
                        if let Ok(Err(e)) = result {
                            tracing::debug!(%peer, error = %e, "gossip: stream");
                        }
                    }
                }
            });
        }
    }

    /// Sends datagrams, starts TCP work, publishes events.
    fn dispatch(&self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Datagram { to, data } => match self.inner.socket.try_send_to(&data, to) {
                    Ok(sent) => self.inner.metrics.udp_sent.increment(sent as u64),
                    Err(e) => tracing::trace!(%to, error = %e, "gossip: datagram not sent"),
                },
                Output::TcpProbe { to, frame } => {
                    let this = self.clone();
                    self.spawn(async move {
                        let timeout = this.inner.config.timing.tcp_timeout;
                        let exchanged = this.exchange(to, &frame, timeout).await;
                        let Ok(reply) = exchanged else {
                            return;
                        };
                        let opened = this.core().open_frame(&reply);
                        if let Ok(StreamMsg::PingReply(bodies)) = opened {
                            if !bodies.is_empty() {
                                tracing::warn!(%to, "gossip: was able to connect over TCP but UDP probes failed, network may be misconfigured");
                            }
                            this.with_core(|core, now| core.handle_ping_reply(now, bodies));
                        }
                    });
                }
                Output::PushPull { to, join } => {
                    let this = self.clone();
                    self.spawn(async move {
                        if let Err(e) = this.push_pull(to, join).await {
                            tracing::debug!(%to, error = %e, "gossip: push-pull");
                        }
                    });
                }
                Output::Event(event) => {
                    tracing::debug!(node = %self.inner.name, ?event, "gossip: member event");
                    self.inner.metrics.event(&event);
                    let _ = self.inner.events.send(event);
                }
                Output::Rtt(sample) => {
                    let _ = self.inner.rtts.send(sample);
                }
                Output::Probed { elapsed, degraded } => {
                    self.inner.metrics.probed(elapsed, degraded);
                }
                Output::KeyringChanged(keys) => {
                    if let Some(path) = &self.inner.config.keyring_file
                        && let Err(e) = keyring_file::save(path, &keys)
                    {
                        tracing::error!(file = %path.display(), error = %e, "gossip: keyring not persisted");
                    }
                }
            }
        }
    }

    /// Spawns background work that stops at shutdown.
    fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let token = self.inner.token.clone();
        self.inner.tasks.spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                _ = work => {}
            }
        });
    }

    /// One TCP exchange, counted (`memberlist.tcp.connect` and `tcp.sent`).
    async fn exchange(
        &self,
        to: SocketAddr,
        frame: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, GossipError> {
        let metrics = &self.inner.metrics;
        stream::exchange(to, frame, timeout, || {
            metrics.tcp_connect.increment(1);
            metrics.tcp_sent.increment(stream::framed_len(frame));
        })
        .await
    }

    /// One push-pull exchange with `to`, timed (`memberlist.pushPullNode`).
    async fn push_pull(&self, to: SocketAddr, join: bool) -> Result<(), GossipError> {
        let started = Instant::now();
        let exchanged = self.push_pull_exchange(to, join).await;
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        self.inner.metrics.push_pull_node.record(millis);
        exchanged
    }

    async fn push_pull_exchange(&self, to: SocketAddr, join: bool) -> Result<(), GossipError> {
        let frame = self.core().push_pull_frame(join);
        let timeout = self.inner.config.timing.tcp_timeout;
        let reply = self.exchange(to, &frame, timeout).await?;
        let opened = self.core().open_frame(&reply)?;
        match opened {
            StreamMsg::PushPullReply(state) => {
                self.with_core(|core, now| core.merge_state(now, state));
                Ok(())
            }
            StreamMsg::Error(e) => Err(GossipError::Protocol(e)),
            _ => Err(GossipError::Protocol("unexpected push-pull reply".into())),
        }
    }

    /// This member's name.
    pub fn local_name(&self) -> &str {
        &self.inner.name
    }

    /// This member's identity (name, advertised address, generation).
    pub fn local_id(&self) -> NodeId {
        self.core().local().clone()
    }

    /// Joins the cluster of each address by a TCP push-pull; returns how many answered.
    pub async fn join(&self, addrs: &[SocketAddr]) -> Result<usize, GossipError> {
        let mut joined = 0;
        let mut errors = Vec::new();
        for &addr in addrs {
            match self.push_pull(addr, true).await {
                Ok(()) => joined += 1,
                Err(e) => errors.push(format!("{addr}: {e}")),
            }
        }
        if joined == 0 {
            let why = if errors.is_empty() {
                "no addresses given".to_string()
            } else {
                errors.join("; ")
            };
            return Err(GossipError::NoneJoined(why));
        }
        Ok(joined)
    }

    /// Every known member, self included, any status.
    pub fn members(&self) -> Vec<Member> {
        self.core().members()
    }

    /// One member by name.
    pub fn member(&self, name: &str) -> Option<Member> {
        self.core().member(name)
    }

    /// Membership events (bounded: a lagging receiver loses events).
    pub fn subscribe(&self) -> broadcast::Receiver<MemberEvent> {
        self.inner.events.subscribe()
    }

    /// Replaces this member's tags (≤ 512 bytes encoded).
    pub fn set_tags(&self, tags: BTreeMap<String, String>) -> Result<(), GossipError> {
        self.with_core(|core, _| core.set_tags(tags))
    }

    /// Announces the leave, lets it spread for `leave_propagate_delay`, then goes quiet;
    /// the others then report this member left.
    pub async fn leave(&self) -> Result<(), GossipError> {
        if self.core().has_left() {
            return Ok(());
        }
        self.with_core(|core, now| core.leave_start(now));
        tokio::select! {
            _ = self.inner.token.cancelled() => return Err(GossipError::Shutdown),
            _ = tokio::time::sleep(self.inner.config.leave_propagate_delay) => {}
        }
        self.with_core(|core, now| core.leave_finish(now));
        // Give the final datagrams a moment to leave the socket buffer.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }

    /// Serf's `RemoveFailedNode`: a failed member becomes left (`prune`: forgotten at once);
    /// an alive one becomes leaving until it refutes.
    pub async fn force_leave(&self, name: &str, prune: bool) -> Result<(), GossipError> {
        self.with_core(|core, _| core.force_leave(name, prune))
    }

    /// Performs a keyring operation on every alive member and collects their answers.
    pub async fn keyring_op(&self, op: KeyringOp) -> Result<KeyringReport, GossipError> {
        let request = match op {
            KeyringOp::List => KeyringRequest::List,
            KeyringOp::Install(k) => KeyringRequest::Install(k),
            KeyringOp::Use(k) => KeyringRequest::Use(k),
            KeyringOp::Remove(k) => KeyringRequest::Remove(k),
        };
        if !self.encryption_enabled() {
            return Err(GossipError::Keyring(
                "keyring is empty (gossip encryption is not enabled)".into(),
            ));
        }
        let list = request == KeyringRequest::List;
        let local = self.with_core(|core, _| core.keyring_local(request.clone()));
        let peers = self.core().alive_peers();
        let mut report = KeyringReport {
            num_nodes: peers.len() + 1,
            ..KeyringReport::default()
        };
        let mut answers = vec![local];
        let permits = Arc::new(Semaphore::new(KEYRING_FANOUT));
        let mut set = JoinSet::new();
        for (name, addr) in peers {
            let frame = self.core().keyring_frame(request.clone());
            let timeout = self.inner.config.timing.tcp_timeout;
            let permits = permits.clone();
            let this = self.clone();
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (name, this.exchange(addr, &frame, timeout).await)
            });
        }
        while let Some(joined) = set.join_next().await {
            let Ok((name, result)) = joined else { continue };
            let answer = result.and_then(|reply| self.core().open_frame(&reply));
            answers.push(match answer {
                Ok(StreamMsg::KeyringReply(answer)) => answer,
                Ok(StreamMsg::Error(e)) => failed_answer(&name, e),
                Ok(_) => failed_answer(&name, "unexpected reply".into()),
                Err(e) => failed_answer(&name, e.to_string()),
            });
        }
        for answer in answers {
            if let Some(error) = answer.error {
                report.num_err += 1;
                report.messages.insert(answer.node, error);
                continue;
            }
            if list {
                for key in &answer.keys {
                    *report.keys.entry(key.clone()).or_default() += 1;
                }
                if let Some(primary) = &answer.primary {
                    *report.primary_keys.entry(primary.clone()).or_default() += 1;
                }
                report.node_keys.insert(
                    answer.node,
                    NodeKeyring {
                        keys: answer.keys,
                        primary: answer.primary,
                    },
                );
            }
        }
        Ok(report)
    }

    /// Whether gossip is encrypted (a keyring is installed).
    pub fn encryption_enabled(&self) -> bool {
        self.core().keyring().is_some()
    }

    /// Sets this member's coordinate blob (≤ 128 bytes), carried on acks and gossiped.
    pub fn set_coordinate(&self, blob: Vec<u8>) {
        self.with_core(|core, now| core.set_coordinate(now, blob));
    }

    /// The newest coordinate blob known for a member.
    pub fn coordinate_of(&self, name: &str) -> Option<Vec<u8>> {
        self.core().coordinate_of(name)
    }

    /// Probe round trips with the peers' coordinates (bounded, lossy when lagging).
    pub fn rtt_samples(&self) -> broadcast::Receiver<RttSample> {
        self.inner.rtts.subscribe()
    }

    /// Counters for `consul info`.
    pub fn stats(&self) -> GossipStats {
        self.core().stats()
    }

    /// Stops every task of this member (without leaving: others will see it fail).
    pub async fn shutdown(&self) {
        self.inner.token.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}

fn failed_answer(node: &str, error: String) -> wire::KeyringAnswer {
    wire::KeyringAnswer {
        node: node.to_string(),
        error: Some(error),
        keys: Vec::new(),
        primary: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::generate_key;

    #[test]
    fn the_keyring_file_wins_over_the_configured_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serf/local.keyring");
        let addr = "127.0.0.1:0".parse().unwrap();
        let mut config = GossipConfig::lan("a", addr, addr);
        config.keyring_file = Some(path.clone());
        assert!(initial_keyring(&config).unwrap().is_none());
        assert!(!path.exists());

        // No file yet: the configured key is used and persisted.
        let first = generate_key();
        config.keyring = Some(Keyring::from_base64(&first).unwrap());
        let ring = initial_keyring(&config).unwrap().unwrap();
        assert_eq!(ring.keys_base64(), vec![first.clone()]);
        assert!(path.exists());

        // The file exists: another configured key is ignored.
        config.keyring = Some(Keyring::from_base64(&generate_key()).unwrap());
        let ring = initial_keyring(&config).unwrap().unwrap();
        assert_eq!(ring.keys_base64(), vec![first]);
    }
}
