//! The checkers' hand-made histories: ones that must be rejected (stale read, lost
//! write, read from the future, double lock holder, LockIndex going back) and ones that
//! must be accepted.

use std::time::Duration;

use super::register::{ReadMode, linearizable_history};
use super::register_order;
use super::test_ops::*;
use super::wgl::Verdict;
use super::{check_registers, fencing};

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
