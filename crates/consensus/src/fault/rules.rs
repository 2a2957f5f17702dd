//! The fault rules as data, and which one applies to a message: pure, so that what a rule
//! set means is tested without a network.
//!
//! A rule describes one direction of one link: bytes that `From` sends to `To` (server
//! RPC addresses; absent means any). A request from A to B travels A→B and its answer
//! B→A, so a rule `A→B` is enforced by A alone: on the requests A sends to B (at A's
//! client) and on the answers A gives to B's requests (at A's RPC handler). Cutting only
//! `A→B` is therefore a real one-way partition: B's requests still reach A and take
//! effect there, and only their answers are lost.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which half of an exchange a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Leg {
    /// A request, judged by its sender before it leaves.
    Request,
    /// An answer, judged by the server that answers before it leaves.
    Answer,
}

/// What happens to a message a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Type")]
pub enum FaultAction {
    /// Lost: the sender waits until its own timeout, as for a black-holed link.
    Drop,
    /// Refused at once: a request fails as unreachable (nothing was done); an answer is
    /// replaced by an error after the request took effect, like a reset connection.
    Refuse,
    /// Kept until the rules change so that it no longer matches, then sent (or treated
    /// as the new rules say); bounded by the caller's timeout.
    Hold,
    /// Sent after `BaseMs` plus a seeded draw in `0..=JitterMs` milliseconds.
    Delay {
        #[serde(rename = "BaseMs", default)]
        base_ms: u64,
        #[serde(rename = "JitterMs", default)]
        jitter_ms: u64,
    },
}

/// One rule: which messages, and what happens to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FaultRule {
    /// The sender's server RPC address (`host:port`); absent: any sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The receiver's server RPC address; absent: any receiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Message kinds, as server RPC paths without the leading slash (`raft/vote`), or a
    /// group (`raft`, `cluster`, `agent`); empty: every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Only requests or only answers; absent: both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg: Option<Leg>,
    pub action: FaultAction,
}

/// The whole rule set of one server: the first rule that matches a message decides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FaultSet {
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// Seeds the delays' jitter.
    #[serde(default)]
    pub seed: u64,
}

/// Why a rule set is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFaults {
    #[error("rule {0}: a delay of more than 60000 ms")]
    DelayTooLong(usize),
    #[error("rule {0}: an empty message kind")]
    EmptyKind(usize),
}

/// The longest delay a rule may ask for (base plus jitter), so that a typo cannot stall
/// a test for hours.
const MAX_DELAY_MS: u64 = 60_000;

impl FaultRule {
    /// Whether this rule covers the message `kind` sent from `from` to `to` on `leg`.
    pub fn matches(&self, from: &str, to: &str, kind: &str, leg: Leg) -> bool {
        self.from.as_deref().is_none_or(|want| want == from)
            && self.to.as_deref().is_none_or(|want| want == to)
            && self.leg.is_none_or(|want| want == leg)
            && (self.kinds.is_empty() || self.kinds.iter().any(|want| kind_matches(want, kind)))
    }
}

/// `want` names the kind itself or a group it belongs to (`raft` covers `raft/vote`).
fn kind_matches(want: &str, kind: &str) -> bool {
    let kind = kind.trim_start_matches('/');
    let want = want.trim_matches('/');
    kind == want
        || kind
            .strip_prefix(want)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl FaultSet {
    /// The set with no rules: every message passes.
    pub fn healed() -> FaultSet {
        FaultSet::default()
    }

    /// Refuses rule sets that cannot mean what they say.
    pub fn validate(&self) -> Result<(), InvalidFaults> {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule
                .kinds
                .iter()
                .any(|kind| kind.trim_matches('/').is_empty())
            {
                return Err(InvalidFaults::EmptyKind(i));
            }
            if let FaultAction::Delay { base_ms, jitter_ms } = rule.action
                && base_ms.saturating_add(jitter_ms) > MAX_DELAY_MS
            {
                return Err(InvalidFaults::DelayTooLong(i));
            }
        }
        Ok(())
    }

    /// What happens to the message `kind` from `from` to `to` on `leg`: the first
    /// matching rule's action, or `None` (it passes).
    pub fn action_for(&self, from: &str, to: &str, kind: &str, leg: Leg) -> Option<&FaultAction> {
        self.rules
            .iter()
            .find(|rule| rule.matches(from, to, kind, leg))
            .map(|rule| &rule.action)
    }
}

