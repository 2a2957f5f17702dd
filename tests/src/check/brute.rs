//! The oracle for the checkers' own tests: every order of a small history (at most 8
//! operations) that respects real time, tried against the spec, without memoisation.

use super::history::Op;
use super::spec::Spec;

/// Whether some order of `ops` respecting real time (and, with `index_order`, the known
/// log indexes of writes) is legal for `spec`.
pub fn linearizable<S: Spec>(spec: &S, ops: &[Op<S::Input, S::Output>], index_order: bool) -> bool {
    assert!(ops.len() <= 10, "the oracle is exponential");
    if index_order {
        // One log index holds one write.
        let mut indexes: Vec<u64> = ops.iter().filter_map(|op| op.index).collect();
        indexes.sort();
        if indexes.windows(2).any(|pair| pair[0] == pair[1]) {
            return false;
        }
    }
    let mut placed = vec![false; ops.len()];
    search(spec, ops, index_order, &mut placed, spec.init())
}

fn search<S: Spec>(
    spec: &S,
    ops: &[Op<S::Input, S::Output>],
    index_order: bool,
    placed: &mut [bool],
    state: S::State,
) -> bool {
    if placed.iter().all(|p| *p) {
        return true;
    }
    for i in 0..ops.len() {
        if placed[i] {
            continue;
        }
        let waits = (0..ops.len()).any(|j| {
            !placed[j]
                && j != i
                && (ops[j].precedes(&ops[i])
                    || (index_order
                        && matches!((ops[j].index, ops[i].index), (Some(a), Some(b)) if a < b)))
        });
        if waits {
            continue;
        }
        if let Some(next) = spec.step(&state, &ops[i]) {
            placed[i] = true;
            let found = search(spec, ops, index_order, placed, next);
            placed[i] = false;
            if found {
                return true;
            }
        }
    }
    false
}
