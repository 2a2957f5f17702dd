//! Serf's membership semantics on top of foca's Alive/Suspect/Down: per member the latest
//! join/leave intent (Lamport-ordered within a generation), tags and coordinate; the status
//! Consul reports (alive, leaving, left, failed) derived from those and foca's liveness; the
//! events emitted when a reported member changes; and reaping.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::identity::NodeId;
use crate::member::{Member, MemberEvent, MemberStatus};
use crate::wire::{Coordinate, Intent, IntentKind, Item, Suspicion, Tags};

/// Serf's Lamport clock.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LamportClock(u64);

impl LamportClock {
    pub fn time(self) -> u64 {
        self.0
    }

    /// Next local time.
    pub fn increment(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }

    /// Moves past a time seen from another member.
    pub fn witness(&mut self, other: u64) {
        if other >= self.0 {
            self.0 = other + 1;
        }
    }
}

/// The reported state of a member, compact (a simulation holds millions of these): the
/// `Member` is built from the record when asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reported {
    pub status: MemberStatus,
    /// The generation reported; the address comes with it (it only changes with one).
    pub generation: u64,
    /// (generation, version) of the tags reported.
    pub tags_version: (u64, u64),
}

/// Everything known about one member name.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// The newest identity foca knows under this name.
    pub id: Option<NodeId>,
    /// foca's liveness of `id` (alive or suspect).
    pub up: bool,
    // Shared with the item they came in (a simulation holds millions of records).
    pub intent: Option<Arc<Intent>>,
    pub tags: Option<Arc<Tags>>,
    pub coordinate: Option<Arc<Coordinate>>,
    /// What was last reported (members list, events).
    pub reported: Option<Reported>,
    /// When `reported`'s status last changed.
    pub status_since: Duration,
    /// Erased by a prune or reap: items of this generation or older are ignored.
    pub erased_generation: Option<u64>,
}

impl Record {
    fn generation(&self) -> u64 {
        self.id.as_ref().map(|i| i.generation).unwrap_or(0)
    }

    fn is_erased(&self, generation: u64) -> bool {
        self.erased_generation.is_some_and(|g| generation <= g)
    }

    /// Consul's status, or `None` while the member is not reportable (no identity or tags
    /// yet, or erased).
    fn status(&self) -> Option<MemberStatus> {
        let id = self.id.as_ref()?;
        self.tags.as_ref()?;
        if self.is_erased(id.generation) {
            return None;
        }
        let leave = self
            .intent
            .as_ref()
            .filter(|i| i.generation == id.generation)
            .and_then(|i| match i.kind {
                IntentKind::Leave { prune } => Some(prune),
                IntentKind::Join => None,
            });
        let leaving = leave.is_some();
        if leave == Some(true) && !self.up {
            // Force-left with prune: erased as soon as it is down.
            return None;
        }
        Some(match (self.up, leaving) {
            (true, false) => MemberStatus::Alive,
            (true, true) => MemberStatus::Leaving,
            (false, true) => MemberStatus::Left,
            (false, false) => MemberStatus::Failed,
        })
    }

    fn current(&self) -> Option<Reported> {
        let status = self.status()?;
        let id = self.id.as_ref()?;
        let tags = self.tags.as_ref()?;
        Some(Reported {
            status,
            generation: id.generation,
            tags_version: (tags.generation, tags.version),
        })
    }

    /// The member as last reported.
    pub fn member(&self) -> Option<Member> {
        let reported = self.reported?;
        let id = self.id.as_ref()?;
        Some(Member {
            name: id.name.to_string(),
            addr: id.addr,
            tags: self
                .tags
                .as_ref()
                .map(|t| t.tags.clone())
                .unwrap_or_default(),
            status: reported.status,
            generation: reported.generation,
        })
    }
}

/// Suspicion bookkeeping of one member (Lifeguard confirmations).
#[derive(Debug)]
pub(crate) struct SuspicionState {
    pub incarnation: u16,
    pub started: Duration,
    /// Distinct accusers, the first one included.
    pub accusers: Vec<Arc<str>>,
}

/// Things the core must act on after foca returns.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Someone suspects us at this incarnation: refute.
    pub self_suspected: Option<u16>,
    /// Someone force-left us while we are alive: broadcast a newer join intent.
    pub refute_leave: bool,
    /// Members whose number of accusers changed.
    pub suspicions_changed: Vec<Arc<str>>,
}

/// The serf-semantics state, shared between the core and foca's broadcast handler.
pub(crate) struct SerfState {
    pub local: NodeId,
    /// Ordered, so that random choices are reproducible in simulations.
    pub records: BTreeMap<Arc<str>, Record>,
    pub clock: LamportClock,
    pub suspicions: HashMap<Arc<str>, SuspicionState>,
    pub pending: Pending,
    /// The time of the call in progress.
    pub now: Duration,
    /// We announced our leave: do not refute leave intents about us.
    pub leaving: bool,
    dirty: Vec<Arc<str>>,
}

