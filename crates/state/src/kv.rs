//! The KV table: writes with check-and-set, deletes, and prefix queries.

use std::sync::Arc;

use proconsul_api::KvPair;

use crate::command::{CommandOutcome, KvCommand, KvOp};
use crate::state::{State, Table};

impl State {
    pub(crate) fn apply_kv(&mut self, index: u64, command: &KvCommand) -> CommandOutcome {
        let existing = self.kvs.get(&command.key).cloned();
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
        match command.op {
            KvOp::Set => {
                let (create_index, lock_index, session) = existing
                    .map(|entry| (entry.create_index, entry.lock_index, entry.session.clone()))
                    .unwrap_or((index, 0, None));
                let value = if command.value.is_empty() {
                    None
                } else {
                    Some(command.value.clone())
                };
                let entry = KvPair {
                    lock_index,
                    key: command.key.clone(),
                    flags: command.flags,
                    value,
                    session,
                    create_index,
                    modify_index: index,
                };
                self.kvs.insert(command.key.clone(), Arc::new(entry));
                self.table_indexes.bump(Table::Kvs, index);
            }
            KvOp::Delete => {
                if self.kvs.remove(&command.key).is_some() {
                    self.table_indexes.bump(Table::Kvs, index);
                }
            }
            KvOp::DeleteTree => {
                let doomed: Vec<String> = self.kv_keys_with_prefix(&command.key).cloned().collect();
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

    fn kv_keys_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.kvs
            .range(prefix.to_string()..)
            .take_while(move |(key, _)| key.starts_with(prefix))
            .map(|(key, _)| key)
    }

    /// One entry by exact key.
    pub fn kv_get(&self, key: &str) -> Option<&Arc<KvPair>> {
        self.kvs.get(key)
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn kv_list(&self, prefix: &str) -> Vec<Arc<KvPair>> {
        self.kvs
            .range(prefix.to_string()..)
            .take_while(|(key, _)| key.starts_with(prefix))
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
