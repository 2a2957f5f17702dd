//! The Consul lock: one key acquired and released by sessions (`?acquire`, `?release`,
//! or a transaction's `lock`/`unlock`), sessions destroyed, and the key read. Sessions
//! have `LockDelay: "0s"` and no health checks, so nothing but these operations changes
//! the lock, and each session is used on one key only, so a history splits by key.
//!
//! Consul's rules: acquiring a free key makes the session its holder and increments
//! `LockIndex`; acquiring a key the session already holds updates the value and keeps
//! the index; another holder makes it fail, and so does a destroyed session. Releasing
//! succeeds iff the session holds it; destroying a session releases what it holds.

use std::collections::BTreeSet;

use serde::Serialize;

use super::history::{Op, Outcome};
use super::spec::Spec;

/// A lock operation's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LockInput {
    Acquire { session: String, value: String },
    Release { session: String, value: String },
    Destroy { session: String },
    Read,
}

impl LockInput {
    /// The operation's name in the history.
    pub fn name(&self) -> &'static str {
        match self {
            LockInput::Acquire { .. } => "acquire",
            LockInput::Release { .. } => "release",
            LockInput::Destroy { .. } => "destroy",
            LockInput::Read => "read",
        }
    }
}

/// What a read of the key shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct LockView {
    pub holder: Option<String>,
    pub lock_index: u64,
    pub value: Option<String>,
}

/// A lock operation's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LockOutput {
    /// An acquire that succeeded, with the `LockIndex` it answered.
    Acquired { lock_index: u64 },
    /// A release or destroy that succeeded.
    Done,
    /// A read: `None` for a key that does not exist.
    Read { view: Option<LockView> },
}

/// One lock operation.
pub type LockOp = Op<LockInput, LockOutput>;

/// The lock's state: the key (absent until first written) and the destroyed sessions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LockState {
    pub key: Option<LockView>,
    pub destroyed: BTreeSet<String>,
}

/// The lock's sequential specification.
pub struct LockSpec;

impl Spec for LockSpec {
    type State = LockState;
    type Input = LockInput;
    type Output = LockOutput;

    fn init(&self) -> LockState {
        LockState::default()
    }

    fn step(&self, state: &LockState, op: &LockOp) -> Option<LockState> {
        let info = op.outcome == Outcome::Info;
        let holder = state.key.as_ref().and_then(|key| key.holder.as_deref());
        match &op.input {
            LockInput::Acquire { session, value } => {
                let allowed = !state.destroyed.contains(session)
                    && holder.is_none_or(|holder| holder == session);
                if !allowed {
                    return info.then(|| state.clone());
                }
                let previous = state.key.as_ref().map_or(0, |key| key.lock_index);
                let lock_index = if holder == Some(session) {
                    previous
                } else {
                    previous + 1
                };
                if let Some(LockOutput::Acquired { lock_index: seen }) = &op.output
                    && *seen != lock_index
                {
                    return None;
                }
                let mut next = state.clone();
                next.key = Some(LockView {
                    holder: Some(session.clone()),
                    lock_index,
                    value: Some(value.clone()),
                });
                Some(next)
            }
            LockInput::Release { session, value } => {
                if holder != Some(session) {
                    return info.then(|| state.clone());
                }
                let mut next = state.clone();
                if let Some(key) = &mut next.key {
                    key.holder = None;
                    key.value = Some(value.clone());
                }
                Some(next)
            }
            LockInput::Destroy { session } => {
                let mut next = state.clone();
                next.destroyed.insert(session.clone());
                if holder == Some(session)
                    && let Some(key) = &mut next.key
                {
                    key.holder = None;
                }
                Some(next)
            }
            LockInput::Read => match (&op.output, op.outcome) {
                (Some(LockOutput::Read { view }), Outcome::Ok) => {
                    (*view == state.key).then(|| state.clone())
                }
                _ => Some(state.clone()),
            },
        }
    }
}
