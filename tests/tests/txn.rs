//! `PUT /v1/txn` against a real agent: atomic writes, reads, every failure path Consul
//! reports with 409, the 128-operation limit, and a transaction holding a session lock.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proconsul_tests::{TestAgent, get, put};
use serde_json::{Value, json};

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

async fn txn(agent: &TestAgent, ops: Value) -> (u16, Value) {
    let answer = put(&agent.url("/v1/txn"), ops.to_string()).await;
    let body = if answer.status == 200 || answer.status == 409 {
        answer.json()
    } else {
        Value::String(answer.body.clone())
    };
    (answer.status, body)
}

#[tokio::test]
async fn writes_are_atomic_and_reads_come_back() {
    let agent = TestAgent::start();
    let (status, body) = txn(
        &agent,
        json!([
            {"KV": {"Verb": "set", "Key": "app/a", "Value": b64("1")}},
            {"KV": {"Verb": "set", "Key": "app/b", "Value": b64("2"), "Flags": 7}},
            {"Node": {"Verb": "set", "Node": {"Node": "txn-node", "Address": "10.9.0.1"}}},
            {"Service": {"Verb": "set", "Node": "txn-node", "Service": {"ID": "db1", "Service": "db", "Port": 5432}}},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["Errors"].is_null());
    let results = body["Results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["KV"]["Key"], "app/a");
    assert!(
        results[0]["KV"]["Value"].is_null(),
        "writes come back without values"
    );
    assert_eq!(results[2]["Node"]["Address"], "10.9.0.1");
    assert_eq!(results[3]["Service"]["Service"], "db");
    let catalog = get(&agent.url("/v1/catalog/service/db")).await.json();
    assert_eq!(catalog[0]["Node"], "txn-node");
    let index = results[0]["KV"]["ModifyIndex"].as_u64().unwrap();

    // Reads only: answered locally, with index headers.
    let answer = put(
        &agent.url("/v1/txn"),
        json!([
            {"KV": {"Verb": "get", "Key": "app/a"}},
            {"KV": {"Verb": "get-tree", "Key": "app/"}},
            {"KV": {"Verb": "check-index", "Key": "app/a", "Index": index}},
        ])
        .to_string(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.index() >= index);
    let body = answer.json();
    assert_eq!(body["Results"][0]["KV"]["Value"], b64("1"));
    assert_eq!(body["Results"].as_array().unwrap().len(), 4);

    // One failure and nothing applies: every failed operation is reported.
    let (status, body) = txn(
        &agent,
        json!([
            {"KV": {"Verb": "set", "Key": "app/c", "Value": b64("3")}},
            {"KV": {"Verb": "cas", "Key": "app/a", "Value": b64("x"), "Index": index + 100}},
            {"KV": {"Verb": "check-not-exists", "Key": "app/b"}},
            {"KV": {"Verb": "get", "Key": "nothing"}},
            {"KV": {"Verb": "delete-cas", "Key": "app/b", "Index": 1}},
        ]),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["Results"].is_null());
    let errors = body["Errors"].as_array().unwrap();
    let positions: Vec<u64> = errors
        .iter()
        .map(|e| e["OpIndex"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    assert_eq!(
        errors[0]["What"],
        "failed to set key \"app/a\", index is stale"
    );
    assert_eq!(
        get(&agent.url("/v1/kv/app/c")).await.status,
        404,
        "nothing applied"
    );

    // Deletes in a transaction.
    let (status, _) = txn(
        &agent,
        json!([
            {"KV": {"Verb": "delete-tree", "Key": "app/"}},
            {"Service": {"Verb": "delete", "Node": "txn-node", "Service": {"ID": "db1"}}},
        ]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(get(&agent.url("/v1/kv/app/?recurse")).await.status, 404);
    assert_eq!(
        get(&agent.url("/v1/catalog/service/db")).await.json(),
        json!([])
    );
}

#[tokio::test]
async fn locks_limits_and_bad_input() {
    let agent = TestAgent::start();
    let session = put(&agent.url("/v1/session/create"), "{}").await.json()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = txn(
        &agent,
        json!([
            {"KV": {"Verb": "lock", "Key": "leader", "Value": b64("me"), "Session": session}},
            {"KV": {"Verb": "check-session", "Key": "leader", "Session": session}},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Results"][0]["KV"]["Session"], session);
    assert_eq!(body["Results"][0]["KV"]["LockIndex"], 1);
    let (status, body) = txn(
        &agent,
        json!([{"KV": {"Verb": "unlock", "Key": "leader", "Session": "00000000-0000-0000-0000-000000000000"}}]),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        body["Errors"][0]["What"]
            .as_str()
            .unwrap()
            .starts_with("failed to unlock key")
    );

    let too_many: Vec<Value> = (0..129)
        .map(|i| json!({"KV": {"Verb": "set", "Key": format!("k{i}")}}))
        .collect();
    let answer = put(&agent.url("/v1/txn"), Value::Array(too_many).to_string()).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    let bad_verb = put(
        &agent.url("/v1/txn"),
        json!([{"KV": {"Verb": "explode", "Key": "k"}}]).to_string(),
    )
    .await;
    assert_eq!(bad_verb.status, 400, "{}", bad_verb.body);
    let not_json = put(&agent.url("/v1/txn"), "{").await;
    assert_eq!(not_json.status, 400);
}