/// The `draw`-th delay of a `Delay` action under `seed`: `base` plus a jitter in
/// `0..=jitter` from a splitmix64 step, so a seed gives the same sequence every run.
pub fn delay_for(base_ms: u64, jitter_ms: u64, seed: u64, draw: u64) -> Duration {
    let jitter = if jitter_ms == 0 {
        0
    } else {
        splitmix64(seed ^ draw.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % (jitter_ms + 1)
    };
    Duration::from_millis(base_ms + jitter)
}

fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "127.0.0.1:8301";
    const B: &str = "127.0.0.1:8302";
    const C: &str = "127.0.0.1:8303";

    fn rule(from: Option<&str>, to: Option<&str>, action: FaultAction) -> FaultRule {
        FaultRule {
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            kinds: Vec::new(),
            leg: None,
            action,
        }
    }

    #[test]
    fn a_one_way_rule_covers_only_its_direction() {
        let set = FaultSet {
            rules: vec![rule(Some(A), Some(B), FaultAction::Drop)],
            seed: 0,
        };
        for leg in [Leg::Request, Leg::Answer] {
            assert_eq!(
                set.action_for(A, B, "/raft/append-entries", leg),
                Some(&FaultAction::Drop)
            );
            assert_eq!(set.action_for(B, A, "/raft/append-entries", leg), None);
            assert_eq!(set.action_for(A, C, "/raft/append-entries", leg), None);
        }
    }

    #[test]
    fn absent_ends_match_any_server() {
        let set = FaultSet {
            rules: vec![rule(None, Some(C), FaultAction::Refuse)],
            seed: 0,
        };
        assert_eq!(
            set.action_for(A, C, "/cluster/write", Leg::Request),
            Some(&FaultAction::Refuse)
        );
        assert_eq!(
            set.action_for(B, C, "/cluster/write", Leg::Request),
            Some(&FaultAction::Refuse)
        );
        assert_eq!(set.action_for(C, A, "/cluster/write", Leg::Request), None);
    }

    #[test]
    fn kinds_name_a_path_or_its_group() {
        let mut only_writes = rule(Some(A), Some(B), FaultAction::Hold);
        only_writes.kinds = vec!["cluster/write".to_string(), "raft".to_string()];
        assert!(only_writes.matches(A, B, "/cluster/write", Leg::Answer));
        assert!(only_writes.matches(A, B, "/raft/vote", Leg::Request));
        assert!(!only_writes.matches(A, B, "/cluster/read-index", Leg::Request));
        // A group is a whole path segment: `raft` does not cover `raftish/x`.
        assert!(!only_writes.matches(A, B, "/raftish/x", Leg::Request));
    }

    #[test]
    fn a_leg_limits_a_rule_to_requests_or_answers() {
        let mut answers = rule(Some(A), Some(B), FaultAction::Drop);
        answers.leg = Some(Leg::Answer);
        assert!(answers.matches(A, B, "/cluster/write", Leg::Answer));
        assert!(!answers.matches(A, B, "/cluster/write", Leg::Request));
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let mut slow_votes = rule(
            Some(A),
            None,
            FaultAction::Delay {
                base_ms: 10,
                jitter_ms: 0,
            },
        );
        slow_votes.kinds = vec!["raft/vote".to_string()];
        let set = FaultSet {
            rules: vec![slow_votes, rule(Some(A), None, FaultAction::Drop)],
            seed: 0,
        };
        assert!(matches!(
            set.action_for(A, B, "/raft/vote", Leg::Request),
            Some(FaultAction::Delay { .. })
        ));
        assert_eq!(
            set.action_for(A, B, "/raft/append-entries", Leg::Request),
            Some(&FaultAction::Drop)
        );
    }

    #[test]
    fn delays_are_bounded_and_repeat_under_a_seed() {
        for draw in 0..1000 {
            let delay = delay_for(75, 50, 7, draw);
            assert!((75..=125).contains(&delay.as_millis()), "{delay:?}");
            assert_eq!(delay, delay_for(75, 50, 7, draw));
        }
        let spread: std::collections::BTreeSet<u128> = (0..1000)
            .map(|draw| delay_for(0, 50, 7, draw).as_millis())
            .collect();
        assert!(spread.len() > 40, "jitter barely varies: {spread:?}");
        assert_eq!(delay_for(20, 0, 1, 5), Duration::from_millis(20));
    }

    #[test]
    fn the_json_shape_round_trips_and_is_checked() {
        let text = r#"{"Seed": 3, "Rules": [
            {"From": "127.0.0.1:8301", "To": "127.0.0.1:8302", "Action": {"Type": "Drop"}},
            {"Kinds": ["cluster/write"], "Leg": "Answer", "Action": {"Type": "Hold"}},
            {"Action": {"Type": "Delay", "BaseMs": 50, "JitterMs": 25}}
        ]}"#;
        let set: FaultSet = serde_json::from_str(text).expect("valid rules");
        assert_eq!(set.seed, 3);
        assert_eq!(set.rules.len(), 3);
        assert_eq!(set.rules[1].leg, Some(Leg::Answer));
        assert!(set.validate().is_ok());
        let again: FaultSet =
            serde_json::from_str(&serde_json::to_string(&set).expect("encodes")).expect("decodes");
        assert_eq!(again, set);

        let too_long: FaultSet = serde_json::from_str(
            r#"{"Rules": [{"Action": {"Type": "Delay", "BaseMs": 60000, "JitterMs": 1}}]}"#,
        )
        .expect("decodes");
        assert_eq!(too_long.validate(), Err(InvalidFaults::DelayTooLong(0)));
        let empty_kind: FaultSet =
            serde_json::from_str(r#"{"Rules": [{"Kinds": ["/"], "Action": {"Type": "Drop"}}]}"#)
                .expect("decodes");
        assert_eq!(empty_kind.validate(), Err(InvalidFaults::EmptyKind(0)));
        assert!(FaultSet::healed().rules.is_empty());
    }
}
