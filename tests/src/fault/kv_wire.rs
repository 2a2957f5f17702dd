//! Consul's KV JSON as the workloads send and read it: transaction bodies, the first
//! KV result of a transaction, and the entries of a `GET /v1/kv` answer (values base64).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// One KV entry of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvEntry {
    pub key: String,
    /// `None` for a null value.
    pub value: Option<String>,
    /// The holding session (`None` when free).
    pub session: Option<String>,
    pub lock_index: u64,
    pub modify_index: u64,
}

/// A transaction body of KV operations: `verb` on `key` with `value` (base64-encoded
/// here) and the extra fields (`Index`, `Session`) of each.
pub fn txn_body(ops: &[(&str, &str, &str, Value)]) -> String {
    let ops: Vec<Value> = ops
        .iter()
        .map(|(verb, key, value, extra)| {
            let mut op = json!({"Verb": verb, "Key": key, "Value": STANDARD.encode(value)});
            if let (Some(op), Some(extra)) = (op.as_object_mut(), extra.as_object()) {
                op.extend(extra.clone());
            }
            json!({ "KV": op })
        })
        .collect();
    Value::Array(ops).to_string()
}

/// The first KV result of a transaction's answer.
pub fn txn_result(body: &str) -> Option<KvEntry> {
    let answer: Value = serde_json::from_str(body).ok()?;
    entry(&answer["Results"][0]["KV"])
}

/// The entries of a `GET /v1/kv/k` (or `?recurse`) answer.
pub fn entries(body: &str) -> Option<Vec<KvEntry>> {
    let entries: Vec<Value> = serde_json::from_str(body).ok()?;
    entries.iter().map(entry).collect()
}

fn entry(entry: &Value) -> Option<KvEntry> {
    let value = match entry["Value"].as_str() {
        Some(encoded) => Some(String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?),
        None => None,
    };
    Some(KvEntry {
        key: entry["Key"].as_str()?.to_string(),
        value,
        session: entry["Session"]
            .as_str()
            .filter(|session| !session.is_empty())
            .map(str::to_string),
        lock_index: entry["LockIndex"].as_u64().unwrap_or(0),
        modify_index: entry["ModifyIndex"].as_u64()?,
    })
}
