//! The sessions table: creation (bound to a node and its checks), destruction with its
//! effect on the locks the session held, and the queries the session endpoints and the
//! leader's invalidation watcher use.

use std::sync::Arc;

use proconsul_api::{HealthStatus, Session, SessionBehavior};

use crate::command::CommandOutcome;
use crate::state::{Key, State, Table};

impl State {
    pub(crate) fn apply_session_create(&mut self, index: u64, session: &Session) -> CommandOutcome {
        if self.sessions.contains_key(session.id.as_str()) {
            return CommandOutcome::Rejected(format!("Session '{}' already exists", session.id));
        }
        if !self.nodes.contains_key(session.node.as_str()) {
            return CommandOutcome::Rejected("Missing node registration".to_string());
        }
        let checks = session
            .node_checks
            .iter()
            .chain(session.service_checks.iter().map(|check| &check.id));
        for check_id in checks {
            match self.check(&session.node, check_id) {
                None => {
                    return CommandOutcome::Rejected(format!(
                        "Missing check '{check_id}' registration"
                    ));
                }
                Some(check) if check.status == HealthStatus::Critical => {
                    return CommandOutcome::Rejected(format!(
                        "Check '{check_id}' is in critical state"
                    ));
                }
                Some(_) => {}
            }
        }
        let stored = Session {
            create_index: index,
            modify_index: index,
            ..session.clone()
        };
        self.sessions
            .insert(Key::new(&session.id), Arc::new(stored));
        self.table_indexes.bump(Table::Sessions, index);
        CommandOutcome::Done
    }

    /// Ends a session: its locks are released (or its keys deleted), and each key it
    /// held may not be acquired again until `now_ms` plus the session's lock delay.
    pub(crate) fn apply_session_destroy(
        &mut self,
        index: u64,
        id: &str,
        now_ms: u64,
    ) -> CommandOutcome {
        let Some(session) = self.sessions.remove(id) else {
            return CommandOutcome::Done;
        };
        self.table_indexes.bump(Table::Sessions, index);
        self.delete_session_queries(index, id);
        // Delays that have run out are forgotten, so the map holds only live ones.
        let expired: Vec<Key> = self
            .lock_delays
            .iter()
            .filter(|(_, until)| **until <= now_ms)
            .map(|(key, _)| key.clone())
            .collect();
        for key in expired {
            self.lock_delays.remove(&key);
        }
        let held: Vec<Key> = self
            .kvs
            .iter()
            .filter(|(_, entry)| entry.session.as_deref() == Some(id))
            .map(|(key, _)| key.clone())
            .collect();
        let delay_ms = session.lock_delay / 1_000_000;
        for key in &held {
            match session.behavior {
                SessionBehavior::Release => {
                    if let Some(entry) = self.kvs.get(key) {
                        let mut released = (**entry).clone();
                        released.session = None;
                        released.modify_index = index;
                        self.kvs.insert(key.clone(), Arc::new(released));
                    }
                }
                SessionBehavior::Delete => {
                    self.kvs.remove(key);
                }
            }
            if delay_ms > 0 {
                self.lock_delays
                    .insert(key.clone(), now_ms.saturating_add(delay_ms));
            }
        }
        if !held.is_empty() {
            self.table_indexes.bump(Table::Kvs, index);
        }
        CommandOutcome::Done
    }

    /// One session by ID.
    pub fn session(&self, id: &str) -> Option<&Arc<Session>> {
        self.sessions.get(id)
    }

    /// Every session, ordered by ID.
    pub fn sessions(&self) -> impl Iterator<Item = &Arc<Session>> {
        self.sessions.values()
    }

