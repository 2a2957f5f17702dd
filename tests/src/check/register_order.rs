//! Tier 1: the index-aware check of one key's register history, O(n log n). Raft
//! applies writes in log order and `ModifyIndex` exposes it, so the order of the writes
//! is known; what remains is whether every write and every read of a value can be placed
//! inside its own interval in that order (Gibbons–Korach). Walking the writes by index
//! and placing each operation at the earliest time it may take, a point past an
//! operation's completion is a violation, named with the operation that forced it.
//!
//! It checks a necessary condition only (reads of an absent key, failed CAS and deletes
//! are left to tier 2), so what it rejects is surely not linearizable, with a clearer
//! message than the search gives.

use std::collections::HashMap;

use super::register::{RegisterInput, RegisterOp, RegisterOutput};

/// Checks `ops` (one key, from [`super::register::linearizable_history`]); `Err` says
/// what went wrong.
pub fn check(ops: &[RegisterOp]) -> Result<(), String> {
    let mut writes: Vec<&RegisterOp> = ops
        .iter()
        .filter(|op| op.input.written().is_some() && op.index.is_some())
        .collect();
    writes.sort_by_key(|op| op.index);
    let mut by_value: HashMap<&str, &RegisterOp> = HashMap::new();
    for pair in writes.windows(2) {
        if pair[0].index == pair[1].index {
            return Err(format!(
                "two writes took effect at one index:\n  {}\n  {}",
                pair[0].describe(),
                pair[1].describe()
            ));
        }
    }
    for write in &writes {
        by_value.insert(write.input.written().unwrap_or_default(), write);
    }
    let mut reads_of: HashMap<u64, Vec<&RegisterOp>> = HashMap::new();
    for read in ops {
        let Some(RegisterOutput::Read {
            found: Some((value, index)),
            ..
        }) = &read.output
        else {
            continue;
        };
        let Some(write) = by_value.get(value.as_str()) else {
            return Err(format!(
                "a read returned a value nobody wrote (or whose write is unknown):\n  {}",
                read.describe()
            ));
        };
        if write.index != Some(*index) {
            return Err(format!(
                "a read's ModifyIndex does not match its value's write:\n  {}\n  {}",
                read.describe(),
                write.describe()
            ));
        }
        reads_of.entry(*index).or_default().push(read);
    }
    // The earliest time the next operation in log order may take effect, and the
    // operation that set it.
    let mut earliest = 0u64;
    let mut forced_by: Option<&RegisterOp> = None;
    for write in &writes {
        let point = earliest.max(write.invoke_ns);
        if point > write.complete() {
            return Err(order_violation(write, forced_by));
        }
        let mut latest = point;
        let mut latest_by = *write;
        for read in reads_of
            .get(&write.index.unwrap_or_default())
            .into_iter()
            .flatten()
        {
            if read.complete() < write.invoke_ns {
                return Err(format!(
                    "a read returned a value before it was written (read from the future):\n  \
                     read  {}\n  write {}",
                    read.describe(),
                    write.describe()
                ));
            }
            let at = point.max(read.invoke_ns);
            if at > read.complete() {
                return Err(order_violation(read, forced_by));
            }
            if at > latest {
                latest = at;
                latest_by = read;
            }
        }
        earliest = latest;
        forced_by = Some(latest_by);
    }
    Ok(())
}

/// `late` had to follow `forced_by` (an earlier write, or a read of one) in log order,
/// but `forced_by` began only after `late` had completed.
fn order_violation(late: &RegisterOp, forced_by: Option<&RegisterOp>) -> String {
    let Some(earlier) = forced_by else {
        return format!("an operation cannot be placed: {}", late.describe());
    };
    let what = match earlier.input {
        RegisterInput::Get { .. } => {
            "stale read: the second operation began after the first had completed, yet \
             returned an older write"
        }
        _ => {
            "reordered write: the second write began after the first had completed, yet \
             took a lower index"
        }
    };
    format!(
        "{what}\n  first:  {}\n  second: {}",
        late.describe(),
        earlier.describe()
    )
}
