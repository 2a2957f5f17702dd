//! Hand-made watch answers and final states that the W3 and W4 checks must reject, and
//! good ones they must accept.

use std::collections::BTreeMap;

use super::durability::{self, FinalRead};
use super::history::{Op, Outcome};
use super::register::{RegisterInput, RegisterOp, RegisterOutput};
use super::watch::{KnownWrite, WAKE_UP_BOUND_NS, WatchCall, check};

const SECOND: u64 = 1_000_000_000;
const PAIR: (&str, &str) = ("p/pair/a", "p/pair/b");

fn call(
    watcher: &str,
    param: u64,
    at: (u64, u64),
    index: u64,
    entries: &[(&str, &str, u64)],
) -> WatchCall {
    WatchCall {
        watcher: watcher.to_string(),
        server: "server-1#0".to_string(),
        key: "p/k0".to_string(),
        recurse: false,
        mode: super::register::ReadMode::Default,
        param,
        wait_ns: 5 * SECOND,
        invoke_ns: at.0,
        complete_ns: at.1,
        index,
        entries: entries
            .iter()
            .map(|(k, v, i)| (k.to_string(), v.to_string(), *i))
            .collect(),
    }
}

fn write(value: &str, index: u64, acked_ns: u64) -> KnownWrite {
    KnownWrite {
        key: "p/k0".to_string(),
        value: value.to_string(),
        index,
        acked_ns: Some(acked_ns),
    }
}

#[test]
fn good_watch_answers_pass() {
    let writes = [write("a", 5, SECOND), write("b", 9, 2 * SECOND)];
    let calls = [
        call("w", 0, (0, 1), 3, &[]),
        call("w", 3, (1, SECOND + 5), 5, &[("p/k0", "a", 5)]),
        call("w", 5, (SECOND + 6, 2 * SECOND + 5), 9, &[("p/k0", "b", 9)]),
        // Resumed below the current index: answers at once.
        call(
            "w",
            8,
            (3 * SECOND, 3 * SECOND + 10),
            9,
            &[("p/k0", "b", 9)],
        ),
        // A wait that ran out with nothing new.
        call("w", 9, (4 * SECOND, 9 * SECOND), 9, &[("p/k0", "b", 9)]),
    ];
    assert_eq!(check(&calls, &writes, PAIR), Vec::<String>::new());
}

#[test]
fn an_index_going_back_is_rejected() {
    let calls = [call("w", 0, (0, 1), 7, &[]), call("w", 7, (2, 3), 6, &[])];
    let violations = check(&calls, &[], PAIR);
    assert!(violations[0].contains("went back"), "{violations:?}");
}

#[test]
fn content_that_does_not_match_the_index_is_rejected() {
    let writes = [write("a", 5, SECOND), write("b", 9, 2 * SECOND)];
    // Index 10 answered with the entry of index 5, but 9 was written in between.
    let calls = [call(
        "w",
        0,
        (3 * SECOND, 3 * SECOND + 1),
        10,
        &[("p/k0", "a", 5)],
    )];
    let violations = check(&calls, &writes, PAIR);
    assert!(
        violations[0].contains("content does not match"),
        "{violations:?}"
    );
    // A value with another ModifyIndex than its write's.
    let calls = [call(
        "w",
        0,
        (3 * SECOND, 3 * SECOND + 1),
        10,
        &[("p/k0", "b", 7)],
    )];
    let violations = check(&calls, &writes, PAIR);
    assert!(violations[0].contains("was written at 9"), "{violations:?}");
}

#[test]
fn a_lost_wake_up_is_rejected() {
    let writes = [write("a", 5, SECOND)];
    let late = SECOND + WAKE_UP_BOUND_NS + 1;
    let calls = [call("w", 3, (0, late), 3, &[])];
    let violations = check(&calls, &writes, PAIR);
    assert!(violations[0].contains("lost wake-up"), "{violations:?}");
    // Within the bound, a watcher may not have woken yet.
    let calls = [call("w", 3, (0, 2 * SECOND), 3, &[])];
    assert!(check(&calls, &writes, PAIR).is_empty());
}

#[test]
fn a_resume_that_waits_out_its_wait_is_rejected() {
    let calls = [
        call("w", 0, (0, 1), 9, &[]),
        call("w", 8, (2, 2 + 5 * SECOND), 9, &[]),
    ];
    let violations = check(&calls, &[], PAIR);
    assert!(violations[0].contains("resumed"), "{violations:?}");
}

#[test]
fn half_a_transaction_is_rejected() {
    let mut whole = call(
        "r",
        0,
        (0, 1),
        9,
        &[("p/pair/a", "t1", 9), ("p/pair/b", "t1", 9)],
    );
    whole.recurse = true;
    whole.key = "p/".to_string();
    assert!(check(std::slice::from_ref(&whole), &[], PAIR).is_empty());
    let mut half = call(
        "r",
        0,
        (0, 1),
        9,
        &[("p/pair/a", "t2", 9), ("p/pair/b", "t1", 8)],
    );
    half.recurse = true;
    half.key = "p/".to_string();
    let violations = check(&[half], &[], PAIR);
    assert!(
        violations[0].contains("half of a transaction"),
        "{violations:?}"
    );
}

fn put(value: &str, index: u64, at: (u64, u64)) -> RegisterOp {
    Op {
        id: index,
        process: 0,
        key: "k".to_string(),
        f: "put",
        input: RegisterInput::Put {
            value: value.to_string(),
        },
        output: Some(RegisterOutput::Written),
        invoke_ns: at.0,
        complete_ns: Some(at.1),
        outcome: Outcome::Ok,
        index: Some(index),
        server: None,
    }
}

fn finals(found: Option<(&str, u64)>) -> BTreeMap<String, FinalRead> {
    BTreeMap::from([(
        "k".to_string(),
        FinalRead {
            found: found.map(|(v, i)| (v.to_string(), i)),
            invoke_ns: 100,
        },
    )])
}

#[test]
fn durability_accepts_the_last_write_or_a_later_one() {
    let ops = [put("a", 5, (0, 1)), put("b", 7, (2, 3))];
    assert!(durability::check(&ops, &finals(Some(("b", 7)))).is_ok());
    assert!(durability::check(&ops, &finals(Some(("c", 9)))).is_ok());
}

#[test]
fn a_lost_acknowledged_write_is_rejected() {
    let ops = [put("a", 5, (0, 1)), put("b", 7, (2, 3))];
    let why = durability::check(&ops, &finals(Some(("a", 5)))).unwrap_err();
    assert!(why.contains("lost write") && why.contains("\"b\""), "{why}");
    let why = durability::check(&ops, &finals(None)).unwrap_err();
    assert!(why.contains("no delete"), "{why}");
}
