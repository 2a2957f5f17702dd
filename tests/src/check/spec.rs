//! A sequential specification: the single-copy object a history must be explained by.

use std::fmt::Debug;
use std::hash::Hash;

use super::history::{Op, Outcome};

/// An object's sequential behaviour. `step` is asked whether `op` may take effect in
/// `state` and what the state becomes. For an `info` operation (output unknown) it must
/// accept every state, returning the state the operation leaves when it takes effect
/// there (unchanged when it would have failed), so that the search may place it anywhere
/// after its invocation, or at the end, which is the same as never.
pub trait Spec {
    type State: Clone + Eq + Hash + Debug;
    type Input: Clone + Debug;
    type Output: Clone + Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `op`, or `None` when `op`'s output cannot come from `state`.
    fn step(&self, state: &Self::State, op: &Op<Self::Input, Self::Output>) -> Option<Self::State>;
}

/// The operations a checker considers: everything but `fail` (surely not applied).
pub fn checkable<I: Clone, O: Clone>(ops: &[Op<I, O>]) -> Vec<Op<I, O>> {
    ops.iter()
        .filter(|op| op.outcome != Outcome::Fail)
        .cloned()
        .collect()
}
