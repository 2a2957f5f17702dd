//! Operation builders for the checkers' tests: one key, process = id, times in ns.

use std::time::{Duration, Instant};

use super::history::{Op, Outcome};
use super::lock::{LockInput, LockOp, LockOutput, LockView};
use super::register::{
    ReadMode, RegisterInput, RegisterOp, RegisterOutput, RegisterSpec, linearizable_history,
};
use super::wgl::{self, Verdict};
use super::{check_locks, check_registers, fencing};

pub(super) fn op<I, O>(
    id: u64,
    input: I,
    name: &'static str,
    output: Option<O>,
    at: (u64, u64),
) -> Op<I, O> {
    Op {
        id,
        process: id,
        key: "k".to_string(),
        f: name,
        input,
        outcome: if output.is_some() {
            Outcome::Ok
        } else {
            Outcome::Info
        },
        output,
        invoke_ns: at.0,
        complete_ns: Some(at.1),
        index: None,
        server: Some("server-1#0".to_string()),
    }
}

pub(super) fn put(id: u64, value: &str, index: u64, at: (u64, u64)) -> RegisterOp {
    let mut put = op(
        id,
        RegisterInput::Put {
            value: value.into(),
        },
        "put",
        Some(RegisterOutput::Written),
        at,
    );
    put.index = Some(index);
    put
}

pub(super) fn cas(id: u64, expect: u64, value: &str, index: u64, at: (u64, u64)) -> RegisterOp {
    let mut cas = op(
        id,
        RegisterInput::Cas {
            expect,
            value: value.into(),
        },
        "cas",
        Some(RegisterOutput::Written),
        at,
    );
    cas.index = Some(index);
    cas
}

pub(super) fn delete(id: u64, at: (u64, u64)) -> RegisterOp {
    op(
        id,
        RegisterInput::Delete,
        "delete",
        Some(RegisterOutput::Written),
        at,
    )
}

pub(super) fn get(id: u64, found: Option<(&str, u64)>, at: (u64, u64)) -> RegisterOp {
    read_in(ReadMode::Default, id, found, at)
}

pub(super) fn read_in(
    mode: ReadMode,
    id: u64,
    found: Option<(&str, u64)>,
    at: (u64, u64),
) -> RegisterOp {
    let index = found.map_or(1, |(_, index)| index);
    op(
        id,
        RegisterInput::Get { mode },
        "get",
        Some(RegisterOutput::Read {
            found: found.map(|(value, index)| (value.to_string(), index)),
            x_consul_index: index,
        }),
        at,
    )
}

pub(super) fn info(mut op: RegisterOp) -> RegisterOp {
    op.outcome = Outcome::Info;
    op.output = None;
    op.complete_ns = None;
    op.index = None;
    op
}

pub(super) fn registers_pass(ops: &[RegisterOp]) -> bool {
    let findings = check_registers(ops, Duration::from_secs(10));
    assert!(findings.undecided.is_empty(), "{:?}", findings.undecided);
    findings.violations.is_empty()
}

pub(super) fn tier2(ops: &[RegisterOp]) -> Verdict {
    wgl::check(
        &RegisterSpec,
        &linearizable_history(ops),
        Instant::now() + Duration::from_secs(10),
    )
}

pub(super) fn acquire(id: u64, session: &str, lock_index: u64, at: (u64, u64)) -> LockOp {
    op(
        id,
        LockInput::Acquire {
            session: session.into(),
            value: format!("v{id}"),
        },
        "acquire",
        Some(LockOutput::Acquired { lock_index }),
        at,
    )
}

pub(super) fn release(id: u64, session: &str, at: (u64, u64)) -> LockOp {
    op(
        id,
        LockInput::Release {
            session: session.into(),
            value: format!("v{id}"),
        },
        "release",
        Some(LockOutput::Done),
        at,
    )
}

pub(super) fn destroy(id: u64, session: &str, at: (u64, u64)) -> LockOp {
    op(
        id,
        LockInput::Destroy {
            session: session.into(),
        },
        "destroy",
        Some(LockOutput::Done),
        at,
    )
}

pub(super) fn read_lock(
    id: u64,
    view: Option<(Option<&str>, u64, &str)>,
    at: (u64, u64),
) -> LockOp {
    op(
        id,
        LockInput::Read,
        "read",
        Some(LockOutput::Read {
            view: view.map(|(holder, lock_index, value)| LockView {
                holder: holder.map(str::to_string),
                lock_index,
                value: Some(value.to_string()),
            }),
        }),
        at,
    )
}

pub(super) fn locks_pass(ops: &[LockOp]) -> bool {
    let findings = check_locks(ops, Duration::from_secs(10));
    assert!(findings.undecided.is_empty(), "{:?}", findings.undecided);
    findings.violations.is_empty()
}

/// Both fencing (saying `why`) and the lock spec reject `ops`.
pub(super) fn fencing_rejects(ops: &[LockOp], why: &str) {
    let said = fencing::check(ops).unwrap_err();
    assert!(said.contains(why), "{said}");
    assert!(!locks_pass(ops));
}
