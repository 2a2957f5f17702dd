//! The KV table: writes with check-and-set, deletes, and prefix queries.

use std::sync::Arc;

use proconsul_api::KvPair;

use crate::command::{CommandOutcome, KvCommand, KvOp};
use crate::state::{Key, State, Table};

impl State {
    pub(crate) fn apply_kv(&mut self, index: u64, command: &KvCommand) -> CommandOutcome {
        let existing = self.kvs.get(command.key.as_str()).cloned();
        if let Some(cas) = command.cas
            && command.op != KvOp::DeleteTree
        {
            let holds = match (&existing, cas) {
                (None, 0) => true,
                (None, _) => command.op == KvOp::Delete,
                (Some(entry), cas) => entry.modify_index == cas,
            };
            if !holds {
                return CommandOutcome::Applied(false);
            }
        }
        match &command.op {
            KvOp::Acquire(session) => return self.acquire(index, command, existing, session),
            KvOp::Release(session) => return self.release(index, command, existing, session),
            _ => {}
        }
        match command.op {
            KvOp::Set => {
                let (create_index, lock_index, session) = existing
                    .map(|entry| (entry.create_index, entry.lock_index, entry.session.clone()))
                    .unwrap_or((index, 0, None));
                self.put_entry(index, command, create_index, lock_index, session);
            }
            KvOp::Delete => {
                if self.kvs.remove(command.key.as_str()).is_some() {
                    self.table_indexes.bump(Table::Kvs, index);
                }
            }
            KvOp::Acquire(_) | KvOp::Release(_) => {}
            KvOp::DeleteTree => {
                let doomed: Vec<Key> = self.kv_keys_with_prefix(&command.key).cloned().collect();
                if !doomed.is_empty() {
                    for key in doomed {
                        self.kvs.remove(&key);
                    }
                    self.table_indexes.bump(Table::Kvs, index);
                }
            }
        }
        match command.cas {
            Some(_) => CommandOutcome::Applied(true),
            None => CommandOutcome::Done,
        }
    }

    /// `?acquire`: takes the lock when it is free, or updates the value when this
    /// session already holds it. Lock delay is enforced by the proposer, which has a
    /// clock; the state keeps when each delay ends ([`State::lock_delay_until`]).
    fn acquire(
        &mut self,
        index: u64,
        command: &KvCommand,
        existing: Option<Arc<KvPair>>,
        session: &str,
    ) -> CommandOutcome {
        if !self.sessions.contains_key(session) {
            return CommandOutcome::Rejected(format!("invalid session {session:?}"));
        }
        let (create_index, lock_index) = match &existing {
            Some(entry) => match entry.session.as_deref() {
                Some(holder) if holder != session => return CommandOutcome::Applied(false),
                Some(_) => (entry.create_index, entry.lock_index),
                None => (entry.create_index, entry.lock_index + 1),
            },
            None => (index, 1),
        };
        self.put_entry(
            index,
            command,
            create_index,
            lock_index,
            Some(session.to_string()),
        );
        CommandOutcome::Applied(true)
    }

    /// `?release`: gives the lock up and updates the value, when this session holds it.
    fn release(
        &mut self,
        index: u64,
        command: &KvCommand,
        existing: Option<Arc<KvPair>>,
        session: &str,
    ) -> CommandOutcome {
        match existing {
            Some(entry) if entry.session.as_deref() == Some(session) => {
                self.put_entry(index, command, entry.create_index, entry.lock_index, None);
                CommandOutcome::Applied(true)
            }
            _ => CommandOutcome::Applied(false),
        }
    }

    fn put_entry(
        &mut self,
        index: u64,
        command: &KvCommand,
        create_index: u64,
        lock_index: u64,
        session: Option<String>,
    ) {
        let entry = KvPair {
            lock_index,
            key: command.key.clone(),
            flags: command.flags,
            value: (!command.value.is_empty()).then(|| command.value.clone()),
            session,
            create_index,
            modify_index: index,
        };
        self.kvs.insert(Key::new(&command.key), Arc::new(entry));
        self.table_indexes.bump(Table::Kvs, index);
    }

    /// When the lock delay of `key` ends (ms since the epoch), if one was set.
    pub fn lock_delay_until(&self, key: &str) -> Option<u64> {
        self.lock_delays.get(key).copied()
    }

    /// The entries whose key starts with `prefix`, in key order.
    fn kv_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<KvPair>)> + 'a {
        self.kvs
            .range::<_, str>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(key, _)| key.starts_with(prefix))
    }

    fn kv_keys_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Key> + 'a {
        self.kv_with_prefix(prefix).map(|(key, _)| key)
    }

    /// One entry by exact key.
    pub fn kv_get(&self, key: &str) -> Option<&Arc<KvPair>> {
        self.kvs.get(key)
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn kv_list(&self, prefix: &str) -> Vec<Arc<KvPair>> {
        self.kv_with_prefix(prefix)
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    /// The keys under `prefix`; with a separator, keys that continue past the next
    /// separator are folded into one "folder" key ending with it, as `?keys&separator=/`.
    pub fn kv_keys(&self, prefix: &str, separator: Option<&str>) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for key in self.kv_keys_with_prefix(prefix) {
            let folded = match separator.filter(|s| !s.is_empty()) {
                Some(separator) => match key[prefix.len()..].find(separator) {
                    Some(at) => &key[..prefix.len() + at + separator.len()],
                    None => key.as_str(),
                },
                None => key.as_str(),
            };
            if keys.last().map(String::as_str) != Some(folded) {
                keys.push(folded.to_string());
            }
        }
        keys
    }
}
