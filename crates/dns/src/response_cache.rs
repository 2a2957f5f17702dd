//! Encoded answers to service lookups, reused while the service does not change.
//!
//! Service lookups are most of a registry's DNS traffic, and between two changes of a
//! service every answer to the same packet is the same but for the order of its
//! records. An entry is valid while the service's index is the one it was computed at
//! (the index moves with any change to the service's instances, their checks or their
//! nodes) and holds up to [`MAX_VARIANTS`] answers: the rotations of one random order.
//! They are served in turn, so with up to that many instances each comes first exactly
//! once per round, as fair as shuffling every answer; after [`ROUNDS`] rounds a new
//! random order replaces them. Services whose instances have unequal weights are not
//! kept: their weighted order is drawn for every answer.
//!
//! The key is the whole query but its ID (flags, question with its case, EDNS) plus the
//! transport, so a kept answer answers exactly the question asked; the ID is patched in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hickory_server::net::xfer::Protocol;
use proconsul_state::State;

/// The most answers kept per query (the rotations of one order).
pub const MAX_VARIANTS: usize = 16;
/// Rounds through the variants before a new order is drawn.
pub const ROUNDS: u64 = 64;
/// The most bytes of answers kept; past it the cache starts again empty.
const MAX_BYTES: usize = 16 << 20;

/// Which rotation of which random order an answer is built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub seed: u64,
    pub variant: usize,
}

/// What a computed answer can be kept under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keepable {
    pub service: String,
    pub index: u64,
    /// How many rotations the answer has (the instances, at most `MAX_VARIANTS`).
    pub variants: usize,
    pub rotation: Rotation,
}

/// The outcome of a lookup.
pub enum Cached {
    /// The answer, with the query's ID.
    Hit(Vec<u8>),
    /// Compute the answer in this rotation (and keep it).
    Compute(Rotation),
}

struct Entry {
    service: String,
    index: u64,
    inner: Mutex<Variants>,
}

struct Variants {
    seed: u64,
    answers: Vec<Option<Arc<[u8]>>>,
    uses: u64,
}

/// See the module documentation.
#[derive(Default)]
pub struct ResponseCache {
    entries: Mutex<Map>,
}

#[derive(Default)]
struct Map {
    entries: HashMap<Box<[u8]>, Arc<Entry>>,
    bytes: usize,
}

fn key(query: &[u8], protocol: Protocol) -> Option<Box<[u8]>> {
    let rest = query.get(2..)?;
    let mut key = Vec::with_capacity(rest.len() + 1);
    key.push(u8::from(protocol == Protocol::Udp));
    key.extend_from_slice(rest);
    Some(key.into_boxed_slice())
}

impl ResponseCache {
    /// The kept answer for this use of `query`, or the rotation to compute it in.
    pub fn get(&self, query: &[u8], protocol: Protocol, state: &State) -> Cached {
        let fresh = || {
            Cached::Compute(Rotation {
                seed: rand::random(),
                variant: 0,
            })
        };
        let Some(key) = key(query, protocol) else {
            return fresh();
        };
        let entry = match self.entries.lock() {
            Ok(map) => map.entries.get(&key).cloned(),
            Err(_) => None,
        };
        let Some(entry) = entry else {
            return fresh();
        };
        if state.service_index(&entry.service) != entry.index {
            return fresh();
        }
        let Ok(mut variants) = entry.inner.lock() else {
            return fresh();
        };
        let count = variants.answers.len().max(1);
        if variants.uses >= ROUNDS * count as u64 {
            variants.seed = rand::random();
            variants
                .answers
                .iter_mut()
                .for_each(|answer| *answer = None);
            variants.uses = 0;
        }
        let variant = (variants.uses % count as u64) as usize;
        variants.uses += 1;
        match variants.answers.get(variant).cloned().flatten() {
            Some(answer) => {
                drop(variants);
                let mut answer = answer.to_vec();
                answer[..2].copy_from_slice(&query[..2]);
                Cached::Hit(answer)
            }
            None => Cached::Compute(Rotation {
                seed: variants.seed,
                variant,
            }),
        }
    }

    /// Keeps `answer` to `query`, computed as `keepable` says.
    pub fn put(&self, query: &[u8], protocol: Protocol, keepable: Keepable, answer: &[u8]) {
        let Some(key) = key(query, protocol) else {
            return;
        };
        if answer.len() < 2
            || keepable.variants == 0
            || keepable.rotation.variant >= keepable.variants
        {
            return;
        }
        let entry = {
            let Ok(mut map) = self.entries.lock() else {
                return;
            };
            if map.bytes + answer.len() > MAX_BYTES {
                map.entries.clear();
                map.bytes = 0;
            }
            map.bytes += answer.len();
            let new_entry = || {
                Arc::new(Entry {
                    service: keepable.service.clone(),
                    index: keepable.index,
                    inner: Mutex::new(Variants {
                        seed: keepable.rotation.seed,
                        answers: vec![None; keepable.variants],
                        uses: 1,
                    }),
                })
            };
            let entry = map.entries.entry(key).or_insert_with(new_entry);
            if entry.index < keepable.index || entry.service != keepable.service {
                *entry = new_entry();
            }
            entry.clone()
        };
        if entry.index != keepable.index {
            return;
        }
        if let Ok(mut variants) = entry.inner.lock()
            && variants.seed == keepable.rotation.seed
            && variants.answers.len() == keepable.variants
        {
            variants.answers[keepable.rotation.variant] = Some(answer.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keepable(rotation: Rotation, index: u64) -> Keepable {
        Keepable {
            service: "web".into(),
            index,
            variants: 2,
            rotation,
        }
    }

    #[test]
    fn serves_each_rotation_in_turn_and_forgets_on_change() {
        let cache = ResponseCache::default();
        let state = State::default();
        let index = state.service_index("web");
        let query = [0xaa, 0xbb, 1, 2, 3];
        let Cached::Compute(first) = cache.get(&query, Protocol::Udp, &state) else {
            panic!("nothing kept yet");
        };
        assert_eq!(first.variant, 0);
        cache.put(&query, Protocol::Udp, keepable(first, index), &[0, 0, b'a']);
        let Cached::Compute(second) = cache.get(&query, Protocol::Udp, &state) else {
            panic!("the second rotation is not kept yet");
        };
        assert_eq!(
            second,
            Rotation {
                seed: first.seed,
                variant: 1
            }
        );
        cache.put(
            &query,
            Protocol::Udp,
            keepable(second, index),
            &[0, 0, b'b'],
        );
        let served: Vec<Vec<u8>> = (0..4)
            .map(|_| match cache.get(&query, Protocol::Udp, &state) {
                Cached::Hit(answer) => answer,
                Cached::Compute(_) => panic!("both rotations are kept"),
            })
            .collect();
        assert_eq!(
            served[0],
            [0xaa, 0xbb, b'a'],
            "the query's ID is patched in"
        );
        assert_eq!(served[1], [0xaa, 0xbb, b'b']);
        assert_eq!(served[2], served[0]);
        // Another transport is another question.
        assert!(matches!(
            cache.get(&query, Protocol::Tcp, &state),
            Cached::Compute(_)
        ));
        // An entry from another index is not used.
        let stale = ResponseCache::default();
        stale.put(
            &query,
            Protocol::Udp,
            keepable(first, index + 1),
            &[0, 0, b'x'],
        );
        assert!(matches!(
            stale.get(&query, Protocol::Udp, &state),
            Cached::Compute(_)
        ));
    }
}
