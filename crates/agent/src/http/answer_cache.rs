//! Encoded answers to hot reads (health of a service, the service list), reused while
//! the index they were built at is unchanged.
//!
//! Discovery clients and blocking watchers ask the same few questions over and over
//! (`/v1/health/service/web?passing`), and a service's index moves whenever anything
//! its answer depends on changes (its instances, their checks, the nodes they run on).
//! So the encoded JSON of an answer at index N is valid for every request with the same
//! parameters until the index moves: it is built once and served as shared bytes. When
//! 10,000 watchers wake on one write, one of them builds the answer and the rest copy a
//! pointer.
//!
//! The key holds every parameter that shapes the answer, the token included
//! ([`crate::acl::Authorizer::cache_scope`]: the token and the ACL tables' version), so
//! that no token is served an answer filtered for another.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

use crate::acl::Authorizer;

/// Entries kept before the cache is emptied and starts again (a bound, not an LRU:
/// answers are cheap to rebuild, and a busy agent asks far fewer distinct questions).
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct AnswerCache {
    entries: Mutex<HashMap<String, (u64, Answer)>>,
}

/// An encoded answer, and whether ACLs left something out of it (the answer served
/// again says so again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub bytes: Bytes,
    pub filtered_by_acls: bool,
}

impl AnswerCache {
    /// The encoded answer for `key` if it was built at `index`.
    pub fn get(&self, key: &str, index: u64) -> Option<Answer> {
        let entries = self.lock();
        entries
            .get(key)
            .filter(|(built_at, _)| *built_at == index)
            .map(|(_, answer)| answer.clone())
    }

    /// Keeps the answer for `key` built at `index`.
    pub fn put(&self, key: String, index: u64, answer: Answer) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (index, answer));
    }

    /// The answer kept under `key` at `index`, else the one `build` encodes (then
    /// kept). A kept answer still tells `authz` that ACLs left something out of it, so
    /// the header says so again.
    pub fn get_or_build(
        &self,
        authz: &Authorizer,
        key: &str,
        index: u64,
        build: impl FnOnce() -> Bytes,
    ) -> Bytes {
        if let Some(answer) = self.get(key, index) {
            authz.keep(!answer.filtered_by_acls);
            return answer.bytes;
        }
        let bytes = build();
        let answer = Answer {
            bytes: bytes.clone(),
            filtered_by_acls: authz.results_filtered(),
        };
        self.put(key.to_string(), index, answer);
        bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Answer)>> {
        // Whole entries are inserted or removed; a poisoned map is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_reused_only_at_the_index_it_was_built_at() {
        let cache = AnswerCache::default();
        let answer = |bytes: &'static [u8]| Answer {
            bytes: Bytes::from_static(bytes),
            filtered_by_acls: false,
        };
        cache.put("web".to_string(), 7, answer(b"[1]"));
        assert_eq!(cache.get("web", 7), Some(answer(b"[1]")));
        assert_eq!(cache.get("web", 8), None);
        assert_eq!(cache.get("db", 7), None);
        for i in 0..MAX_ENTRIES {
            cache.put(format!("k{i}"), 1, answer(b""));
        }
        assert!(cache.lock().len() <= MAX_ENTRIES);
    }
}
