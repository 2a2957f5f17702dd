//! What the local agent asks of its member (tags, coordinate, leave, force-leave) and what
//! it reads (members, stats).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::error::GossipError;
use crate::identity::NodeId;
use crate::keyring::Keyring;
use crate::member::{GossipStats, Member, MemberStatus};
use crate::wire::{self, Intent, IntentKind, Item, Tags};

use super::broadcast::lock;
use super::timers::TimerKind;
use super::{Core, Traffic};

impl Core {
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

    pub(super) fn broadcast_coordinate(&mut self, blob: Vec<u8>) {
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

    /// Our incarnation as last sent (refutations raise it).
    pub fn incarnation(&self) -> u16 {
        self.incarnation
    }

    pub fn has_left(&self) -> bool {
        self.left
    }

    /// Alive members other than us (for keyring fan-out).
    pub fn alive_peers(&self) -> Vec<(Arc<str>, SocketAddr)> {
        lock(&self.shared).addrs_with(MemberStatus::Alive)
    }

    /// Lifeguard's local health score (0 is healthy).
    pub fn health_score(&self) -> u32 {
        self.awareness.score()
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
