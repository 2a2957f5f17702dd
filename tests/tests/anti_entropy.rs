//! Anti-entropy: the agent repairs the catalog's view of its node.

use std::time::{Duration, Instant};

use proconsul_tests::{TestAgent, get, put};
use serde_json::{Value, json};

async fn eventually(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !probe().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_service_deleted_behind_the_agents_back_comes_back() {
    let agent = TestAgent::start_with(&["-ae-interval=300ms"]);
    let body = json!({"Name": "web", "Check": {"TTL": "60s", "Status": "passing"}});
    put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
    // The agent's registration first reaches the catalog.
    let catalog_url = agent.url("/v1/catalog/service/web");
    eventually("web in the catalog", async || {
        get(&catalog_url).await.json()[0]["CreateIndex"].is_u64()
    })
    .await;
    let first = get(&catalog_url).await.json()[0]["CreateIndex"]
        .as_u64()
        .unwrap();
    let deregister = json!({"Node": agent.node_name, "ServiceID": "web"});
    assert_eq!(
        put(&agent.url("/v1/catalog/deregister"), deregister.to_string())
            .await
            .body,
        "true"
    );
    // Registered again (a later CreateIndex), with its passing check.
    let url = agent.url("/v1/health/service/web?passing");
    eventually("web is re-registered with its passing check", async || {
        let entries = get(&url).await.json();
        entries.as_array().is_some_and(|e| e.len() == 1)
            && entries[0]["Service"]["CreateIndex"].as_u64() > Some(first)
    })
    .await;
    // The server's own entries are left alone.
    let consul = get(&agent.url("/v1/catalog/service/consul")).await.json();
    assert_eq!(consul.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn entries_the_agent_does_not_own_are_removed_from_its_node() {
    let agent = TestAgent::start_with(&["-ae-interval=300ms"]);
    let stray = json!({"Node": agent.node_name, "Address": "127.0.0.1",
                       "Service": {"Service": "stray"},
                       "Check": {"CheckID": "stray-check", "Name": "stray", "Status": "passing"}});
    assert_eq!(
        put(&agent.url("/v1/catalog/register"), stray.to_string())
            .await
            .body,
        "true"
    );
    let url = agent.url("/v1/catalog/services");
    eventually("the stray service is removed", async || {
        get(&url).await.json().get("stray").is_none()
    })
    .await;
    let checks_url = agent.url(&format!("/v1/health/node/{}", agent.node_name));
    eventually("the stray check is removed", async || {
        let checks: Value = get(&checks_url).await.json();
        checks
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["CheckID"] != "stray-check")
    })
    .await;
}

#[tokio::test]
async fn tag_override_keeps_tags_set_through_the_catalog() {
    let agent = TestAgent::start_with(&["-ae-interval=300ms"]);
    for (name, override_tags) in [("keeps", true), ("resets", false)] {
        let body = json!({"Name": name, "Tags": ["v1"], "EnableTagOverride": override_tags});
        put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
        // The agent's own registration reaches the catalog first; the retag below then
        // changes what is there (and cannot be overwritten by a late first sync).
        let url = agent.url(&format!("/v1/catalog/service/{name}"));
        eventually("the agent's registration in the catalog", async || {
            get(&url).await.json()[0]["ServiceTags"] == json!(["v1"])
        })
        .await;
        let retag = json!({"Node": agent.node_name, "Address": "127.0.0.1", "SkipNodeUpdate": true,
                           "Service": {"ID": name, "Service": name, "Tags": ["v2"], "EnableTagOverride": override_tags}});
        put(&agent.url("/v1/catalog/register"), retag.to_string()).await;
    }
    let resets_url = agent.url("/v1/catalog/service/resets");
    eventually(
        "tags without override are reset to the agent's",
        async || get(&resets_url).await.json()[0]["ServiceTags"] == json!(["v1"]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let keeps = get(&agent.url("/v1/catalog/service/keeps")).await.json();
    assert_eq!(
        keeps[0]["ServiceTags"],
        json!(["v2"]),
        "catalog tags win with EnableTagOverride"
    );
    let local = get(&agent.url("/v1/agent/service/keeps")).await.json();
    assert_eq!(local["Tags"], json!(["v2"]), "the agent adopts them");
}
