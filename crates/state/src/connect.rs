//! Connect intentions and the CA configuration, replicated like everything else.
//!
//! Intentions are keyed by (source, destination), as Consul keeps them in
//! `service-intentions` config entries; those made through the deprecated
//! create-by-body endpoint also carry an ID, which a later write by ID keeps even when
//! it renames the pair. Matching and the precedence order are pure functions here, so
//! the HTTP API and any future proxy authorization agree.

use std::sync::Arc;

use imbl::OrdMap;
use proconsul_api::connect::{CaConfiguration, Intention};
use serde::{Deserialize, Serialize};

use crate::command::CommandOutcome;
use crate::state::{Key, State, Table};

/// The Connect tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ConnectTables {
    intentions: OrdMap<(Key, Key), Arc<Intention>>,
    ca_config: Option<Arc<CaConfiguration>>,
}

/// What snapshots keep of [`ConnectTables`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConnectSnapshot {
    intentions: Vec<Arc<Intention>>,
    ca_config: Option<Arc<CaConfiguration>>,
}

impl ConnectTables {
    pub(crate) fn to_snapshot(&self) -> ConnectSnapshot {
        ConnectSnapshot {
            intentions: self.intentions.values().cloned().collect(),
            ca_config: self.ca_config.clone(),
        }
    }

    pub(crate) fn from_snapshot(snapshot: ConnectSnapshot) -> ConnectTables {
        ConnectTables {
            intentions: snapshot
                .intentions
                .into_iter()
                .map(|intention| {
                    (
                        pair_key(&intention.source_name, &intention.destination_name),
                        intention,
                    )
                })
                .collect(),
            ca_config: snapshot.ca_config,
        }
    }
}

fn pair_key(source: &str, destination: &str) -> (Key, Key) {
    (Key::new(source), Key::new(destination))
}

/// Which side `/v1/connect/intentions/match` matches a name on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchBy {
    Source,
    Destination,
}

impl State {
    /// Every intention, highest precedence first, then by names (Consul's list order).
    pub fn intentions(&self) -> Vec<&Arc<Intention>> {
        let mut all: Vec<&Arc<Intention>> = self.connect.intentions.values().collect();
        all.sort_by(|a, b| {
            b.precedence()
                .cmp(&a.precedence())
                .then_with(|| a.source_name.cmp(&b.source_name))
                .then_with(|| a.destination_name.cmp(&b.destination_name))
        });
        all
    }

    /// The intention from `source` to `destination` exactly (no wildcard matching).
    pub fn intention_exact(&self, source: &str, destination: &str) -> Option<&Arc<Intention>> {
        self.connect.intentions.get(&pair_key(source, destination))
    }

    /// The intention with `id` (made through the deprecated create-by-body endpoint).
    pub fn intention_by_id(&self, id: &str) -> Option<&Arc<Intention>> {
        if id.is_empty() {
            return None;
        }
        self.connect
            .intentions
            .values()
            .find(|intention| intention.id == id)
    }

    /// The intentions that apply to `name` on one side (itself or the wildcard),
    /// highest precedence first.
    pub fn intentions_matching(&self, by: MatchBy, name: &str) -> Vec<&Arc<Intention>> {
        self.intentions()
            .into_iter()
            .filter(|intention| {
                let side = match by {
                    MatchBy::Source => &intention.source_name,
                    MatchBy::Destination => &intention.destination_name,
                };
                side == name || side == proconsul_api::connect::WILDCARD
            })
            .collect()
    }

    /// Whether `source` may connect to `destination`: the action of the matching
    /// intention of highest precedence, else `default_allow`.
    pub fn intention_allows(&self, source: &str, destination: &str, default_allow: bool) -> bool {
        self.intentions()
            .into_iter()
            .find(|intention| intention.matches(source, destination))
            .map_or(default_allow, |intention| intention.action == "allow")
    }

    /// The CA configuration, once one was written.
    pub fn ca_configuration(&self) -> Option<&Arc<CaConfiguration>> {
        self.connect.ca_config.as_ref()
    }

