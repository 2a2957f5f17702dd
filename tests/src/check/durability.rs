//! W4, durability: every acknowledged write, or a later write to the same key, is in the
//! final state read after recovery.

use std::collections::BTreeMap;

use super::history::Outcome;
use super::register::{RegisterInput, RegisterOp};

/// A key's final state, read with `?consistent` after recovery.
#[derive(Debug, Clone)]
pub struct FinalRead {
    pub found: Option<(String, u64)>,
    pub invoke_ns: u64,
}

/// Checks every acknowledged write whose index is known against the final reads.
pub fn check(ops: &[RegisterOp], finals: &BTreeMap<String, FinalRead>) -> Result<(), String> {
    let mut lost = Vec::new();
    for write in ops.iter().filter(|op| op.outcome == Outcome::Ok) {
        let (Some(_), Some(index)) = (write.input.written(), write.index) else {
            continue;
        };
        let Some(last) = finals.get(&write.key) else {
            continue;
        };
        if write.complete() >= last.invoke_ns {
            continue;
        }
        match &last.found {
            Some((_, final_index)) if *final_index >= index => {}
            Some((value, final_index)) => lost.push(format!(
                "lost write: {}\n    the final state of {:?} is {value:?} at the older index {final_index}",
                write.describe(),
                write.key
            )),
            None => {
                let deleted_after = ops.iter().any(|op| {
                    op.key == write.key
                        && op.input == RegisterInput::Delete
                        && op.outcome != Outcome::Fail
                        && op.complete() > write.invoke_ns
                });
                if !deleted_after {
                    lost.push(format!(
                        "lost write: {}\n    {:?} is absent in the final state and no delete could have followed the write",
                        write.describe(),
                        write.key
                    ));
                }
            }
        }
    }
    if lost.is_empty() {
        Ok(())
    } else {
        Err(lost.join("\n"))
    }
}
