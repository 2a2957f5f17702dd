//! The recorded history of client operations, in Jepsen's conventions: one record per
//! operation with its invocation and completion times from one monotonic clock, and an
//! outcome that says whether it surely happened (`ok`), surely did not (`fail`), or may
//! have (`info`: a timeout, a reset or a 5xx after sending; it completes at +∞).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// What became of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It took effect and its output is known.
    Ok,
    /// It surely did not take effect (a CAS that answered false, a 4xx before Raft, a
    /// connection that was never made). The checkers ignore it.
    Fail,
    /// Unknown: it may or may not have taken effect, at any time after its invocation.
    Info,
}

/// One operation on one key (P-compositional checking splits a history by key).
#[derive(Debug, Clone, Serialize)]
pub struct Op<I, O> {
    /// Unique within the history.
    pub id: u64,
    /// The logical client; a process that saw `info` retires and its client takes a new
    /// process id, so one process never has two operations in flight.
    pub process: u64,
    pub key: String,
    /// The operation's name (`get`, `put`, `acquire` ...).
    pub f: &'static str,
    pub input: I,
    /// Known only when the outcome is `ok`.
    pub output: Option<O>,
    /// Nanoseconds since the run's clock started.
    pub invoke_ns: u64,
    /// `None` for `info`: the operation may take effect at any time after its invocation.
    pub complete_ns: Option<u64>,
    pub outcome: Outcome,
    /// The Raft log index at which a write took effect, when it is known (from the write's
    /// answer, or from a read that returned the write's unique value).
    pub index: Option<u64>,
    /// The server the request went to, as `server-N#generation` (a restarted server is a
    /// new generation), for per-server checks.
    pub server: Option<String>,
}

impl<I, O> Op<I, O> {
    /// The completion time, +∞ (`u64::MAX`) for `info`.
    pub fn complete(&self) -> u64 {
        self.complete_ns.unwrap_or(u64::MAX)
    }

    /// Whether this operation finished before `other` began (real-time order).
    pub fn precedes(&self, other: &Op<I, O>) -> bool {
        self.complete() < other.invoke_ns
    }

    /// A one-line description for error messages.
    pub fn describe(&self) -> String
    where
        I: std::fmt::Debug,
        O: std::fmt::Debug,
    {
        let complete = match self.complete_ns {
            Some(ns) => format!("{:.3}s", ns as f64 / 1e9),
            None => "∞".to_string(),
        };
        let output = match &self.output {
            Some(output) => format!("{output:?}"),
            None => format!("{:?}", self.outcome),
        };
        let index = self.index.map(|i| format!(" idx {i}")).unwrap_or_default();
        format!(
            "op {} (process {}, key {:?}, {} {:?} -> {output}{index}, [{:.3}s, {complete}])",
            self.id,
            self.process,
            self.key,
            self.f,
            self.input,
            self.invoke_ns as f64 / 1e9,
        )
    }
}

/// Writes `ops` as JSON Lines (one record per line) to `path`.
pub fn write_jsonl<T: Serialize>(path: &Path, ops: &[T]) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for op in ops {
        serde_json::to_writer(&mut file, op)?;
        file.write_all(b"\n")?;
    }
    file.flush()
}

/// Splits a history into one sub-history per key, keeping each key's order.
pub fn by_key<I: Clone, O: Clone>(
    ops: &[Op<I, O>],
) -> std::collections::BTreeMap<String, Vec<Op<I, O>>> {
    let mut keys: std::collections::BTreeMap<String, Vec<Op<I, O>>> = Default::default();
    for op in ops {
        keys.entry(op.key.clone()).or_default().push(op.clone());
    }
    keys
}

/// `"ok N, fail N, info N"`, for reports.
pub fn outcome_counts<I, O>(ops: &[Op<I, O>]) -> String {
    let count = |outcome| ops.iter().filter(|op| op.outcome == outcome).count();
    format!(
        "ok {}, fail {}, info {}",
        count(Outcome::Ok),
        count(Outcome::Fail),
        count(Outcome::Info)
    )
}
