//! Lock fencing, O(n log n) per key: the `LockIndex` of successful acquires is a fencing
//! token. Two sessions never get the same one (that would be two holders at once), and
//! an acquire that began after another completed gets a larger one, or the same when the
//! same session re-acquired a lock it still held.

use super::history::Outcome;
use super::lock::{LockInput, LockOp, LockOutput};

/// Checks one key's lock history.
pub fn check(ops: &[LockOp]) -> Result<(), String> {
    let mut acquires: Vec<(&LockOp, &str, u64)> = ops
        .iter()
        .filter(|op| op.outcome == Outcome::Ok)
        .filter_map(|op| match (&op.input, &op.output) {
            (LockInput::Acquire { session, .. }, Some(LockOutput::Acquired { lock_index })) => {
                Some((op, session.as_str(), *lock_index))
            }
            _ => None,
        })
        .collect();
    acquires.sort_by_key(|(_, _, lock_index)| *lock_index);
    for pair in acquires.windows(2) {
        let ((a, a_session, a_index), (b, b_session, b_index)) = (pair[0], pair[1]);
        if a_index == b_index && a_session != b_session {
            return Err(format!(
                "two sessions acquired the lock with the same LockIndex {a_index} (two \
                 holders at once):\n  {}\n  {}",
                a.describe(),
                b.describe()
            ));
        }
    }
    // In invocation order, the largest index of the acquires that completed before.
    let mut by_invoke = acquires.clone();
    by_invoke.sort_by_key(|(op, _, _)| op.invoke_ns);
    let mut by_complete = acquires.clone();
    by_complete.sort_by_key(|(op, _, _)| op.complete());
    let mut done = 0;
    let mut highest: Option<(&LockOp, &str, u64)> = None;
    for (op, session, lock_index) in by_invoke {
        while done < by_complete.len() && by_complete[done].0.complete() < op.invoke_ns {
            let finished = by_complete[done];
            if highest.is_none_or(|(_, _, index)| finished.2 > index) {
                highest = Some(finished);
            }
            done += 1;
        }
        if let Some((earlier, earlier_session, earlier_index)) = highest {
            let goes_back = lock_index < earlier_index
                || (lock_index == earlier_index && session != earlier_session);
            if goes_back {
                return Err(format!(
                    "LockIndex went back: an acquire that began after another completed got \
                     LockIndex {lock_index}, not more than {earlier_index}:\n  first:  {}\n  \
                     second: {}",
                    earlier.describe(),
                    op.describe()
                ));
            }
        }
    }
    Ok(())
}
