//! `/v1/kv` against a real dev agent.

use proconsul_tests::{TestAgent, call, get, put};
use serde_json::json;

#[tokio::test]
async fn put_get_update_and_delete_a_key() {
    let agent = TestAgent::start();
    let answer = put(&agent.url("/v1/kv/app/config?flags=42"), "hello").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "true"));

    let answer = get(&agent.url("/v1/kv/app/config")).await;
    assert_eq!(answer.status, 200);
    let entry = &answer.json()[0];
    assert_eq!(entry["Key"], "app/config");
    assert_eq!(entry["Value"], "aGVsbG8=");
    assert_eq!(entry["Flags"], 42);
    assert_eq!(entry["LockIndex"], 0);
    let created = entry["CreateIndex"].as_u64().unwrap();
    assert_eq!(entry["ModifyIndex"].as_u64().unwrap(), created);
    assert!(answer.index() >= created);

    put(&agent.url("/v1/kv/app/config"), "world").await;
    let entry = get(&agent.url("/v1/kv/app/config")).await.json()[0].clone();
    assert_eq!(entry["CreateIndex"].as_u64().unwrap(), created);
    assert!(entry["ModifyIndex"].as_u64().unwrap() > created);
    assert_eq!(entry["Flags"], 0);

    let raw = get(&agent.url("/v1/kv/app/config?raw")).await;
    assert_eq!((raw.status, raw.body.as_str()), (200, "world"));

    let deleted = call("DELETE", &agent.url("/v1/kv/app/config"), None).await;
    assert_eq!((deleted.status, deleted.body.as_str()), (200, "true"));
    let missing = get(&agent.url("/v1/kv/app/config")).await;
    assert_eq!(missing.status, 404);
    assert!(missing.index() > 0);
}

#[tokio::test]
async fn empty_values_are_null() {
    let agent = TestAgent::start();
    put(&agent.url("/v1/kv/empty"), "").await;
    let entry = get(&agent.url("/v1/kv/empty")).await.json()[0].clone();
    assert_eq!(entry["Value"], json!(null));
}

#[tokio::test]
async fn recurse_keys_and_separator() {
    let agent = TestAgent::start();
    for key in ["web/a", "web/b/c", "web/b/d", "webx", "other"] {
        assert_eq!(
            put(&agent.url(&format!("/v1/kv/{key}")), key).await.body,
            "true"
        );
    }
    let listed = get(&agent.url("/v1/kv/web?recurse")).await.json();
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["web/a", "web/b/c", "web/b/d", "webx"]);

    let keys = get(&agent.url("/v1/kv/web/?keys&separator=/")).await.json();
    assert_eq!(keys, json!(["web/a", "web/b/"]));
    let all = get(&agent.url("/v1/kv/?keys")).await.json();
    assert_eq!(all.as_array().unwrap().len(), 5);
    let root = get(&agent.url("/v1/kv/?recurse")).await.json();
    assert_eq!(root.as_array().unwrap().len(), 5);

    assert_eq!(get(&agent.url("/v1/kv/nothing?recurse")).await.status, 404);
    assert_eq!(get(&agent.url("/v1/kv/nothing?keys")).await.status, 404);

    let deleted = call("DELETE", &agent.url("/v1/kv/web/?recurse"), None).await;
    assert_eq!(deleted.body, "true");
    let left = get(&agent.url("/v1/kv/?keys")).await.json();
    assert_eq!(left, json!(["other", "webx"]));
}

#[tokio::test]
async fn check_and_set() {
    let agent = TestAgent::start();
    assert_eq!(put(&agent.url("/v1/kv/lock?cas=0"), "a").await.body, "true");
    assert_eq!(
        put(&agent.url("/v1/kv/lock?cas=0"), "b").await.body,
        "false"
    );
    let index = get(&agent.url("/v1/kv/lock")).await.json()[0]["ModifyIndex"]
        .as_u64()
        .unwrap();
    assert_eq!(
        put(&agent.url(&format!("/v1/kv/lock?cas={}", index + 100)), "c")
            .await
            .body,
        "false"
    );
    assert_eq!(
        put(&agent.url(&format!("/v1/kv/lock?cas={index}")), "d")
            .await
            .body,
        "true"
    );
    let entry = get(&agent.url("/v1/kv/lock")).await.json()[0].clone();
    assert_eq!(entry["Value"], "ZA==");

    let stale = call(
        "DELETE",
        &agent.url(&format!("/v1/kv/lock?cas={index}")),
        None,
    )
    .await;
    assert_eq!(stale.body, "false");
    let current = entry["ModifyIndex"].as_u64().unwrap();
    let fresh = call(
        "DELETE",
        &agent.url(&format!("/v1/kv/lock?cas={current}")),
        None,
    )
    .await;
    assert_eq!(fresh.body, "true");
    assert_eq!(get(&agent.url("/v1/kv/lock")).await.status, 404);
}

#[tokio::test]
async fn odd_keys_round_trip() {
    let agent = TestAgent::start();
    let cases = [
        ("/v1/kv/%D0%BA%D0%BB%D1%8E%D1%87", "ключ"),
        ("/v1/kv/a%20b", "a b"),
        ("/v1/kv/slash%2Fencoded", "slash/encoded"),
        ("/v1/kv/trailing/", "trailing/"),
        ("/v1/kv/emoji/%F0%9F%A6%80", "emoji/🦀"),
    ];
    for (path, key) in cases {
        assert_eq!(put(&agent.url(path), key).await.body, "true", "{path}");
        let answer = get(&agent.url(path)).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.json()[0]["Key"], key, "{path}");
    }
    let no_key = put(&agent.url("/v1/kv/"), "x").await;
    assert_eq!(
        (no_key.status, no_key.body.as_str()),
        (400, "Missing key name")
    );
}

#[tokio::test]
async fn oversized_values_get_413_and_change_nothing() {
    let agent = TestAgent::start();
    put(&agent.url("/v1/kv/big"), "small").await;
    let answer = put(&agent.url("/v1/kv/big"), vec![b'x'; 512 * 1024 + 1]).await;
    assert_eq!(answer.status, 413);
    assert!(answer.body.contains("too large"), "{}", answer.body);
    let exactly = put(&agent.url("/v1/kv/max"), vec![b'x'; 512 * 1024]).await;
    assert_eq!(exactly.status, 200);
    assert_eq!(get(&agent.url("/v1/kv/big?raw")).await.body, "small");
}

#[tokio::test]
async fn configured_value_limit_applies() {
    let agent = TestAgent::start_with(&["-kv-max-value-size=10"]);
    assert_eq!(put(&agent.url("/v1/kv/a"), "0123456789").await.status, 200);
    assert_eq!(put(&agent.url("/v1/kv/a"), "0123456789x").await.status, 413);
}

#[tokio::test]
async fn bad_parameters_are_400() {
    let agent = TestAgent::start();
    for path in ["/v1/kv/a?cas=x", "/v1/kv/a?flags=-1"] {
        let answer = put(&agent.url(path), "v").await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
    }
    for path in [
        "/v1/kv/a?index=abc",
        "/v1/kv/a?wait=forever",
        "/v1/kv/a?stale&consistent",
    ] {
        let answer = get(&agent.url(path)).await;
        assert_eq!(answer.status, 400, "{path}: {}", answer.body);
        assert!(!answer.body.is_empty());
    }
}
