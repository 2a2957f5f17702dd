//! The history checker: recorded client operations judged against sequential
//! specifications of a KV register and a Consul lock, in two tiers per key. Tier 1 is an
//! O(n log n) check that uses what Raft tells us (the `ModifyIndex` order of writes, the
//! `LockIndex` of acquires) and names the operations at fault; tier 2 is a complete
//! linearizability search with a deadline. `?stale` reads are held only to per-server
//! monotonicity.

pub mod durability;
pub mod fencing;
pub mod history;
pub mod lock;
pub mod monotonic;
pub mod register;
pub mod register_order;
pub mod spec;
pub mod watch;
pub mod wgl;

#[cfg(test)]
mod brute;
#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod test_ops;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod watch_tests;

use std::time::{Duration, Instant};

use history::{Outcome, by_key, outcome_counts};
use lock::{LockOp, LockSpec};
use register::{RegisterOp, RegisterOutput, RegisterSpec};
use wgl::Verdict;

/// What the checkers found in one history.
#[derive(Debug, Default)]
pub struct Findings {
    /// Violations of a promise; any one fails the run.
    pub violations: Vec<String>,
    /// Keys the search could not decide before its deadline.
    pub undecided: Vec<String>,
    /// How many operations were judged, per checker, for the report.
    pub checked: Vec<String>,
}

impl Findings {
    /// Adds another checker's findings.
    pub fn merge(&mut self, other: Findings) {
        self.violations.extend(other.violations);
        self.undecided.extend(other.undecided);
        self.checked.extend(other.checked);
    }

    fn judge(&mut self, what: &str, key: &str, verdict: Verdict) {
        match verdict {
            Verdict::Linearizable => {}
            Verdict::Violation(why) => self.violations.push(format!("{what} {key:?}: {why}")),
            Verdict::Unknown(why) => self.undecided.push(format!("{what} {key:?}: {why}")),
        }
    }
}

/// Checks register histories: per key, tier 1 then tier 2 (each key gets `budget`);
/// `?stale` reads are checked for per-server monotonicity instead.
pub fn check_registers(ops: &[RegisterOp], budget: Duration) -> Findings {
    let mut findings = Findings::default();
    for (key, ops) in by_key(ops) {
        let history = register::linearizable_history(&ops);
        if let Err(why) = register_order::check(&history) {
            findings
                .violations
                .push(format!("register {key:?} (tier 1): {why}"));
        }
        let verdict = wgl::check(&RegisterSpec, &history, Instant::now() + budget);
        findings.judge("register (tier 2)", &key, verdict);
        findings.checked.push(format!(
            "register {key:?}: {} operations ({}), {} judged for linearizability",
            ops.len(),
            outcome_counts(&ops),
            history.len()
        ));
    }
    if let Err(why) = monotonic::check(&stale_reads(ops)) {
        findings.violations.push(format!("?stale reads: {why}"));
    }
    findings
}

/// The `?stale` reads, as per-server index observations.
fn stale_reads(ops: &[RegisterOp]) -> Vec<monotonic::IndexedRead> {
    ops.iter()
        .filter(|op| op.outcome == Outcome::Ok)
        .filter(
            |op| matches!(&op.input, register::RegisterInput::Get { mode } if !mode.linearizable()),
        )
        .filter_map(|op| match (&op.output, &op.server, op.complete_ns) {
            (Some(RegisterOutput::Read { x_consul_index, .. }), Some(server), Some(done)) => {
                Some(monotonic::IndexedRead {
                    server: server.clone(),
                    invoke_ns: op.invoke_ns,
                    complete_ns: done,
                    index: *x_consul_index,
                    label: op.describe(),
                })
            }
            _ => None,
        })
        .collect()
}

/// Checks lock histories: per key, fencing then tier 2.
pub fn check_locks(ops: &[LockOp], budget: Duration) -> Findings {
    let mut findings = Findings::default();
    for (key, ops) in by_key(ops) {
        let history: Vec<LockOp> = spec::checkable(&ops)
            .into_iter()
            .filter(|op| op.outcome == Outcome::Ok || op.input != lock::LockInput::Read)
            .collect();
        if let Err(why) = fencing::check(&history) {
            findings.violations.push(format!("lock {key:?}: {why}"));
        }
        let verdict = wgl::check(&LockSpec, &history, Instant::now() + budget);
        findings.judge("lock (tier 2)", &key, verdict);
        findings.checked.push(format!(
            "lock {key:?}: {} operations ({})",
            ops.len(),
            outcome_counts(&ops)
        ));
    }
    findings
}