    pub(crate) fn apply_intention_set(
        &mut self,
        index: u64,
        intention: &Intention,
    ) -> CommandOutcome {
        let key = pair_key(&intention.source_name, &intention.destination_name);
        let mut stored = intention.clone();
        let previous = self.connect.intentions.get(&key).cloned().or_else(|| {
            // A write by ID that renames the pair moves the intention.
            let renamed = self.intention_by_id(&intention.id).cloned()?;
            self.connect
                .intentions
                .remove(&pair_key(&renamed.source_name, &renamed.destination_name));
            Some(renamed)
        });
        if let Some(previous) = previous {
            stored.create_index = previous.create_index;
            if stored.id.is_empty() {
                stored.id = previous.id.clone();
            }
        } else {
            stored.create_index = index;
        }
        stored.modify_index = index;
        self.connect.intentions.insert(key, Arc::new(stored));
        self.table_indexes.bump(Table::Intentions, index);
        CommandOutcome::Done
    }

    pub(crate) fn apply_intention_delete(
        &mut self,
        index: u64,
        source: &str,
        destination: &str,
    ) -> CommandOutcome {
        if self
            .connect
            .intentions
            .remove(&pair_key(source, destination))
            .is_some()
        {
            self.table_indexes.bump(Table::Intentions, index);
        }
        CommandOutcome::Done
    }

    pub(crate) fn apply_ca_config_set(
        &mut self,
        index: u64,
        config: &CaConfiguration,
    ) -> CommandOutcome {
        let mut stored = config.clone();
        stored.create_index = self
            .connect
            .ca_config
            .as_ref()
            .map_or(index, |previous| previous.create_index);
        stored.modify_index = index;
        self.connect.ca_config = Some(Arc::new(stored));
        self.table_indexes.bump(Table::Intentions, index);
        CommandOutcome::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;

    fn intention(source: &str, destination: &str, action: &str) -> Command {
        Command::IntentionSet(Box::new(Intention {
            source_name: source.into(),
            destination_name: destination.into(),
            source_type: "consul".into(),
            action: action.into(),
            ..Intention::default()
        }))
    }

    #[test]
    fn the_most_precise_intention_decides() {
        let mut state = State::default();
        state.apply(1, &intention("*", "*", "deny"));
        state.apply(2, &intention("web", "db", "allow"));
        state.apply(3, &intention("*", "db", "deny"));
        assert!(state.intention_allows("web", "db", false));
        assert!(!state.intention_allows("api", "db", true));
        assert!(!state.intention_allows("api", "cache", true));
        let precedences: Vec<u32> = state.intentions().iter().map(|i| i.precedence()).collect();
        assert_eq!(precedences, [9, 8, 5]);
        let matched = state.intentions_matching(MatchBy::Destination, "db");
        assert_eq!(matched.len(), 3);
        assert_eq!(state.intentions_matching(MatchBy::Source, "web").len(), 3);
        assert_eq!(state.intentions_matching(MatchBy::Source, "api").len(), 2);
    }

    #[test]
    fn writes_keep_the_create_index_and_deletes_remove() {
        let mut state = State::default();
        state.apply(4, &intention("web", "db", "allow"));
        state.apply(5, &intention("web", "db", "deny"));
        let stored = state.intention_exact("web", "db").unwrap();
        assert_eq!((stored.create_index, stored.modify_index), (4, 5));
        assert_eq!(stored.action, "deny");
        assert_eq!(state.table_indexes().get(Table::Intentions), 5);
        state.apply(
            6,
            &Command::IntentionDelete {
                source: "web".into(),
                destination: "db".into(),
            },
        );
        assert!(state.intention_exact("web", "db").is_none());
        let again = State::from_snapshot(&state.to_snapshot()).unwrap();
        assert_eq!(again, state);
    }

    #[test]
    fn a_write_by_id_may_rename_the_pair() {
        let mut state = State::default();
        let mut first = Intention {
            id: "i-1".into(),
            source_name: "web".into(),
            destination_name: "db".into(),
            action: "allow".into(),
            ..Intention::default()
        };
        state.apply(1, &Command::IntentionSet(Box::new(first.clone())));
        first.destination_name = "cache".into();
        state.apply(2, &Command::IntentionSet(Box::new(first)));
        assert!(state.intention_exact("web", "db").is_none());
        let moved = state.intention_by_id("i-1").unwrap();
        assert_eq!(
            (moved.destination_name.as_str(), moved.create_index),
            ("cache", 1)
        );
    }
}