impl SerfState {
    pub fn new(local: NodeId, now: Duration) -> SerfState {
        let mut records = BTreeMap::new();
        records.insert(
            local.name.clone(),
            Record {
                id: Some(local.clone()),
                up: true,
                status_since: now,
                ..Record::default()
            },
        );
        SerfState {
            local,
            records,
            clock: LamportClock::default(),
            suspicions: HashMap::new(),
            pending: Pending::default(),
            now,
            leaving: false,
            dirty: Vec::new(),
        }
    }

    fn mark(&mut self, name: &Arc<str>) {
        self.dirty.push(name.clone());
    }

    fn record(&mut self, name: &Arc<str>) -> &mut Record {
        self.records.entry(name.clone()).or_default()
    }

    /// Applies an item received by gossip or push-pull; `true` when it is news (foca keeps
    /// disseminating news only).
    pub fn apply_item(&mut self, item: Item) -> bool {
        match item {
            Item::Intent(intent) => self.apply_intent(intent),
            Item::Tags(tags) => self.apply_tags(tags),
            Item::Coordinate(coordinate) => self.apply_coordinate(coordinate),
            Item::Suspicion(suspicion) => self.apply_suspicion(suspicion),
        }
    }

    fn apply_intent(&mut self, intent: Arc<Intent>) -> bool {
        self.clock.witness(intent.ltime);
        let name = intent.node.clone();
        let local = name == self.local.name;
        let rec = self.record(&name);
        if rec.is_erased(intent.generation) || intent.generation < rec.generation() {
            return false;
        }
        let newer = rec
            .intent
            .as_ref()
            .is_none_or(|cur| (intent.generation, intent.ltime) > (cur.generation, cur.ltime));
        if !newer {
            return false;
        }
        let about_us_leaving = local
            && intent.generation == self.local.generation
            && matches!(intent.kind, IntentKind::Leave { .. });
        let rec = self.record(&name);
        rec.intent = Some(intent);
        if about_us_leaving && !self.leaving {
            self.pending.refute_leave = true;
        }
        self.mark(&name);
        true
    }

    fn apply_tags(&mut self, tags: Arc<Tags>) -> bool {
        let name = tags.node.clone();
        let rec = self.record(&name);
        if rec.is_erased(tags.generation) || tags.generation < rec.generation() {
            return false;
        }
        let newer = rec
            .tags
            .as_ref()
            .is_none_or(|cur| (tags.generation, tags.version) > (cur.generation, cur.version));
        if newer {
            rec.tags = Some(tags);
            self.mark(&name);
        }
        newer
    }

    fn apply_coordinate(&mut self, coordinate: Arc<Coordinate>) -> bool {
        let name = coordinate.node.clone();
        let rec = self.record(&name);
        if rec.is_erased(coordinate.generation) || coordinate.generation < rec.generation() {
            return false;
        }
        let newer = rec.coordinate.as_ref().is_none_or(|cur| {
            (coordinate.generation, coordinate.version) > (cur.generation, cur.version)
        });
        if newer {
            rec.coordinate = Some(coordinate);
        }
        newer
    }

    fn apply_suspicion(&mut self, suspicion: Suspicion) -> bool {
        if suspicion.node == self.local.name {
            let worst = self.pending.self_suspected.unwrap_or(0);
            self.pending.self_suspected = Some(worst.max(suspicion.incarnation));
        }
        let now = self.now;
        let state = self
            .suspicions
            .entry(suspicion.node.clone())
            .or_insert_with(|| SuspicionState {
                incarnation: suspicion.incarnation,
                started: now,
                accusers: Vec::new(),
            });
        if suspicion.incarnation < state.incarnation {
            return false;
        }
        if suspicion.incarnation > state.incarnation {
            *state = SuspicionState {
                incarnation: suspicion.incarnation,
                started: now,
                accusers: Vec::new(),
            };
        }
        if state.accusers.contains(&suspicion.from) {
            return false;
        }
        state.accusers.push(suspicion.from);
        self.pending.suspicions_changed.push(suspicion.node);
        true
    }

    /// foca's view of an identity changed (up, down, renamed).
    pub fn set_liveness(&mut self, id: &NodeId, up: bool) {
        let rec = self.record(&id.name);
        if rec.is_erased(id.generation) && !up {
            return;
        }
        if id.generation < rec.generation() {
            return;
        }
        if rec
            .id
            .as_ref()
            .is_none_or(|cur| cur.generation < id.generation)
            && up
        {
            // A newer life: forget the erasure of older ones.
            rec.erased_generation = None;
        }
        rec.id = Some(id.clone());
        rec.up = up;
        self.mark(&id.name.clone());
    }

