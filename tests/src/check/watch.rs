//! W3, blocking queries, checked for what Consul promises of them (level-triggered long
//! polls whose changes may coalesce, so not every index is delivered):
//! - monotonic: per watcher on one server, `X-Consul-Index` never decreases;
//! - resumable: `?index=j` below the current index answers at once, not after the wait;
//! - content matches the index: an entry at ModifyIndex `m` answered at index `I` has no
//!   known write to its key in `(m, I]`, and a value's ModifyIndex is its write's;
//! - no lost wake-up: an answer completed [`WAKE_UP_BOUND`] or more after a write to its
//!   key was acknowledged has an index at least the write's;
//! - atomic: a recurse answer never shows half of a transaction (the pair keys, always
//!   written together, always hold the same value).

use std::collections::HashMap;

use serde::Serialize;

use super::history::{Op, Outcome};
use super::register::{ReadMode, RegisterInput, RegisterOp, RegisterOutput, observed_indexes};

/// How long after a write is acknowledged every watcher's answers must reflect it. A
/// watcher's server may be paused (at most 5 s in these runs) or restarting, and the
/// machine is loaded; 10 s is generous, and what it catches is a watcher that slept
/// through a write, not a slow one.
pub const WAKE_UP_BOUND_NS: u64 = 10_000_000_000;

/// One blocking query's answer.
#[derive(Debug, Clone, Serialize)]
pub struct WatchCall {
    pub watcher: String,
    pub server: String,
    /// The key, or the prefix of a recurse watch.
    pub key: String,
    pub recurse: bool,
    pub mode: ReadMode,
    /// The `?index` sent.
    pub param: u64,
    pub wait_ns: u64,
    pub invoke_ns: u64,
    pub complete_ns: u64,
    /// `X-Consul-Index` answered.
    pub index: u64,
    /// `(key, value, ModifyIndex)` of each entry answered.
    pub entries: Vec<(String, String, u64)>,
}

/// A write whose log index is known.
#[derive(Debug, Clone)]
pub struct KnownWrite {
    pub key: String,
    pub value: String,
    pub index: u64,
    /// When it was acknowledged (`None` for an unknown write seen by a read).
    pub acked_ns: Option<u64>,
}

/// The writes of a register history whose index is known (answered, or read).
pub fn known_writes(ops: &[RegisterOp]) -> Vec<KnownWrite> {
    let indexes = observed_indexes(ops);
    ops.iter()
        .filter(|op| op.outcome != Outcome::Fail)
        .filter_map(|op| {
            let value = op.input.written()?;
            let index = op.index.or_else(|| indexes.get(value).copied())?;
            Some(KnownWrite {
                key: op.key.clone(),
                value: value.to_string(),
                index,
                acked_ns: (op.outcome == Outcome::Ok).then_some(op.complete()),
            })
        })
        .collect()
}

/// The answers of single-key watchers as register reads, so that the linearizability
/// checkers judge them too (each in its mode; an answer is a read at some point between
/// the call and the answer). Each watcher is a process of its own, numbered from
/// `first_process`.
pub fn as_register_reads(calls: &[WatchCall], first_process: u64) -> Vec<RegisterOp> {
    let mut watchers: Vec<&str> = calls.iter().map(|call| call.watcher.as_str()).collect();
    watchers.sort();
    watchers.dedup();
    calls
        .iter()
        .filter(|call| !call.recurse)
        .map(|call| {
            let process = watchers
                .iter()
                .position(|watcher| *watcher == call.watcher)
                .unwrap_or(0) as u64;
            let found = call
                .entries
                .first()
                .map(|(_, value, modify)| (value.clone(), *modify));
            Op {
                id: 0,
                process: first_process + process,
                key: call.key.clone(),
                f: "get",
                input: RegisterInput::Get { mode: call.mode },
                output: Some(RegisterOutput::Read {
                    found,
                    x_consul_index: call.index,
                }),
                invoke_ns: call.invoke_ns,
                complete_ns: Some(call.complete_ns),
                outcome: Outcome::Ok,
                index: None,
                server: Some(call.server.clone()),
            }
        })
        .collect()
}

/// Checks the watchers' answers; `pair` names the two keys every transaction writes
/// together. Returns every violation found.
pub fn check(calls: &[WatchCall], writes: &[KnownWrite], pair: (&str, &str)) -> Vec<String> {
    let mut violations = Vec::new();
    let mut by_key: HashMap<&str, Vec<&KnownWrite>> = HashMap::new();
    let mut by_value: HashMap<(&str, &str), u64> = HashMap::new();
    for write in writes {
        by_key.entry(&write.key).or_default().push(write);
        by_value.insert((&write.key, &write.value), write.index);
    }
    let mut last: HashMap<(&str, &str), &WatchCall> = HashMap::new();
    for call in calls {
        let describe = |what: &str| {
            format!(
                "{what}: watcher {} on {} ({}{}) sent ?index={} at {:.3}s, answered index {} at {:.3}s with {:?}",
                call.watcher,
                call.server,
                call.key,
                if call.recurse { ", recurse" } else { "" },
                call.param,
                call.invoke_ns as f64 / 1e9,
                call.index,
                call.complete_ns as f64 / 1e9,
                call.entries
            )
        };
        if let Some(previous) = last.insert((&call.watcher, &call.server), call)
            && call.index < previous.index
        {
            violations.push(describe(&format!(
                "index went back from {} on one server",
                previous.index
            )));
        }
        let timed_out = call.complete_ns - call.invoke_ns >= call.wait_ns;
        if timed_out && call.param < prior(calls, call) {
            violations.push(describe(
                "a resumed watch below the current index waited out its wait",
            ));
        }
        for (key, value, modify) in &call.entries {
            if let Some(index) = by_value.get(&(key.as_str(), value.as_str()))
                && index != modify
            {
                violations.push(describe(&format!(
                    "{key:?} = {value:?} carries ModifyIndex {modify}, but was written at {index}"
                )));
            }
            for write in by_key.get(key.as_str()).into_iter().flatten() {
                if write.index > *modify && write.index <= call.index {
                    violations.push(describe(&format!(
                        "content does not match the index: {key:?} was written at {} ({:?})",
                        write.index, write.value
                    )));
                }
            }
        }
        let watched = |key: &str| {
            if call.recurse {
                key.starts_with(&call.key)
            } else {
                key == call.key
            }
        };
        let missed = writes.iter().find(|write| {
            watched(&write.key)
                && write.index > call.index
                && write
                    .acked_ns
                    .is_some_and(|acked| acked + WAKE_UP_BOUND_NS <= call.complete_ns)
        });
        if let Some(write) = missed {
            violations.push(describe(&format!(
                "lost wake-up: {:?} = {:?} was acknowledged at index {} more than {}s before",
                write.key,
                write.value,
                write.index,
                WAKE_UP_BOUND_NS / 1_000_000_000
            )));
        }
        if call.recurse {
            let value_of = |key: &str| {
                call.entries
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, v, _)| v)
            };
            if value_of(pair.0) != value_of(pair.1) {
                violations.push(describe("half of a transaction is visible"));
            }
        }
    }
    violations
}

/// The highest index this call's watcher had been answered before it, on its server.
fn prior(calls: &[WatchCall], call: &WatchCall) -> u64 {
    calls
        .iter()
        .filter(|c| c.watcher == call.watcher && c.server == call.server)
        .filter(|c| c.complete_ns < call.invoke_ns)
        .map(|c| c.index)
        .max()
        .unwrap_or(0)
}
