//! Writes applied once however often they arrive: a follower that lost the answer to a
//! forwarded write sends it again under the same [`RequestId`], and the state answers
//! the repeat with the first application's outcome instead of applying it again. The
//! table is part of the replicated state (and of snapshots), so every server decides
//! the same way; it keeps the latest [`RECENT_REQUESTS`] identified writes, far more
//! than a follower forwards while it may still retry one (its write timeout, 7 s).

use imbl::{HashMap, Vector};
use serde::{Deserialize, Serialize};

use crate::command::{Command, CommandOutcome};
use crate::state::State;

/// How many identified writes are remembered; the oldest is forgotten first.
pub const RECENT_REQUESTS: usize = 16_384;

/// Names one write for its whole life: the proposing process (a number it drew at
/// start-up) and its count of writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    pub origin: u64,
    pub seq: u64,
}

/// The outcomes of the latest identified writes, and their order of arrival.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RecentRequests {
    outcomes: HashMap<RequestId, CommandOutcome>,
    order: Vector<RequestId>,
}

impl RecentRequests {
    fn remember(&mut self, id: RequestId, outcome: CommandOutcome) {
        self.outcomes.insert(id, outcome);
        self.order.push_back(id);
        while self.order.len() > RECENT_REQUESTS {
            if let Some(oldest) = self.order.pop_front() {
                self.outcomes.remove(&oldest);
            }
        }
    }

    /// Oldest first, as snapshots keep them.
    pub(crate) fn to_snapshot(&self) -> Vec<(RequestId, CommandOutcome)> {
        self.order
            .iter()
            .filter_map(|id| self.outcomes.get(id).map(|outcome| (*id, outcome.clone())))
            .collect()
    }

    pub(crate) fn from_snapshot(entries: Vec<(RequestId, CommandOutcome)>) -> RecentRequests {
        let mut recent = RecentRequests::default();
        for (id, outcome) in entries {
            recent.remember(id, outcome);
        }
        recent
    }
}

impl State {
    /// `Command::Identified`: the first arrival of `id` applies `command`; later ones
    /// answer its outcome and change nothing.
    pub(crate) fn apply_identified(
        &mut self,
        index: u64,
        id: RequestId,
        command: &Command,
    ) -> CommandOutcome {
        if let Some(outcome) = self.recent_requests.outcomes.get(&id) {
            return outcome.clone();
        }
        let outcome = self.apply_command(index, command);
        self.recent_requests.remember(id, outcome.clone());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::command::{KvCommand, KvOp};

    fn put(key: &str, value: &str) -> Command {
        Command::Kv(KvCommand {
            op: KvOp::Set,
            key: key.to_string(),
            value: value.as_bytes().to_vec(),
            flags: 0,
            cas: Some(0),
        })
    }

    fn identified(seq: u64, command: Command) -> Command {
        Command::Identified {
            id: RequestId { origin: 7, seq },
            command: Arc::new(command),
        }
    }

    #[test]
    fn a_repeated_write_is_applied_once_and_answered_alike() {
        let mut state = State::default();
        let write = identified(1, put("k", "v"));
        let first = state.apply(1, &write);
        assert_eq!(first, CommandOutcome::Applied(true));
        let modified = state.kv_get("k").expect("written").modify_index;
        // The same check-and-set write again would fail (the key exists); the repeat
        // answers the first outcome and touches nothing.
        assert_eq!(state.apply(2, &write), CommandOutcome::Applied(true));
        assert_eq!(state.kv_get("k").expect("kept").modify_index, modified);
        // Another request with the same command is applied (and fails its condition).
        assert_eq!(
            state.apply(3, &identified(2, put("k", "v"))),
            CommandOutcome::Applied(false)
        );
    }

    #[test]
    fn the_table_is_bounded_and_survives_a_snapshot() {
        let mut state = State::default();
        let total = RECENT_REQUESTS as u64 + 10;
        for seq in 0..total {
            state.apply(seq + 1, &identified(seq, put(&format!("k{seq}"), "v")));
        }
        assert_eq!(state.recent_requests.order.len(), RECENT_REQUESTS);
        assert!(
            !state
                .recent_requests
                .outcomes
                .contains_key(&RequestId { origin: 7, seq: 0 })
        );
        let restored = State::from_snapshot(&state.to_snapshot()).expect("restores");
        assert_eq!(restored.recent_requests, state.recent_requests);
        let mut restored = restored;
        let repeat = identified(total - 1, put(&format!("k{}", total - 1), "v"));
        let index = total + 1;
        assert_eq!(restored.apply(index, &repeat), state.apply(index, &repeat));
        assert_eq!(restored, state);
    }
}
