//! A client of the servers' test fault layer (`/v1/internal/test/faults`, present when
//! they run with `PROCONSUL_TEST_FAULTS=1`: [`TestCluster::start_with_env`] with
//! [`FAULTS_ENV`]). Rules name servers by their index in the cluster; each server
//! enforces the rules on what it sends, so every function here sets the same rule set on
//! every running server. Partitions are made of one-way rules: `from → to` loses what
//! `from` sends to `to`, requests and answers alike.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cluster::TestCluster;

/// The environment that turns the fault layer on, for [`TestCluster::start_with_env`].
pub const FAULTS_ENV: &[(&str, &str)] = &[("PROCONSUL_TEST_FAULTS", "1")];

/// What happens to the messages a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Lost; the sender waits until its own timeout.
    Drop,
    /// Refused at once (a request: unreachable; an answer: an error after it took effect).
    Refuse,
    /// Kept until the rules change.
    Hold,
    /// Sent after `base` plus a seeded jitter up to `jitter`.
    Delay { base: Duration, jitter: Duration },
}

/// Requests only, or answers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    Request,
    Answer,
}

/// One rule: what server `from` sends to server `to` (`None`: any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub from: Option<usize>,
    pub to: Option<usize>,
    /// Server RPC kinds (`raft`, `raft/vote`, `cluster/write`, `cluster/read-index` ...);
    /// empty: all.
    pub kinds: Vec<String>,
    pub leg: Option<Leg>,
    pub action: Action,
}

impl Rule {
    /// `action` on everything `from` sends to `to`.
    pub fn link(from: usize, to: usize, action: Action) -> Rule {
        Rule {
            from: Some(from),
            to: Some(to),
            kinds: Vec::new(),
            leg: None,
            action,
        }
    }

    /// Only messages of these kinds.
    pub fn kinds(mut self, kinds: &[&str]) -> Rule {
        self.kinds = kinds.iter().map(|kind| kind.to_string()).collect();
        self
    }

    /// Only requests, or only answers.
    pub fn leg(mut self, leg: Leg) -> Rule {
        self.leg = Some(leg);
        self
    }

    fn to_json(&self, cluster: &TestCluster) -> Value {
        let action = match self.action {
            Action::Drop => json!({"Type": "Drop"}),
            Action::Refuse => json!({"Type": "Refuse"}),
            Action::Hold => json!({"Type": "Hold"}),
            Action::Delay { base, jitter } => json!({
                "Type": "Delay",
                "BaseMs": base.as_millis() as u64,
                "JitterMs": jitter.as_millis() as u64,
            }),
        };
        let mut rule = json!({"Kinds": self.kinds, "Action": action});
        if let Some(from) = self.from {
            rule["From"] = json!(cluster.rpc_addr(from));
        }
        if let Some(to) = self.to {
            rule["To"] = json!(cluster.rpc_addr(to));
        }
        if let Some(leg) = self.leg {
            rule["Leg"] = json!(match leg {
                Leg::Request => "Request",
                Leg::Answer => "Answer",
            });
        }
        rule
    }
}

/// Rules that drop everything between `one` and `other`, both ways.
pub fn partition_rules(one: &[usize], other: &[usize]) -> Vec<Rule> {
    let mut rules = one_way_rules(one, other, Action::Drop);
    rules.extend(one_way_rules(other, one, Action::Drop));
    rules
}

/// Rules that apply `action` to everything each of `from` sends to each of `to`.
pub fn one_way_rules(from: &[usize], to: &[usize], action: Action) -> Vec<Rule> {
    from.iter()
        .flat_map(|from| to.iter().map(move |to| Rule::link(*from, *to, action)))
        .collect()
}

/// Replaces every running server's rules with `rules` (jitter seeded by `seed`).
pub async fn apply(cluster: &TestCluster, rules: &[Rule], seed: u64) {
    let body = json!({
        "Seed": seed,
        "Rules": rules.iter().map(|rule| rule.to_json(cluster)).collect::<Vec<_>>(),
    });
    for i in cluster.running() {
        let url = cluster.agent(i).url("/v1/internal/test/faults");
        let answer = crate::put(&url, body.to_string()).await;
        assert_eq!(
            answer.status, 200,
            "setting faults on server {i}: {}",
            answer.body
        );
    }
}