    /// The sessions of one node.
    pub fn node_sessions<'a>(
        &'a self,
        node: &'a str,
    ) -> impl Iterator<Item = &'a Arc<Session>> + 'a {
        self.sessions
            .values()
            .filter(move |session| session.node == node)
    }

    /// The sessions that must end because their node is gone, or a check they are
    /// bound to is gone or critical. The leader proposes their destruction.
    pub fn sessions_to_invalidate(&self) -> Vec<String> {
        if self.sessions.is_empty() {
            return Vec::new();
        }
        self.sessions
            .values()
            .filter(|session| {
                if !self.nodes.contains_key(session.node.as_str()) {
                    return true;
                }
                session
                    .node_checks
                    .iter()
                    .chain(session.service_checks.iter().map(|check| &check.id))
                    .any(|check_id| {
                        self.check(&session.node, check_id)
                            .is_none_or(|check| check.status == HealthStatus::Critical)
                    })
            })
            .map(|session| session.id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use proconsul_api::{CatalogRegistration, HealthCheck, KvPair};

    use super::*;
    use crate::command::{Command, KvCommand, KvOp};

    fn node_with_check(state: &mut State, index: u64, status: HealthStatus) {
        let registration = CatalogRegistration {
            node: "n1".into(),
            address: "10.0.0.1".into(),
            check: Some(HealthCheck {
                node: "n1".into(),
                check_id: "serfHealth".into(),
                name: "Serf Health Status".into(),
                status,
                ..HealthCheck::default()
            }),
            ..CatalogRegistration::default()
        };
        state.apply(index, &Command::Register(Box::new(registration)));
    }

    fn session(id: &str, behavior: SessionBehavior) -> Command {
        Command::SessionCreate(Box::new(Session {
            id: id.into(),
            node: "n1".into(),
            node_checks: vec!["serfHealth".into()],
            lock_delay: 15_000_000_000,
            behavior,
            ..Session::default()
        }))
    }

    fn kv(op: KvOp, key: &str, value: &str) -> Command {
        Command::Kv(KvCommand {
            op,
            key: key.into(),
            value: value.as_bytes().to_vec(),
            flags: 0,
            cas: None,
        })
    }

    fn entry<'a>(state: &'a State, key: &str) -> &'a KvPair {
        state.kv_get(key).unwrap()
    }

    #[test]
    fn create_needs_the_node_and_healthy_checks() {
        let mut state = State::default();
        assert_eq!(
            state.apply(1, &session("s1", SessionBehavior::Release)),
            CommandOutcome::Rejected("Missing node registration".into())
        );
        node_with_check(&mut state, 2, HealthStatus::Critical);
        assert_eq!(
            state.apply(3, &session("s1", SessionBehavior::Release)),
            CommandOutcome::Rejected("Check 'serfHealth' is in critical state".into())
        );
        node_with_check(&mut state, 4, HealthStatus::Passing);
        assert_eq!(
            state.apply(5, &session("s1", SessionBehavior::Release)),
            CommandOutcome::Done
        );
        let stored = state.session("s1").unwrap();
        assert_eq!((stored.create_index, stored.modify_index), (5, 5));
        assert_eq!(state.table_indexes().sessions, 5);
    }

    #[test]
    fn locks_are_exclusive_and_counted() {
        let mut state = State::default();
        node_with_check(&mut state, 1, HealthStatus::Passing);
        state.apply(2, &session("a", SessionBehavior::Release));
        state.apply(3, &session("b", SessionBehavior::Release));
        assert_eq!(
            state.apply(4, &kv(KvOp::Acquire("a".into()), "lock", "1")),
            CommandOutcome::Applied(true)
        );
        assert_eq!(
            (
                entry(&state, "lock").lock_index,
                entry(&state, "lock").session.as_deref()
            ),
            (1, Some("a"))
        );
        assert_eq!(
            state.apply(5, &kv(KvOp::Acquire("b".into()), "lock", "2")),
            CommandOutcome::Applied(false)
        );
        // The holder may update its value; the lock index does not move.
        assert_eq!(
            state.apply(6, &kv(KvOp::Acquire("a".into()), "lock", "3")),
            CommandOutcome::Applied(true)
        );
        assert_eq!(entry(&state, "lock").lock_index, 1);
        assert_eq!(entry(&state, "lock").value.as_deref(), Some(&b"3"[..]));
        assert_eq!(
            state.apply(7, &kv(KvOp::Release("b".into()), "lock", "")),
            CommandOutcome::Applied(false)
        );
        assert_eq!(
            state.apply(8, &kv(KvOp::Release("a".into()), "lock", "4")),
            CommandOutcome::Applied(true)
        );
        assert_eq!(entry(&state, "lock").session, None);
        assert_eq!(
            state.apply(9, &kv(KvOp::Acquire("b".into()), "lock", "5")),
            CommandOutcome::Applied(true)
        );
        assert_eq!(entry(&state, "lock").lock_index, 2);
        assert_eq!(
            state.apply(10, &kv(KvOp::Acquire("nope".into()), "other", "")),
            CommandOutcome::Rejected("invalid session \"nope\"".into())
        );
    }

    #[test]
    fn destroy_releases_or_deletes_and_starts_the_lock_delay() {
        let mut state = State::default();
        node_with_check(&mut state, 1, HealthStatus::Passing);
        state.apply(2, &session("r", SessionBehavior::Release));
        state.apply(3, &session("d", SessionBehavior::Delete));
        state.apply(4, &kv(KvOp::Acquire("r".into()), "kept", "x"));
        state.apply(5, &kv(KvOp::Acquire("d".into()), "gone", "y"));
        state.apply(
            6,
            &Command::SessionDestroy {
                id: "r".into(),
                now_ms: 1_000,
            },
        );
        assert_eq!(entry(&state, "kept").session, None);
        assert_eq!(entry(&state, "kept").modify_index, 6);
        assert_eq!(state.lock_delay_until("kept"), Some(16_000));
        state.apply(
            7,
            &Command::SessionDestroy {
                id: "d".into(),
                now_ms: 2_000,
            },
        );
        assert!(state.kv_get("gone").is_none());
        assert!(state.session("d").is_none());
        assert_eq!(state.table_indexes().kvs, 7);
        // A snapshot keeps sessions and lock delays.
        let restored = State::from_snapshot(&state.to_snapshot()).unwrap();
        assert_eq!(restored, state);
    }

    #[test]
    fn sessions_of_failed_nodes_and_checks_are_found() {
        let mut state = State::default();
        node_with_check(&mut state, 1, HealthStatus::Passing);
        state.apply(2, &session("s", SessionBehavior::Release));
        assert!(state.sessions_to_invalidate().is_empty());
        node_with_check(&mut state, 3, HealthStatus::Critical);
        assert_eq!(state.sessions_to_invalidate(), ["s"]);
    }
}
