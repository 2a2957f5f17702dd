//! Probing around foca: what each sent packet implies (the probe in progress, the coordinate
//! on acks, the suspicion notice on pings to suspects, nack expectations), what received
//! probe traffic implies (RTT samples, awareness, nacks to send), our accusations with
//! their Lifeguard-moved ends, and the TCP fallback probe.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use foca::{Codec, Header, Message, PostcardCodec, State, Timer};

use crate::identity::NodeId;
use crate::keyring;
use crate::member::RttSample;
use crate::wire::{self, Extra, Item, StreamMsg, Suspicion};

use super::broadcast::lock;
use super::lifeguard::suspicion_timeout;
use super::timers::TimerKind;
use super::{Core, Output};

/// The probe in progress (for RTT, nacks, awareness and the TCP fallback).
#[derive(Debug)]
pub(super) struct ProbeTrack {
    pub(super) target: NodeId,
    pub(super) number: u8,
    pub(super) sent: Duration,
    pub(super) acked: bool,
    /// Local health was degraded (awareness above 0) when the probe began.
    pub(super) degraded: bool,
    pub(super) expected_nacks: u32,
    /// Members that relayed our indirect probe and could not reach the target either.
    pub(super) nackers: Vec<Arc<str>>,
}

/// Our own failed probe of a member, whose end Lifeguard moves.
#[derive(Debug)]
pub(super) struct SuspicionTimer {
    pub(super) timer: Timer<NodeId>,
    /// The accused, reminded every probe timeout until it refutes or is declared down.
    pub(super) target: NodeId,
    pub(super) incarnation: u16,
    pub(super) deadline: Duration,
}

impl Core {
    pub(super) fn finish_send(
        &mut self,
        (to, data): (NodeId, Vec<u8>),
        header: Option<&Header<NodeId>>,
    ) {
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
                        degraded: self.awareness.score() > 0,
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

    pub(super) fn on_received(&mut self, header: Header<NodeId>) {
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
                let degraded = p.degraded;
                self.outputs.push(Output::Probed {
                    elapsed: rtt,
                    degraded,
                });
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
                    let probed = Output::Probed {
                        elapsed: self.now.saturating_sub(p.sent),
                        degraded: p.degraded,
                    };
                    self.outputs.push(probed);
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

    pub(super) fn send_nack(&mut self, target: Arc<str>, probe_number: u8, requester: Arc<str>) {
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

    pub(super) fn send_body(&mut self, to: SocketAddr, body: &[u8]) {
        let data = self.seal(body);
        self.traffic.datagrams_sent += 1;
        self.traffic.bytes_sent += data.len() as u64;
        self.outputs.push(Output::Datagram { to, data });
    }

    pub(super) fn on_foca_timer(&mut self, timer: Timer<NodeId>, after: Duration) {
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
    pub(super) fn on_probe_failed(
        &mut self,
        member: NodeId,
        incarnation: u16,
        timer: Timer<NodeId>,
    ) {
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
                    target: member.clone(),
                    incarnation,
                    deadline: Duration::MAX,
                },
            );
            let at = self.now + self.timing.probe_timeout;
            self.timers
                .add(at, TimerKind::SuspicionNotice(name.clone()));
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
        self.send_suspicion_notice(member.addr, incarnation);
        self.move_suspicion_end(&name);
    }

    /// Tells the accused directly, so that it refutes within a round trip.
    fn send_suspicion_notice(&mut self, to: SocketAddr, incarnation: u16) {
        let body = wire::encode_datagram(
            &[],
            &[Extra::Suspected {
                incarnation,
                from: self.id.name.clone(),
            }],
        );
        self.send_body(to, &body);
    }

    /// Reminds the accused while our suspicion stands: the first notice and the gossip about
    /// it may all have been lost (we may have been the one cut off).
    pub(super) fn remind_suspect(&mut self, name: Arc<str>) {
        let Some(t) = self.suspicion_timers.get(&name) else {
            return;
        };
        let still_suspect = self.foca.iter_membership_state().any(|m| {
            m.id() == &t.target && m.state() == State::Suspect && m.incarnation() == t.incarnation
        });
        if !still_suspect {
            return;
        }
        let (addr, incarnation) = (t.target.addr, t.incarnation);
        self.send_suspicion_notice(addr, incarnation);
        let at = self.now + self.timing.probe_timeout;
        self.timers.add(at, TimerKind::SuspicionNotice(name));
    }

    /// Recomputes when our suspicion of `name` ends from the accusers known so far.
    pub(super) fn move_suspicion_end(&mut self, name: &Arc<str>) {
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
        let mut timeout = suspicion_timeout(&self.timing, n, accusers.max(1));
        if accusers <= 1 {
            // Unconfirmed: if we are the unhealthy one, wait as much longer as we probe
            // slower (Lifeguard's point: a struggling member must not fail others).
            timeout = self.awareness.scale(timeout);
        }
        let deadline = started + timeout;
        if deadline < t.deadline {
            t.deadline = deadline;
            self.timers.add(
                deadline.max(self.now),
                TimerKind::SuspicionEnd(name.clone()),
            );
        }
    }

    pub(super) fn maybe_tcp_probe(&mut self, probed: &NodeId) {
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
}