/// Cuts `minority` off from `majority`, both ways.
pub async fn partition(cluster: &TestCluster, minority: &[usize], majority: &[usize]) {
    apply(cluster, &partition_rules(minority, majority), 0).await;
}

/// Drops what each of `from` sends to each of `to`; the other way still works.
pub async fn one_way(cluster: &TestCluster, from: &[usize], to: &[usize]) {
    apply(cluster, &one_way_rules(from, to, Action::Drop), 0).await;
}

/// Delays what each of `from` sends to each of `to` by `base` plus up to `jitter`.
pub async fn delay(
    cluster: &TestCluster,
    from: &[usize],
    to: &[usize],
    base: Duration,
    jitter: Duration,
    seed: u64,
) {
    let rules = one_way_rules(from, to, Action::Delay { base, jitter });
    apply(cluster, &rules, seed).await;
}

/// Removes every fault on every running server.
pub async fn heal_all(cluster: &TestCluster) {
    for i in cluster.running() {
        let url = cluster.agent(i).url("/v1/internal/test/faults");
        let answer = crate::call("DELETE", &url, None).await;
        assert_eq!(answer.status, 200, "healing server {i}: {}", answer.body);
    }
}

/// The shapes of partition [`crate::fault::partition::PartitionNemesis`] chooses from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionShape {
    /// The leader alone on one side.
    LeaderInMinority,
    /// One follower alone; the leader keeps its majority.
    LeaderInMajority,
    /// Two servers cannot talk to each other; a third talks to both.
    Bridge,
    /// The leader's messages to one follower are lost; that follower's reach it.
    OneWayFromLeader,
}

impl PartitionShape {
    /// Every shape, for a seeded choice among them.
    pub const ALL: [PartitionShape; 4] = [
        PartitionShape::LeaderInMinority,
        PartitionShape::LeaderInMajority,
        PartitionShape::Bridge,
        PartitionShape::OneWayFromLeader,
    ];

    /// The shape's name in a nemesis timeline.
    pub fn name(self) -> &'static str {
        match self {
            PartitionShape::LeaderInMinority => "leader-in-minority",
            PartitionShape::LeaderInMajority => "leader-in-majority",
            PartitionShape::Bridge => "bridge",
            PartitionShape::OneWayFromLeader => "one-way-from-leader",
        }
    }

    /// The rules for this shape in a cluster of `size` whose leader is `leader`.
    pub fn rules(self, size: usize, leader: usize) -> Vec<Rule> {
        let others: Vec<usize> = (0..size).filter(|i| *i != leader).collect();
        match self {
            PartitionShape::LeaderInMinority => partition_rules(&[leader], &others),
            PartitionShape::LeaderInMajority => {
                let rest: Vec<usize> = (0..size).filter(|i| *i != others[0]).collect();
                partition_rules(&[others[0]], &rest)
            }
            // The leader is the bridge: two followers cannot talk to each other.
            PartitionShape::Bridge => partition_rules(&others[..1], &others[1..]),
            PartitionShape::OneWayFromLeader => {
                one_way_rules(&[leader], &others[..1], Action::Drop)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(rules: &[Rule]) -> Vec<(usize, usize)> {
        let mut links: Vec<(usize, usize)> = rules
            .iter()
            .map(|rule| (rule.from.expect("a sender"), rule.to.expect("a receiver")))
            .collect();
        links.sort();
        links
    }

    #[test]
    fn each_shape_cuts_the_links_it_names() {
        // Leader 1 of servers 0, 1, 2.
        assert_eq!(
            links(&PartitionShape::LeaderInMinority.rules(3, 1)),
            [(0, 1), (1, 0), (1, 2), (2, 1)]
        );
        assert_eq!(
            links(&PartitionShape::LeaderInMajority.rules(3, 1)),
            [(0, 1), (0, 2), (1, 0), (2, 0)]
        );
        assert_eq!(links(&PartitionShape::Bridge.rules(3, 1)), [(0, 2), (2, 0)]);
        assert_eq!(
            links(&PartitionShape::OneWayFromLeader.rules(3, 1)),
            [(1, 0)]
        );
        assert!(
            PartitionShape::ALL
                .iter()
                .flat_map(|shape| shape.rules(3, 1))
                .all(|rule| rule.action == Action::Drop && rule.kinds.is_empty())
        );
    }
}
