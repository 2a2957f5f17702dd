//! The checkers' own tests: hand-made histories that must be rejected (stale read, lost
//! write, read from the future, double lock holder, LockIndex going back) or accepted,
//! and property tests of both tiers against the brute-force oracle.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::brute;
use super::history::{Op, Outcome};
use super::lock::{LockInput, LockOp, LockOutput, LockSpec, LockView};
use super::register::{
    ReadMode, RegisterInput, RegisterOp, RegisterOutput, RegisterSpec, linearizable_history,
};
use super::wgl::{self, Verdict};
use super::{check_locks, check_registers, fencing, register_order};

fn op<I, O>(id: u64, input: I, name: &'static str, output: Option<O>, at: (u64, u64)) -> Op<I, O> {
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

fn put(id: u64, value: &str, index: u64, at: (u64, u64)) -> RegisterOp {
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

fn cas(id: u64, expect: u64, value: &str, index: u64, at: (u64, u64)) -> RegisterOp {
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

fn delete(id: u64, at: (u64, u64)) -> RegisterOp {
    op(
        id,
        RegisterInput::Delete,
        "delete",
        Some(RegisterOutput::Written),
        at,
    )
}

fn get(id: u64, found: Option<(&str, u64)>, at: (u64, u64)) -> RegisterOp {
    read_in(ReadMode::Default, id, found, at)
}

fn read_in(mode: ReadMode, id: u64, found: Option<(&str, u64)>, at: (u64, u64)) -> RegisterOp {
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

fn info(mut op: RegisterOp) -> RegisterOp {
    op.outcome = Outcome::Info;
    op.output = None;
    op.complete_ns = None;
    op.index = None;
    op
}

fn registers_pass(ops: &[RegisterOp]) -> bool {
    let findings = check_registers(ops, Duration::from_secs(10));
    assert!(findings.undecided.is_empty(), "{:?}", findings.undecided);
    findings.violations.is_empty()
}

fn tier2(ops: &[RegisterOp]) -> Verdict {
    wgl::check(
        &RegisterSpec,
        &linearizable_history(ops),
        Instant::now() + Duration::from_secs(10),
    )
}

#[test]
fn a_sequential_register_history_is_accepted() {
    let ops = vec![
        get(0, None, (0, 1)),
        put(1, "a", 5, (2, 3)),
        get(2, Some(("a", 5)), (4, 5)),
        cas(3, 5, "b", 6, (6, 7)),
        get(4, Some(("b", 6)), (8, 9)),
        delete(5, (10, 11)),
        get(6, None, (12, 13)),
        cas(7, 0, "c", 8, (14, 15)),
    ];
    assert!(registers_pass(&ops));
}

#[test]
fn concurrent_reads_may_see_either_side_of_a_write() {
    let ops = vec![
        put(0, "a", 5, (0, 100)),
        get(1, None, (10, 20)),
        get(2, Some(("a", 5)), (30, 40)),
        get(3, None, (50, 60)),
    ];
    // Once a read saw "a", a later read cannot miss it.
    assert!(!registers_pass(&ops));
    let ops = vec![
        put(0, "a", 5, (0, 100)),
        get(1, None, (10, 20)),
        get(2, Some(("a", 5)), (30, 40)),
        get(3, Some(("a", 5)), (50, 60)),
    ];
    assert!(registers_pass(&ops));
}

#[test]
fn a_stale_read_is_rejected_by_both_tiers() {
    let ops = vec![
        put(0, "a", 5, (0, 1)),
        put(1, "b", 6, (2, 3)),
        get(2, Some(("a", 5)), (4, 5)),
    ];
    let history = linearizable_history(&ops);
    let why = register_order::check(&history).unwrap_err();
    assert!(why.contains("stale read"), "{why}");
    assert!(matches!(tier2(&ops), Verdict::Violation(_)));
}

#[test]
fn a_stale_read_in_stale_mode_is_allowed_but_not_going_back_on_one_server() {
    let ops = vec![
        put(0, "a", 5, (0, 1)),
        put(1, "b", 6, (2, 3)),
        read_in(ReadMode::Stale, 2, Some(("a", 5)), (4, 5)),
    ];
    assert!(registers_pass(&ops));
    let ops = vec![
        put(0, "a", 5, (0, 1)),
        put(1, "b", 6, (2, 3)),
        read_in(ReadMode::Stale, 2, Some(("b", 6)), (4, 5)),
        read_in(ReadMode::Stale, 3, Some(("a", 5)), (6, 7)),
    ];
    let findings = check_registers(&ops, Duration::from_secs(10));
    assert!(
        findings.violations.iter().any(|v| v.contains("went back")),
        "{findings:?}"
    );
}

#[test]
fn a_lost_write_is_rejected() {
    let ops = vec![put(0, "a", 5, (0, 1)), get(1, None, (2, 3))];
    assert!(matches!(tier2(&ops), Verdict::Violation(_)));
    assert!(!registers_pass(&ops));
}

#[test]
fn a_read_from_the_future_is_rejected() {
    let ops = vec![get(0, Some(("a", 5)), (0, 1)), put(1, "a", 5, (2, 3))];
    let why = register_order::check(&linearizable_history(&ops)).unwrap_err();
    assert!(why.contains("future"), "{why}");
    assert!(matches!(tier2(&ops), Verdict::Violation(_)));
}

#[test]
fn a_value_nobody_wrote_or_a_wrong_index_is_rejected() {
    let ops = vec![put(0, "a", 5, (0, 1)), get(1, Some(("z", 5)), (2, 3))];
    assert!(!registers_pass(&ops));
    let ops = vec![put(0, "a", 5, (0, 1)), get(1, Some(("a", 4)), (2, 3))];
    assert!(!registers_pass(&ops));
}

#[test]
fn a_cas_against_an_old_index_cannot_succeed() {
    let ops = vec![
        put(0, "a", 5, (0, 1)),
        put(1, "b", 6, (2, 3)),
        cas(2, 5, "c", 7, (4, 5)),
    ];
    assert!(matches!(tier2(&ops), Verdict::Violation(_)));
}

#[test]
fn an_unknown_write_may_or_may_not_have_happened() {
    // Seen by a read: it happened.
    let ops = vec![
        info(put(0, "a", 5, (0, 1))),
        get(1, Some(("a", 5)), (2, 3)),
        get(2, Some(("a", 5)), (4, 5)),
    ];
    assert!(registers_pass(&ops));
    // Never seen: it may not have happened.
    let ops = vec![info(put(0, "a", 5, (0, 1))), get(1, None, (2, 3))];
    assert!(registers_pass(&ops));
    // But it cannot be seen, then unseen.
    let ops = vec![
        info(put(0, "a", 5, (0, 1))),
        get(1, Some(("a", 5)), (2, 3)),
        get(2, None, (4, 5)),
    ];
    assert!(!registers_pass(&ops));
}

#[test]
fn reordered_writes_are_rejected_by_tier_1() {
    let ops = vec![put(0, "a", 6, (0, 1)), put(1, "b", 5, (2, 3))];
    let why = register_order::check(&linearizable_history(&ops)).unwrap_err();
    assert!(why.contains("reordered"), "{why}");
}

fn acquire(id: u64, session: &str, lock_index: u64, at: (u64, u64)) -> LockOp {
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

fn release(id: u64, session: &str, at: (u64, u64)) -> LockOp {
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

fn destroy(id: u64, session: &str, at: (u64, u64)) -> LockOp {
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

fn read_lock(id: u64, view: Option<(Option<&str>, u64, &str)>, at: (u64, u64)) -> LockOp {
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

fn locks_pass(ops: &[LockOp]) -> bool {
    let findings = check_locks(ops, Duration::from_secs(10));
    assert!(findings.undecided.is_empty(), "{:?}", findings.undecided);
    findings.violations.is_empty()
}

/// Both fencing (saying `why`) and the lock spec reject `ops`.
fn fencing_rejects(ops: &[LockOp], why: &str) {
    let said = fencing::check(ops).unwrap_err();
    assert!(said.contains(why), "{said}");
    assert!(!locks_pass(ops));
}

#[test]
fn a_good_lock_history_is_accepted() {
    let ops = vec![
        read_lock(0, None, (0, 1)),
        acquire(1, "s1", 1, (2, 3)),
        acquire(2, "s1", 1, (4, 5)),
        read_lock(3, Some((Some("s1"), 1, "v2")), (6, 7)),
        release(4, "s1", (8, 9)),
        acquire(5, "s2", 2, (10, 11)),
        destroy(6, "s2", (12, 13)),
        read_lock(7, Some((None, 2, "v5")), (14, 15)),
        acquire(8, "s3", 3, (16, 17)),
    ];
    assert!(locks_pass(&ops));
}

#[test]
fn a_double_holder_is_rejected() {
    // The same LockIndex for two sessions.
    let ops = vec![acquire(0, "s1", 1, (0, 1)), acquire(1, "s2", 1, (2, 3))];
    fencing_rejects(&ops, "two holders");
    // Increasing indexes, but nobody released.
    let ops = vec![acquire(0, "s1", 1, (0, 1)), acquire(1, "s2", 2, (2, 3))];
    assert!(fencing::check(&ops).is_ok());
    assert!(!locks_pass(&ops));
}

#[test]
fn lock_index_going_back_is_rejected() {
    let ops = vec![
        acquire(0, "s1", 2, (0, 1)),
        release(1, "s1", (2, 3)),
        acquire(2, "s2", 1, (4, 5)),
    ];
    fencing_rejects(&ops, "went back");
}

#[test]
fn a_destroyed_session_cannot_acquire_and_its_lock_is_freed() {
    let ops = vec![
        acquire(0, "s1", 1, (0, 1)),
        destroy(1, "s1", (2, 3)),
        acquire(2, "s1", 2, (4, 5)),
    ];
    assert!(!locks_pass(&ops));
    let ops = vec![
        acquire(0, "s1", 1, (0, 1)),
        destroy(1, "s1", (2, 3)),
        acquire(2, "s2", 2, (4, 5)),
    ];
    assert!(locks_pass(&ops));
}

/// A random register history of at most 8 operations: a legal sequential run with
/// overlapping intervals around its points, maybe with one output corrupted.
fn register_history() -> impl Strategy<Value = Vec<RegisterOp>> {
    let step = (0u8..4, 0u64..25, 0u64..25, any::<bool>(), any::<bool>());
    (
        proptest::collection::vec(step, 1..=8),
        any::<Option<(u8, u8)>>(),
    )
        .prop_map(|(steps, corruption)| {
            let mut state: Option<(String, u64)> = None;
            let mut next_index = 1;
            let mut ops = Vec::new();
            for (i, (kind, before, after, unknown, right)) in steps.into_iter().enumerate() {
                let point = i as u64 * 10 + 30;
                let at = (point - before, point + after);
                let id = i as u64;
                let value = format!("v{i}");
                let mut op = match kind {
                    0 => get(id, state.as_ref().map(|(v, i)| (v.as_str(), *i)), at),
                    1 => put(id, &value, next_index, at),
                    2 => {
                        if !right {
                            continue; // a CAS that failed is left out, as `fail`
                        }
                        let current = state.as_ref().map_or(0, |(_, i)| *i);
                        cas(id, current, &value, next_index, at)
                    }
                    _ => delete(id, at),
                };
                match kind {
                    1 | 2 => {
                        state = Some((value, next_index));
                        next_index += 1;
                    }
                    3 => {
                        state = None;
                        next_index += 1;
                    }
                    _ => {}
                }
                if unknown && kind != 0 {
                    op = info(op);
                }
                ops.push(op);
            }
            if let Some((which, how)) = corruption
                && !ops.is_empty()
            {
                let n = ops.len();
                let victim = &mut ops[which as usize % n];
                match &mut victim.output {
                    Some(RegisterOutput::Read { found, .. }) => {
                        *found = match how % 3 {
                            0 => None,
                            k => Some((format!("v{}", how as usize % n), u64::from(k) + 1)),
                        };
                    }
                    _ if victim.index.is_some() => victim.index = Some(u64::from(how % 9) + 1),
                    _ => {
                        victim.invoke_ns =
                            (victim.invoke_ns + u64::from(how)).min(victim.complete())
                    }
                }
            }
            ops
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn tier_2_agrees_with_brute_force_on_registers(ops in register_history()) {
        let history = linearizable_history(&ops);
        let oracle = brute::linearizable(&RegisterSpec, &history, false);
        let verdict = wgl::check(&RegisterSpec, &history, Instant::now() + Duration::from_secs(10));
        prop_assert_eq!(verdict == Verdict::Linearizable, oracle, "{:#?}", history);
    }

    #[test]
    fn tier_1_never_rejects_what_brute_force_orders_by_index(ops in register_history()) {
        let history = linearizable_history(&ops);
        if brute::linearizable(&RegisterSpec, &history, true) {
            prop_assert!(register_order::check(&history).is_ok(), "{:#?}", history);
        }
    }

    #[test]
    fn tier_2_agrees_with_brute_force_on_locks(ops in lock_history()) {
        let oracle = brute::linearizable(&LockSpec, &ops, false);
        let verdict = wgl::check(&LockSpec, &ops, Instant::now() + Duration::from_secs(10));
        prop_assert_eq!(verdict == Verdict::Linearizable, oracle, "{:#?}", ops);
        if oracle {
            prop_assert!(fencing::check(&ops).is_ok(), "{:#?}", ops);
        }
    }
}

/// A random lock history of at most 8 operations over three sessions, built like
/// [`register_history`].
fn lock_history() -> impl Strategy<Value = Vec<LockOp>> {
    let step = (0u8..4, 0u8..3, 0u64..25, 0u64..25, any::<bool>());
    (
        proptest::collection::vec(step, 1..=8),
        any::<Option<(u8, u8)>>(),
    )
        .prop_map(|(steps, corruption)| {
            use super::spec::Spec;
            let spec = LockSpec;
            let mut state = spec.init();
            let mut ops = Vec::new();
            for (i, (kind, session, before, after, unknown)) in steps.into_iter().enumerate() {
                let point = i as u64 * 10 + 30;
                let at = (point - before, point + after);
                let session = ["s1", "s2", "s3"][session as usize];
                let id = i as u64;
                let mut op = match kind {
                    0 => read_lock(id, None, at),
                    1 => acquire(id, session, 0, at),
                    2 => release(id, session, at),
                    _ => destroy(id, session, at),
                };
                // Fill in the true output; an operation that fails is left out.
                op.output = match &op.input {
                    LockInput::Read => Some(LockOutput::Read {
                        view: state.key.clone(),
                    }),
                    LockInput::Acquire { .. } => {
                        let holder = state.key.as_ref().and_then(|k| k.holder.as_deref());
                        if state.destroyed.contains(session)
                            || holder.is_some_and(|holder| holder != session)
                        {
                            continue;
                        }
                        let previous = state.key.as_ref().map_or(0, |k| k.lock_index);
                        let lock_index = if holder == Some(session) {
                            previous
                        } else {
                            previous + 1
                        };
                        Some(LockOutput::Acquired { lock_index })
                    }
                    LockInput::Release { .. } => {
                        if state.key.as_ref().and_then(|k| k.holder.as_deref()) != Some(session) {
                            continue;
                        }
                        Some(LockOutput::Done)
                    }
                    LockInput::Destroy { .. } => Some(LockOutput::Done),
                };
                state = spec.step(&state, &op).expect("a legal step");
                if unknown && kind != 0 {
                    op.outcome = Outcome::Info;
                    op.output = None;
                    op.complete_ns = None;
                }
                ops.push(op);
            }
            if let Some((which, how)) = corruption
                && !ops.is_empty()
            {
                let n = ops.len();
                let victim = &mut ops[which as usize % n];
                match &mut victim.output {
                    Some(LockOutput::Acquired { lock_index }) => *lock_index = u64::from(how % 4),
                    Some(LockOutput::Read { view }) => {
                        *view = (how % 2 == 0).then(|| LockView {
                            holder: Some("s1".into()),
                            lock_index: u64::from(how % 3),
                            value: Some(format!("v{}", how as usize % n)),
                        })
                    }
                    _ => {
                        victim.invoke_ns =
                            (victim.invoke_ns + u64::from(how)).min(victim.complete())
                    }
                }
            }
            ops
        })
}

/// A long, concurrent, legal register history (5 clients, 400 operations, some unknown
/// writes) is decided by both tiers well within a run's search budget: tier 2 must not
/// answer Unknown at the scale of a fault run.
#[test]
fn tier_2_decides_a_run_sized_history() {
    let mut rng = crate::fault::rng::SeededRng::new(7);
    let mut state: Option<(String, u64)> = None;
    let mut ops = Vec::new();
    let mut next_index = 1;
    // As a real client, a CAS expects an index someone saw (a read, or an answered
    // write), never the index of an unknown write nobody saw.
    let mut seen = 0;
    for i in 0..400u64 {
        // Linearization points 1 ms apart; intervals up to 5 ms each side, so about
        // ten operations overlap at any time.
        let point = 10_000_000 + i * 1_000_000;
        let at = (point - rng.below(5_000_000), point + rng.below(5_000_000));
        let value = format!("v{i}");
        let mut op = match rng.weighted(&[40, 35, 20, 5]) {
            0 => get(i, state.as_ref().map(|(v, index)| (v.as_str(), *index)), at),
            1 => put(i, &value, next_index, at),
            2 => {
                let current = state.as_ref().map_or(0, |(_, index)| *index);
                if current != seen {
                    continue; // it would fail: left out, as `fail`
                }
                cas(i, current, &value, next_index, at)
            }
            _ => delete(i, at),
        };
        let unknown = op.input.written().is_some() && rng.percent(5);
        if !unknown {
            seen = match op.input {
                RegisterInput::Delete => 0,
                RegisterInput::Get { .. } => state.as_ref().map_or(0, |(_, index)| *index),
                _ => next_index,
            };
        }
        match op.input {
            RegisterInput::Put { .. } | RegisterInput::Cas { .. } => {
                state = Some((value, next_index));
                next_index += 1;
            }
            RegisterInput::Delete => {
                state = None;
                next_index += 1;
            }
            RegisterInput::Get { .. } => {}
        }
        op.process = i % 5;
        if unknown {
            op = info(op);
        }
        ops.push(op);
    }
    let history = linearizable_history(&ops);
    assert_eq!(register_order::check(&history), Ok(()));
    let verdict = wgl::check(
        &RegisterSpec,
        &history,
        Instant::now() + Duration::from_secs(30),
    );
    assert_eq!(verdict, Verdict::Linearizable);
}