    /// Forces a member out of the list (prune), reporting it reaped.
    pub fn erase(&mut self, name: &Arc<str>) {
        let rec = self.record(name);
        rec.erased_generation = Some(rec.generation());
        self.mark(name);
    }

    /// Reaps failed members older than `reconnect` and left ones older than `tombstone`;
    /// drops the records of members erased longer than `forget` ago (by then foca has
    /// forgotten them too, so nothing stale can bring them back).
    pub fn reap(&mut self, reconnect: Duration, tombstone: Duration, forget: Duration) {
        let now = self.now;
        let local = self.local.name.clone();
        let mut expired = Vec::new();
        let mut forgotten = Vec::new();
        for (name, rec) in &self.records {
            let age = now.saturating_sub(rec.status_since);
            match rec.reported.map(|m| m.status) {
                Some(MemberStatus::Failed) if age >= reconnect => expired.push(name.clone()),
                Some(MemberStatus::Left) if age >= tombstone => expired.push(name.clone()),
                None if age >= forget && *name != local && !rec.up => forgotten.push(name.clone()),
                _ => {}
            }
        }
        for name in expired {
            self.erase(&name);
        }
        for name in forgotten {
            self.records.remove(&name);
        }
    }

    /// Recomputes the reported state of changed members and returns the events.
    pub fn take_events(&mut self) -> Vec<MemberEvent> {
        let mut events = Vec::new();
        let dirty = std::mem::take(&mut self.dirty);
        let now = self.now;
        for name in dirty {
            let Some(rec) = self.records.get_mut(&name) else {
                continue;
            };
            let next = rec.current();
            let prev = rec.reported;
            if prev == next {
                continue;
            }
            if prev.map(|m| m.status) != next.map(|m| m.status) {
                rec.status_since = now;
            }
            let before = rec.member();
            rec.reported = next;
            let after = rec.member();
            if let Some(event) = event_for(prev, next, before, after) {
                events.push(event);
            }
        }
        events
    }

    /// Every reportable member.
    pub fn members(&self) -> impl Iterator<Item = Member> + '_ {
        self.records.values().filter_map(|r| r.member())
    }

    /// Counts of reported members: (all, failed, left).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for r in self.records.values().filter_map(|r| r.reported) {
            counts.0 += 1;
            match r.status {
                MemberStatus::Failed => counts.1 += 1,
                MemberStatus::Left => counts.2 += 1,
                _ => {}
            }
        }
        counts
    }

    /// The latest intent, tags and coordinate of every member (push-pull).
    pub fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        for rec in self.records.values() {
            if let Some(erased) = rec.erased_generation
                && rec.generation() <= erased
            {
                // Keep telling others about leave intents of erased members (prune).
                if let Some(intent) = &rec.intent {
                    items.push(Item::Intent(intent.clone()));
                }
                continue;
            }
            if let Some(intent) = &rec.intent {
                items.push(Item::Intent(intent.clone()));
            }
            if let Some(tags) = &rec.tags {
                items.push(Item::Tags(tags.clone()));
            }
            if let Some(coordinate) = &rec.coordinate {
                items.push(Item::Coordinate(coordinate.clone()));
            }
        }
        items
    }

    /// The newest coordinate blob known for a member.
    pub fn coordinate_of(&self, name: &str) -> Option<Vec<u8>> {
        self.records
            .get(name)
            .and_then(|r| r.coordinate.as_ref())
            .map(|c| c.blob.clone())
    }

    /// Addresses of reported members by status (push-pull and reconnect targets).
    pub fn addrs_with(&self, status: MemberStatus) -> Vec<(Arc<str>, SocketAddr)> {
        self.records
            .iter()
            .filter(|(name, _)| **name != self.local.name)
            .filter_map(|(name, r)| {
                let m = r.reported?;
                let id = r.id.as_ref()?;
                (m.status == status).then(|| (name.clone(), id.addr))
            })
            .collect()
    }

    /// Tags of the local member.
    pub fn local_tags(&self) -> BTreeMap<String, String> {
        self.records
            .get(&self.local.name)
            .and_then(|r| r.tags.as_ref())
            .map(|t| t.tags.clone())
            .unwrap_or_default()
    }
}

