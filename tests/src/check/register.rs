//! The KV register: one Consul key with get, put, check-and-set and delete. Its state is
//! `Option<(value, ModifyIndex)>`; a CAS holds iff the key's ModifyIndex is the expected
//! one (`0`: the key is absent). Written values are unique, so a value names its write.

use std::collections::HashMap;

use serde::Serialize;

use super::history::{Op, Outcome};
use super::spec::Spec;

/// A read's consistency mode, each held to its own promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadMode {
    /// No parameter: linearizable.
    Default,
    /// `?consistent`: linearizable.
    Consistent,
    /// `?stale`: only monotonic per server.
    Stale,
}

impl ReadMode {
    /// The query parameter that selects the mode (`""` for the default).
    pub fn query(self) -> &'static str {
        match self {
            ReadMode::Default => "",
            ReadMode::Consistent => "consistent",
            ReadMode::Stale => "stale",
        }
    }

    /// Whether reads in this mode must be linearizable.
    pub fn linearizable(self) -> bool {
        self != ReadMode::Stale
    }
}

/// A register operation's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RegisterInput {
    Get { mode: ReadMode },
    Put { value: String },
    Cas { expect: u64, value: String },
    Delete,
}

impl RegisterInput {
    /// The operation's name in the history.
    pub fn name(&self) -> &'static str {
        match self {
            RegisterInput::Get { .. } => "get",
            RegisterInput::Put { .. } => "put",
            RegisterInput::Cas { .. } => "cas",
            RegisterInput::Delete => "delete",
        }
    }

    /// The value a put or CAS writes.
    pub fn written(&self) -> Option<&str> {
        match self {
            RegisterInput::Put { value } | RegisterInput::Cas { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// A register operation's output (a write's log index is the record's `index`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RegisterOutput {
    /// The value and its ModifyIndex, or `None` for a 404, and the answer's
    /// `X-Consul-Index`.
    Read {
        found: Option<(String, u64)>,
        x_consul_index: u64,
    },
    /// A put, CAS or delete that was acknowledged.
    Written,
}

/// One register operation.
pub type RegisterOp = Op<RegisterInput, RegisterOutput>;

/// The register's sequential specification. The state keeps the ModifyIndex of the
/// current value when it is known (`None` for a write nobody saw the index of).
pub struct RegisterSpec;

impl Spec for RegisterSpec {
    type State = Option<(String, Option<u64>)>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Self::State {
        None
    }

    fn step(&self, state: &Self::State, op: &RegisterOp) -> Option<Self::State> {
        match &op.input {
            RegisterInput::Get { .. } => match (&op.output, op.outcome) {
                (Some(RegisterOutput::Read { found, .. }), Outcome::Ok) => {
                    let matches = match (state, found) {
                        (None, None) => true,
                        (Some((value, index)), Some((read, read_index))) => {
                            value == read && index.is_none_or(|index| index == *read_index)
                        }
                        _ => false,
                    };
                    matches.then(|| state.clone())
                }
                _ => Some(state.clone()),
            },
            RegisterInput::Put { value } => Some(Some((value.clone(), op.index))),
            RegisterInput::Cas { expect, value } => {
                let holds = match state {
                    None => *expect == 0,
                    Some((_, index)) => *index == Some(*expect),
                };
                if holds {
                    Some(Some((value.clone(), op.index)))
                } else if op.outcome == Outcome::Info {
                    Some(state.clone())
                } else {
                    None
                }
            }
            RegisterInput::Delete => Some(None),
        }
    }
}

/// The log index of every value seen: from a write's answer or from any read of it.
pub fn observed_indexes(ops: &[RegisterOp]) -> HashMap<String, u64> {
    let mut indexes = HashMap::new();
    for op in ops.iter().filter(|op| op.outcome == Outcome::Ok) {
        if let (Some(value), Some(index)) = (op.input.written(), op.index) {
            indexes.insert(value.to_string(), index);
        }
        if let Some(RegisterOutput::Read {
            found: Some((value, index)),
            ..
        }) = &op.output
        {
            indexes.entry(value.clone()).or_insert(*index);
        }
    }
    indexes
}

/// The history the linearizability checkers judge: `fail`s, unfinished reads and
/// `?stale` reads (not promised to be linearizable) left out; each write's index filled
/// in from reads of its value; and `info` writes whose value nobody read left out (such
/// a write can always be placed last, so leaving it out changes no verdict, and it
/// would otherwise stay pending for the whole search). That rests on what clients do: a
/// CAS expects an index its client saw (in a read, or in a write's answer), never the
/// index of a write nobody saw.
pub fn linearizable_history(ops: &[RegisterOp]) -> Vec<RegisterOp> {
    let indexes = observed_indexes(ops);
    ops.iter()
        .filter(|op| match (&op.input, op.outcome) {
            (_, Outcome::Fail) => false,
            (RegisterInput::Get { mode }, outcome) => outcome == Outcome::Ok && mode.linearizable(),
            (input, Outcome::Info) => input
                .written()
                .is_none_or(|value| indexes.contains_key(value)),
            _ => true,
        })
        .map(|op| {
            let mut op = op.clone();
            if op.index.is_none()
                && let Some(value) = op.input.written()
            {
                op.index = indexes.get(value).copied();
            }
            op
        })
        .collect()
}
