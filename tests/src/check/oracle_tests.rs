//! Property tests of both checker tiers against the brute-force oracle on small random
//! histories (about half of them corrupted), and the search's speed on a run-sized one.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::brute;
use super::history::Outcome;
use super::lock::{LockInput, LockOp, LockOutput, LockSpec, LockView};
use super::register::{
    RegisterInput, RegisterOp, RegisterOutput, RegisterSpec, linearizable_history,
};
use super::test_ops::*;
use super::wgl::{self, Verdict};
use super::{fencing, register_order};

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