/// Serf's event for a change of reported state.
fn event_for(
    prev: Option<Reported>,
    next: Option<Reported>,
    before: Option<Member>,
    after: Option<Member>,
) -> Option<MemberEvent> {
    use MemberStatus::{Alive, Failed, Leaving, Left};
    let (p, m) = match (prev, next) {
        (None, None) => return None,
        (None, Some(m)) => {
            return matches!(m.status, Alive | Leaving).then_some(MemberEvent::Join(after?));
        }
        (Some(_), None) => return Some(MemberEvent::Reap(before?)),
        (Some(p), Some(m)) => (p, m),
    };
    let changed = p.generation != m.generation || p.tags_version != m.tags_version;
    let after = after?;
    match (p.status, m.status) {
        (Alive | Leaving, Alive | Leaving) => changed.then_some(MemberEvent::Update(after)),
        (_, Alive | Leaving) => Some(MemberEvent::Join(after)),
        (s, Failed) if s != Failed => Some(MemberEvent::Failed(after)),
        (s, Left) if s != Left => Some(MemberEvent::Leave(after)),
        _ => changed.then_some(MemberEvent::Update(after)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SerfState {
        SerfState::new(
            NodeId::new("local", "127.0.0.1:1".parse().unwrap(), 1),
            Duration::ZERO,
        )
    }

    fn intent(node: &str, generation: u64, ltime: u64, kind: IntentKind) -> Item {
        Item::Intent(Arc::new(Intent {
            node: node.into(),
            generation,
            ltime,
            kind,
        }))
    }

    fn tags(node: &str, generation: u64) -> Item {
        Item::Tags(Arc::new(Tags {
            node: node.into(),
            generation,
            version: 1,
            tags: BTreeMap::new(),
        }))
    }

    fn status(s: &SerfState, name: &str) -> Option<MemberStatus> {
        s.records
            .get(name)
            .and_then(|r| r.reported)
            .map(|r| r.status)
    }

    #[test]
    fn intents_resolve_the_same_in_any_order() {
        let leave = || intent("b", 7, 5, IntentKind::Leave { prune: false });
        let join = || intent("b", 7, 3, IntentKind::Join);
        let b = NodeId::new("b", "127.0.0.2:1".parse().unwrap(), 7);
        for order in [[leave(), join()], [join(), leave()]] {
            let mut s = state();
            // The leave intent may arrive before the member is known at all.
            for item in order {
                s.apply_item(item);
            }
            s.apply_item(tags("b", 7));
            s.set_liveness(&b, true);
            s.take_events();
            assert_eq!(status(&s, "b"), Some(MemberStatus::Leaving));
            s.set_liveness(&b, false);
            let events = s.take_events();
            assert!(matches!(&events[..], [MemberEvent::Leave(m)] if m.name == "b"));
            assert_eq!(status(&s, "b"), Some(MemberStatus::Left));
            // A stale leave of an older generation changes nothing; a newer life rejoins.
            assert!(!s.apply_item(intent("b", 6, 99, IntentKind::Leave { prune: false })));
            let b2 = NodeId::new("b", "127.0.0.9:1".parse().unwrap(), 8);
            s.set_liveness(&b2, true);
            let events = s.take_events();
            assert!(matches!(&events[..], [MemberEvent::Join(m)] if m.generation == 8));
        }
    }

    #[test]
    fn failed_then_reaped_then_forgotten() {
        let mut s = state();
        let c = NodeId::new("c", "127.0.0.3:1".parse().unwrap(), 1);
        s.apply_item(tags("c", 1));
        s.set_liveness(&c, true);
        assert!(matches!(&s.take_events()[..], [MemberEvent::Join(_)]));
        s.set_liveness(&c, false);
        assert!(matches!(&s.take_events()[..], [MemberEvent::Failed(_)]));
        assert_eq!(status(&s, "c"), Some(MemberStatus::Failed));
        let (reconnect, tombstone, forget) = (
            Duration::from_secs(10),
            Duration::from_secs(5),
            Duration::from_secs(60),
        );
        s.now = Duration::from_secs(9);
        s.reap(reconnect, tombstone, forget);
        assert!(s.take_events().is_empty());
        s.now = Duration::from_secs(10);
        s.reap(reconnect, tombstone, forget);
        let events = s.take_events();
        assert!(matches!(&events[..], [MemberEvent::Reap(m)] if m.name == "c"));
        assert!(s.records.contains_key("c"));
        s.now = Duration::from_secs(70);
        s.reap(reconnect, tombstone, forget);
        assert!(!s.records.contains_key("c"));
    }

    #[test]
    fn a_refuted_suspicion_restarts_and_accusers_are_counted_once() {
        let mut s = state();
        let accuse = |from: &str, incarnation| {
            Item::Suspicion(Suspicion {
                node: "d".into(),
                incarnation,
                from: from.into(),
            })
        };
        assert!(s.apply_item(accuse("x", 0)));
        assert!(!s.apply_item(accuse("x", 0)));
        assert!(s.apply_item(accuse("y", 0)));
        assert_eq!(s.suspicions["d"].accusers.len(), 2);
        assert!(s.apply_item(accuse("z", 0)));
        assert_eq!(s.suspicions["d"].accusers.len(), 3);
        assert!(s.apply_item(accuse("x", 1)));
        assert_eq!(s.suspicions["d"].accusers.len(), 1);
        assert!(!s.apply_item(accuse("q", 0)));
    }
}
