//! Blocking queries (`?index=&wait=`) against a real dev agent.

use std::time::{Duration, Instant};

use proconsul_tests::{TestAgent, get, put};
use serde_json::json;

#[tokio::test]
async fn a_blocked_kv_read_returns_as_soon_as_the_key_changes() {
    let agent = TestAgent::start();
    put(&agent.url("/v1/kv/watched"), "1").await;
    let first = get(&agent.url("/v1/kv/watched")).await;
    let index = first.index();

    let url = agent.url(&format!("/v1/kv/watched?index={index}&wait=30s"));
    let started = Instant::now();
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "returned before any change");
    put(&agent.url("/v1/kv/watched"), "2").await;
    let answer = waiter.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(answer.index() > index);
    assert_eq!(answer.json()[0]["Value"], "Mg==");
}

#[tokio::test]
async fn a_blocked_read_times_out_with_the_same_index() {
    let agent = TestAgent::start();
    put(&agent.url("/v1/kv/k"), "1").await;
    let index = get(&agent.url("/v1/kv/k")).await.index();
    let started = Instant::now();
    let answer = get(&agent.url(&format!("/v1/kv/k?index={index}&wait=1s"))).await;
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(answer.index(), index);
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn writes_elsewhere_do_not_end_a_service_watch() {
    let agent = TestAgent::start();
    let register = |id: &str, name: &str| {
        json!({"Node": "n1", "Address": "10.0.0.1", "Service": {"ID": id, "Service": name}})
            .to_string()
    };
    put(&agent.url("/v1/catalog/register"), register("web1", "web")).await;
    let index = get(&agent.url("/v1/health/service/web")).await.index();

    let url = agent.url(&format!("/v1/health/service/web?index={index}&wait=2s"));
    let started = Instant::now();
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    put(&agent.url("/v1/kv/unrelated"), "x").await;
    put(
        &agent.url("/v1/catalog/register"),
        json!({"Node": "n2", "Address": "10.0.0.2", "Service": {"ID": "db1", "Service": "db"}})
            .to_string(),
    )
    .await;
    let answer = waiter.await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "woken by an unrelated write"
    );
    assert_eq!(answer.index(), index);

    // A change to the watched service does wake it.
    let url = agent.url(&format!("/v1/health/service/web?index={index}&wait=30s"));
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    put(&agent.url("/v1/catalog/register"), register("web2", "web")).await;
    let answer = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.json().as_array().unwrap().len(), 2);
}

/// Every read scoped to one service wakes on what changes its answer: a check of one of
/// its instances, and the node an instance runs on (not only on its own registrations).
#[tokio::test]
async fn service_watches_wake_on_their_checks_and_nodes() {
    let agent = TestAgent::start();
    let register = |address: &str, status: &str| {
        json!({"Node": "n1", "Address": address,
            "Service": {"ID": "web1", "Service": "web"},
            "Check": {"CheckID": "web-alive", "Name": "alive", "ServiceID": "web1", "Status": status}})
        .to_string()
    };
    put(
        &agent.url("/v1/catalog/register"),
        register("10.0.0.1", "passing"),
    )
    .await;
    let changes = [
        ("a check's status", register("10.0.0.1", "critical")),
        ("the node's address", register("10.0.0.9", "critical")),
    ];
    for (change, body) in changes {
        let paths = [
            "/v1/health/service/web",
            "/v1/health/checks/web",
            "/v1/catalog/service/web",
        ];
        let mut waiters = Vec::new();
        for path in paths {
            let index = get(&agent.url(path)).await.index();
            let url = agent.url(&format!("{path}?index={index}&wait=30s"));
            waiters.push((path, index, tokio::spawn(async move { get(&url).await })));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(waiters.iter().all(|(_, _, waiter)| !waiter.is_finished()));
        put(&agent.url("/v1/catalog/register"), body).await;
        for (path, index, waiter) in waiters {
            let answer = tokio::time::timeout(Duration::from_secs(10), waiter)
                .await
                .unwrap_or_else(|_| panic!("{path} not woken by {change}"))
                .unwrap();
            assert!(answer.index() > index, "{path} after {change}");
        }
    }
}

#[tokio::test]
async fn index_is_never_zero_and_a_reset_index_returns_at_once() {
    let agent = TestAgent::start();
    let answer = get(&agent.url("/v1/kv/?recurse")).await;
    assert_eq!(answer.status, 404);
    assert!(answer.index() >= 1);
    let started = Instant::now();
    let ahead = get(&agent.url("/v1/catalog/nodes?index=99999999&wait=10s")).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(ahead.index() < 99999999);
    let known_leader = ahead.headers.get("x-consul-knownleader").unwrap();
    assert_eq!(known_leader, "true");
    assert!(ahead.headers.get("x-consul-lastcontact").is_some());
}

#[tokio::test]
async fn many_watchers_all_wake_on_one_write() {
    let agent = TestAgent::start();
    put(&agent.url("/v1/kv/fan"), "0").await;
    let index = get(&agent.url("/v1/kv/fan")).await.index();
    let mut waiters = Vec::new();
    for _ in 0..200 {
        let url = agent.url(&format!("/v1/kv/fan?index={index}&wait=60s"));
        waiters.push(tokio::spawn(async move { get(&url).await }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(waiters.iter().all(|w| !w.is_finished()));
    put(&agent.url("/v1/kv/fan"), "1").await;
    for waiter in waiters {
        let answer = tokio::time::timeout(Duration::from_secs(20), waiter)
            .await
            .unwrap()
            .unwrap();
        assert!(answer.index() > index);
    }
}

#[tokio::test]
async fn stale_and_consistent_reads_answer() {
    let agent = TestAgent::start();
    put(&agent.url("/v1/kv/c"), "1").await;
    for mode in ["stale", "consistent", "leader", "cached"] {
        let answer = get(&agent.url(&format!("/v1/kv/c?{mode}"))).await;
        assert_eq!(answer.status, 200, "{mode}: {}", answer.body);
    }
    let pretty = get(&agent.url("/v1/catalog/datacenters?pretty")).await;
    assert!(pretty.body.contains('\n'));
}

#[tokio::test]
async fn agent_service_blocks_on_its_content_hash() {
    let agent = TestAgent::start();
    let register = |port: u16| json!({"Name": "hashed", "Port": port}).to_string();
    put(&agent.url("/v1/agent/service/register"), register(1)).await;
    let first = get(&agent.url("/v1/agent/service/hashed")).await;
    let hash = first.json()["ContentHash"].as_str().unwrap().to_string();
    assert_eq!(
        first.headers.get("x-consul-contenthash").unwrap(),
        hash.as_str()
    );

    // Unchanged: waits out the whole wait.
    let started = Instant::now();
    let same = get(&agent.url(&format!("/v1/agent/service/hashed?hash={hash}&wait=1s"))).await;
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(same.json()["ContentHash"], hash.as_str());

    // Changed: returns as soon as the registration changes.
    let url = agent.url(&format!("/v1/agent/service/hashed?hash={hash}&wait=30s"));
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    put(&agent.url("/v1/agent/service/register"), register(2)).await;
    let changed = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.json()["Port"], 2);
    assert_ne!(changed.json()["ContentHash"], hash.as_str());
}
