//! KV behaviour of the state machine: check-and-set, deletes and prefix queries.

use proconsul_state::{Command, CommandOutcome, KvCommand, KvOp, State, Table};

fn kv(op: KvOp, key: &str, value: &str, cas: Option<u64>) -> Command {
    Command::Kv(KvCommand {
        op,
        key: key.to_string(),
        value: value.as_bytes().to_vec(),
        flags: 0,
        cas,
    })
}

#[test]
fn set_then_update_keeps_create_index() {
    let mut state = State::default();
    state.apply(1, &kv(KvOp::Set, "a", "1", None));
    state.apply(2, &kv(KvOp::Set, "a", "2", None));
    let entry = state.kv_get("a").unwrap();
    assert_eq!((entry.create_index, entry.modify_index), (1, 2));
    assert_eq!(entry.value.as_deref(), Some(&b"2"[..]));
    assert_eq!(state.table_indexes().get(Table::Kvs), 2);
}

#[test]
fn empty_value_is_stored_as_null() {
    let mut state = State::default();
    state.apply(1, &kv(KvOp::Set, "a", "", None));
    assert_eq!(state.kv_get("a").unwrap().value, None);
}

#[test]
fn cas_zero_creates_only_when_absent() {
    let mut state = State::default();
    assert_eq!(
        state.apply(1, &kv(KvOp::Set, "a", "1", Some(0))),
        CommandOutcome::Applied(true)
    );
    assert_eq!(
        state.apply(2, &kv(KvOp::Set, "a", "2", Some(0))),
        CommandOutcome::Applied(false)
    );
    assert_eq!(state.kv_get("a").unwrap().value.as_deref(), Some(&b"1"[..]));
}

#[test]
fn cas_index_must_match_modify_index() {
    let mut state = State::default();
    state.apply(1, &kv(KvOp::Set, "a", "1", None));
    assert_eq!(
        state.apply(2, &kv(KvOp::Set, "a", "x", Some(7))),
        CommandOutcome::Applied(false)
    );
    assert_eq!(
        state.apply(3, &kv(KvOp::Set, "a", "y", Some(1))),
        CommandOutcome::Applied(true)
    );
    assert_eq!(state.kv_get("a").unwrap().modify_index, 3);
    assert_eq!(
        state.apply(4, &kv(KvOp::Set, "b", "z", Some(5))),
        CommandOutcome::Applied(false)
    );
}

#[test]
fn delete_cas_and_delete_tree() {
    let mut state = State::default();
    for (i, key) in ["app/a", "app/b", "app/c/d", "apple", "other"]
        .iter()
        .enumerate()
    {
        state.apply(i as u64 + 1, &kv(KvOp::Set, key, "v", None));
    }
    assert_eq!(
        state.apply(6, &kv(KvOp::Delete, "app/a", "", Some(99))),
        CommandOutcome::Applied(false)
    );
    assert_eq!(
        state.apply(7, &kv(KvOp::Delete, "app/a", "", Some(1))),
        CommandOutcome::Applied(true)
    );
    assert!(state.kv_get("app/a").is_none());
    state.apply(8, &kv(KvOp::DeleteTree, "app/", "", None));
    let left: Vec<String> = state.kv_list("").iter().map(|e| e.key.clone()).collect();
    assert_eq!(left, ["apple", "other"]);
    assert_eq!(state.table_indexes().get(Table::Kvs), 8);
}

#[test]
fn deleting_a_missing_key_changes_no_index() {
    let mut state = State::default();
    state.apply(1, &kv(KvOp::Set, "a", "1", None));
    state.apply(2, &kv(KvOp::Delete, "zzz", "", None));
    assert_eq!(state.table_indexes().get(Table::Kvs), 1);
}

#[test]
fn keys_fold_at_the_separator() {
    let mut state = State::default();
    for (i, key) in ["web/a", "web/b/c", "web/b/d", "web/e/", "webx"]
        .iter()
        .enumerate()
    {
        state.apply(i as u64 + 1, &kv(KvOp::Set, key, "v", None));
    }
    assert_eq!(
        state.kv_keys("web/", Some("/")),
        ["web/a", "web/b/", "web/e/"]
    );
    assert_eq!(state.kv_keys("web", None).len(), 5);
    assert_eq!(state.kv_keys("", Some("/")), ["web/", "webx"]);
}

#[test]
fn utf8_and_odd_keys_round_trip() {
    let mut state = State::default();
    for (i, key) in ["ключ/значение", "a b", "%2F", "emoji/🦀"]
        .iter()
        .enumerate()
    {
        state.apply(i as u64 + 1, &kv(KvOp::Set, key, "v", None));
        assert_eq!(state.kv_get(key).unwrap().key, *key);
    }
}
