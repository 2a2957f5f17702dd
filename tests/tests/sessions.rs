//! Sessions and KV locks against a real agent: the session endpoints with Consul's
//! shapes and error texts, lock exclusivity and lock delay, TTL expiry and renewal,
//! invalidation by a failed check or a deregistered node, and a Patroni-style leader
//! election.

use std::time::{Duration, Instant};

use proconsul_tests::{TestAgent, call, get, put};
use serde_json::{Value, json};

async fn create(agent: &TestAgent, body: Value) -> String {
    let answer = put(&agent.url("/v1/session/create"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["ID"].as_str().unwrap().to_string()
}

async fn kv_put(agent: &TestAgent, path: &str, value: &str) -> (u16, String) {
    let answer = put(&agent.url(&format!("/v1/kv/{path}")), value).await;
    (answer.status, answer.body.trim().to_string())
}

async fn session_exists(agent: &TestAgent, id: &str) -> bool {
    let info = get(&agent.url(&format!("/v1/session/info/{id}")))
        .await
        .json();
    info.as_array().is_some_and(|list| !list.is_empty())
}

async fn wait_until_gone(agent: &TestAgent, id: &str, within: Duration) -> Duration {
    let start = Instant::now();
    while session_exists(agent, id).await {
        assert!(
            start.elapsed() < within,
            "session {id} still alive after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn session_endpoints_have_consuls_shapes_and_errors() {
    let agent = TestAgent::start();
    // Lowercase keys and a fractional duration, as Patroni sends them.
    let id = create(
        &agent,
        json!({"name": "leader", "ttl": "15.0s", "lockdelay": "0.001s", "behavior": "delete"}),
    )
    .await;
    let info = get(&agent.url(&format!("/v1/session/info/{id}"))).await;
    assert!(info.index() > 0);
    let session = &info.json()[0];
    assert_eq!(session["ID"], id);
    assert_eq!(session["Name"], "leader");
    assert_eq!(session["Node"], agent.node_name);
    assert_eq!(session["LockDelay"], 1_000_000, "nanoseconds, as Consul");
    assert_eq!(session["Behavior"], "delete");
    assert_eq!(session["TTL"], "15.0s");
    assert_eq!(session["NodeChecks"], json!(["serfHealth"]));
    let defaults = create(&agent, json!({})).await;
    let default = get(&agent.url(&format!("/v1/session/info/{defaults}")))
        .await
        .json();
    assert_eq!(default[0]["LockDelay"], 15_000_000_000u64);
    assert_eq!(default[0]["Behavior"], "release");

    let list = get(&agent.url("/v1/session/list")).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let on_node = get(&agent.url(&format!("/v1/session/node/{}", agent.node_name)))
        .await
        .json();
    assert_eq!(on_node.as_array().unwrap().len(), 2);
    let renewed = put(&agent.url(&format!("/v1/session/renew/{id}")), "").await;
    assert_eq!(renewed.status, 200);
    assert_eq!(renewed.json()[0]["ID"], id);

    let short = put(
        &agent.url("/v1/session/create"),
        json!({"TTL": "5s"}).to_string(),
    )
    .await;
    assert_eq!(short.status, 500);
    assert_eq!(
        short.body,
        "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"
    );
    let elsewhere = put(
        &agent.url("/v1/session/create"),
        json!({"Node": "nowhere"}).to_string(),
    )
    .await;
    assert_eq!(
        (elsewhere.status, elsewhere.body.as_str()),
        (500, "Missing node registration")
    );
    let unknown = put(
        &agent.url("/v1/session/renew/00000000-0000-0000-0000-000000000000"),
        "",
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("not found"), "{}", unknown.body);
    let (status, body) = kv_put(
        &agent,
        "k?acquire=00000000-0000-0000-0000-000000000000",
        "v",
    )
    .await;
    assert_eq!(status, 500);
    assert!(body.starts_with("invalid session"), "{body}");

    let destroyed = put(&agent.url(&format!("/v1/session/destroy/{id}")), "").await;
    assert_eq!(destroyed.body.trim(), "true");
    assert!(!session_exists(&agent, &id).await);
}

#[tokio::test]
async fn locks_are_exclusive_and_lock_delay_holds_them_after_a_holder_ends() {
    let agent = TestAgent::start();
    let a = create(&agent, json!({"LockDelay": "2s"})).await;
    let b = create(&agent, json!({"LockDelay": "2s"})).await;
    assert_eq!(
        kv_put(&agent, &format!("lock?acquire={a}"), "a").await.1,
        "true"
    );
    assert_eq!(
        kv_put(&agent, &format!("lock?acquire={b}"), "b").await.1,
        "false"
    );
    let entry = get(&agent.url("/v1/kv/lock")).await.json();
    assert_eq!(entry[0]["Session"], a);
    assert_eq!(entry[0]["LockIndex"], 1);
    assert_eq!(
        kv_put(&agent, &format!("lock?release={b}"), "").await.1,
        "false"
    );
    assert_eq!(
        kv_put(&agent, &format!("lock?release={a}"), "free").await.1,
        "true"
    );
    let entry = get(&agent.url("/v1/kv/lock")).await.json();
    assert!(
        entry[0].get("Session").is_none_or(Value::is_null),
        "{entry}"
    );
    assert_eq!(
        kv_put(&agent, &format!("lock?acquire={b}"), "b").await.1,
        "true"
    );
    assert_eq!(
        get(&agent.url("/v1/kv/lock")).await.json()[0]["LockIndex"],
        2
    );
    // ?cas combines with ?acquire.
    assert_eq!(
        kv_put(&agent, &format!("other?acquire={a}&cas=7"), "x")
            .await
            .1,
        "false"
    );

    // The holder ends: the lock is free but held back for the lock delay.
    put(&agent.url(&format!("/v1/session/destroy/{b}")), "").await;
    let released = get(&agent.url("/v1/kv/lock")).await.json();
    assert!(released[0].get("Session").is_none_or(Value::is_null));
    assert_eq!(
        kv_put(&agent, &format!("lock?acquire={a}"), "a").await.1,
        "false"
    );
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(
        kv_put(&agent, &format!("lock?acquire={a}"), "a").await.1,
        "true"
    );
}

#[tokio::test]
async fn ttl_expiry_ends_sessions_that_are_not_renewed() {
    let agent = TestAgent::start();
    // Patroni-style leader election: behavior delete, no lock delay.
    let leader = create(
        &agent,
        json!({"TTL": "10s", "Behavior": "delete", "LockDelay": "0s"}),
    )
    .await;
    let renewed = create(&agent, json!({"TTL": "10s"})).await;
    assert_eq!(
        kv_put(
            &agent,
            &format!("service/pg/leader?acquire={leader}"),
            "pg0"
        )
        .await
        .1,
        "true"
    );
    let standby = create(
        &agent,
        json!({"TTL": "10s", "Behavior": "delete", "LockDelay": "0s"}),
    )
    .await;
    assert_eq!(
        kv_put(
            &agent,
            &format!("service/pg/leader?acquire={standby}"),
            "pg1"
        )
        .await
        .1,
        "false"
    );
    let renewer = {
        let url = agent.url(&format!("/v1/session/renew/{renewed}"));
        let standby_url = agent.url(&format!("/v1/session/renew/{standby}"));
        tokio::spawn(async move {
            loop {
                put(&url, "").await;
                put(&standby_url, "").await;
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        })
    };
    // The leader stops renewing: gone within 2×TTL, and its key with it.
    let took = wait_until_gone(&agent, &leader, Duration::from_secs(25)).await;
    assert!(
        took >= Duration::from_secs(9),
        "expired after only {took:?}"
    );
    let key = get(&agent.url("/v1/kv/service/pg/leader")).await;
    assert_eq!(key.status, 404, "behavior=delete removes the key");
    assert_eq!(
        kv_put(
            &agent,
            &format!("service/pg/leader?acquire={standby}"),
            "pg1"
        )
        .await
        .1,
        "true"
    );
    assert!(
        session_exists(&agent, &renewed).await,
        "a renewed session lives on"
    );
    renewer.abort();
}

#[tokio::test]
async fn failed_checks_and_deregistered_nodes_end_their_sessions() {
    let agent = TestAgent::start();
    let check = put(
        &agent.url("/v1/agent/check/register"),
        json!({"Name": "guard", "TTL": "10m", "Status": "passing"}).to_string(),
    )
    .await;
    assert_eq!(check.status, 200);
    let bound = create(&agent, json!({"NodeChecks": ["serfHealth", "guard"]})).await;
    assert_eq!(
        kv_put(&agent, &format!("held?acquire={bound}"), "x")
            .await
            .1,
        "true"
    );
    put(&agent.url("/v1/agent/check/fail/guard"), "").await;
    wait_until_gone(&agent, &bound, Duration::from_secs(10)).await;
    let held = get(&agent.url("/v1/kv/held")).await.json();
    assert!(
        held[0].get("Session").is_none_or(Value::is_null),
        "released: {held}"
    );
    // A session on a critical check cannot be created.
    let refused = put(
        &agent.url("/v1/session/create"),
        json!({"NodeChecks": ["guard"]}).to_string(),
    )
    .await;
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (500, "Check 'guard' is in critical state")
    );

    put(
        &agent.url("/v1/catalog/register"),
        json!({"Node": "remote", "Address": "10.0.0.9"}).to_string(),
    )
    .await;
    let remote = create(&agent, json!({"Node": "remote", "NodeChecks": []})).await;
    let answer = call(
        "PUT",
        &agent.url("/v1/catalog/deregister"),
        Some(json!({"Node": "remote"}).to_string().into_bytes()),
    )
    .await;
    assert_eq!(answer.status, 200);
    wait_until_gone(&agent, &remote, Duration::from_secs(10)).await;
}

#[tokio::test]
async fn blocking_session_queries_wake_on_change() {
    let agent = TestAgent::start();
    let list = get(&agent.url("/v1/session/list")).await;
    let index = list.index();
    let url = agent.url(&format!("/v1/session/list?index={index}&wait=10s"));
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let id = create(&agent, json!({})).await;
    let answer = waiter.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(answer.index() > index);
    assert_eq!(answer.json()[0]["ID"], id);
}

#[tokio::test]
async fn contending_lockers_never_hold_the_lock_together() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let agent = Arc::new(TestAgent::start());
    let holders = Arc::new(AtomicUsize::new(0));
    let mut lockers = Vec::new();
    for name in ["one", "two", "three"] {
        let (agent, holders) = (agent.clone(), holders.clone());
        lockers.push(tokio::spawn(async move {
            let session = create(&agent, json!({"Name": name, "LockDelay": "0s"})).await;
            let mut held = 0;
            for round in 0..40 {
                let value = format!("{name}-{round}");
                while kv_put(&agent, &format!("election?acquire={session}"), &value)
                    .await
                    .1
                    != "true"
                {
                    tokio::task::yield_now().await;
                }
                assert_eq!(
                    holders.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two holders at once"
                );
                let entry = get(&agent.url("/v1/kv/election")).await.json();
                assert_eq!(entry[0]["Session"], session.as_str());
                held += 1;
                holders.fetch_sub(1, Ordering::SeqCst);
                assert_eq!(
                    kv_put(&agent, &format!("election?release={session}"), "")
                        .await
                        .1,
                    "true"
                );
            }
            held
        }));
    }
    for locker in lockers {
        assert_eq!(locker.await.unwrap(), 40);
    }
    let entry = get(&agent.url("/v1/kv/election")).await.json();
    assert_eq!(entry[0]["LockIndex"], 120, "every acquisition counted once");
}
