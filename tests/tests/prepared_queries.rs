//! Prepared queries (`/v1/query`) against a real agent: CRUD, execute with each filter,
//! templates through execute and explain, errors, blocking lists, sessions and DNS.

use std::time::{Duration, Instant};

use proconsul_tests::dig::dig;
use proconsul_tests::{Answer, TestAgent, call, get, put};
use serde_json::{Value, json};

async fn post(url: &str, body: Value) -> Answer {
    call("POST", url, Some(body.to_string().into_bytes())).await
}

async fn create(agent: &TestAgent, body: Value) -> String {
    let answer = post(&agent.url("/v1/query"), body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["ID"].as_str().expect("an ID").to_string()
}

async fn register(agent: &TestAgent, body: Value) {
    let answer = put(&agent.url("/v1/catalog/register"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Four instances of `web` on four nodes: n1 passing (tags primary, v1), n2 no checks
/// (v1), n3 warning (v2), n4 critical (primary).
async fn populate(agent: &TestAgent) {
    let instances = [
        (
            "n1",
            "10.1.0.1",
            "web1",
            json!(["primary", "v1"]),
            Some("passing"),
        ),
        ("n2", "10.1.0.2", "web2", json!(["v1"]), None),
        ("n3", "10.1.0.3", "web3", json!(["v2"]), Some("warning")),
        (
            "n4",
            "10.1.0.4",
            "web4",
            json!(["primary"]),
            Some("critical"),
        ),
    ];
    for (node, address, id, tags, status) in instances {
        let mut body = json!({
            "Node": node,
            "Address": address,
            "NodeMeta": {"rack": node},
            "Service": {"ID": id, "Service": "web", "Port": 80, "Tags": tags, "Meta": {"id": id}},
        });
        if let Some(status) = status {
            body["Check"] = json!({"CheckID": format!("chk-{id}"), "Name": "c", "ServiceID": id, "Status": status});
        }
        register(agent, body).await;
    }
}

/// The service IDs an execution returned, sorted.
async fn execute_ids(agent: &TestAgent, id_or_name: &str, params: &str) -> Vec<String> {
    let answer = get(&agent.url(&format!("/v1/query/{id_or_name}/execute{params}"))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut ids: Vec<String> = answer.json()["Nodes"]
        .as_array()
        .expect("Nodes")
        .iter()
        .map(|entry| entry["Service"]["ID"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn create_read_list_update_delete() {
    let agent = TestAgent::start();
    let id = create(
        &agent,
        json!({"Name": "my-query", "Service": {"Service": "redis", "Tags": ["primary", "!experimental"],
               "NodeMeta": {"instance_type": "m3.large"}}, "DNS": {"TTL": "10s"}}),
    )
    .await;

    let read = get(&agent.url(&format!("/v1/query/{id}"))).await;
    assert_eq!(read.status, 200);
    let queries = read.json();
    let query = &queries.as_array().unwrap()[0];
    assert_eq!(query["ID"], id);
    assert_eq!(query["Name"], "my-query");
    assert_eq!(query["Service"]["Service"], "redis");
    assert_eq!(
        query["Service"]["Tags"],
        json!(["primary", "!experimental"])
    );
    assert_eq!(query["Service"]["IgnoreCheckIDs"], Value::Null);
    assert_eq!(query["Service"]["Failover"]["NearestN"], 0);
    assert_eq!(query["DNS"]["TTL"], "10s");
    assert_eq!(query["Template"]["Type"], "");
    let created = query["CreateIndex"].as_u64().unwrap();
    assert!(created > 0);
    assert_eq!(query["ModifyIndex"].as_u64(), Some(created));
    assert_eq!(read.index(), created);

    let list = get(&agent.url("/v1/query")).await;
    assert_eq!(list.json().as_array().unwrap().len(), 1);

    // Update: the ID in the path wins; CreateIndex is kept.
    let update = put(
        &agent.url(&format!("/v1/query/{id}")),
        json!({"ID": "ignored", "Name": "renamed", "Service": {"Service": "db"}}).to_string(),
    )
    .await;
    assert_eq!(update.status, 200, "{}", update.body);
    let query = get(&agent.url(&format!("/v1/query/{id}"))).await.json()[0].clone();
    assert_eq!(query["Name"], "renamed");
    assert_eq!(query["Service"]["Service"], "db");
    assert_eq!(query["CreateIndex"].as_u64(), Some(created));
    assert!(query["ModifyIndex"].as_u64().unwrap() > created);

    let delete = call("DELETE", &agent.url(&format!("/v1/query/{id}")), None).await;
    assert_eq!(delete.status, 200, "{}", delete.body);
    assert_eq!(get(&agent.url("/v1/query")).await.json(), json!([]));
    let gone = get(&agent.url(&format!("/v1/query/{id}"))).await;
    assert_eq!((gone.status, gone.body.as_str()), (404, "Query not found"));
}

#[tokio::test]
async fn errors_have_consul_codes_and_texts() {
    let agent = TestAgent::start();
    for path in [
        "/v1/query/00000000-0000-0000-0000-000000000000",
        "/v1/query/nope/execute",
        "/v1/query/nope/explain",
    ] {
        let answer = get(&agent.url(path)).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.body, "Query not found");
    }
    let bad_json = call(
        "POST",
        &agent.url("/v1/query"),
        Some(b"{\"Service\":".to_vec()),
    )
    .await;
    assert_eq!(bad_json.status, 400);
    assert!(
        bad_json.body.starts_with("Request decode failed"),
        "{}",
        bad_json.body
    );
    let wrong_type = post(
        &agent.url("/v1/query"),
        json!({"Service": {"OnlyPassing": "yes"}}),
    )
    .await;
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.body);

    let no_service = post(&agent.url("/v1/query"), json!({"Name": "x"})).await;
    assert_eq!(no_service.status, 500);
    assert_eq!(
        no_service.body,
        "Invalid prepared query: Must provide a Service name to query"
    );
    let bad_regexp = post(
        &agent.url("/v1/query"),
        json!({"Template": {"Type": "name_prefix_match", "Regexp": "("}, "Service": {"Service": "x"}}),
    )
    .await;
    assert_eq!(bad_regexp.status, 500);
    assert!(
        bad_regexp.body.starts_with("Bad Regexp"),
        "{}",
        bad_regexp.body
    );
    let bad_type = post(
        &agent.url("/v1/query"),
        json!({"Template": {"Type": "prefix"}, "Service": {"Service": "x"}}),
    )
    .await;
    assert_eq!(bad_type.body, "Bad Template.Type 'prefix'");
    let bad_ttl = post(
        &agent.url("/v1/query"),
        json!({"Service": {"Service": "x"}, "DNS": {"TTL": "soon"}}),
    )
    .await;
    assert!(
        bad_ttl.body.contains("Bad DNS TTL 'soon'"),
        "{}",
        bad_ttl.body
    );

    create(
        &agent,
        json!({"Name": "taken", "Service": {"Service": "x"}}),
    )
    .await;
    let duplicate = post(
        &agent.url("/v1/query"),
        json!({"Name": "TAKEN", "Service": {"Service": "y"}}),
    )
    .await;
    assert_eq!(duplicate.status, 500);
    assert_eq!(
        duplicate.body,
        "name 'TAKEN' aliases an existing query name"
    );
    let uuid_name = post(
        &agent.url("/v1/query"),
        json!({"Name": "00000000-0000-0000-0000-000000000000", "Service": {"Service": "y"}}),
    )
    .await;
    assert_eq!(uuid_name.status, 500);
    let bad_session = post(
        &agent.url("/v1/query"),
        json!({"Session": "nope", "Service": {"Service": "y"}}),
    )
    .await;
    assert_eq!(bad_session.body, "invalid session \"nope\"");

    let missing = "00000000-0000-0000-0000-000000000000";
    let update = put(
        &agent.url(&format!("/v1/query/{missing}")),
        json!({"Service": {"Service": "y"}}).to_string(),
    )
    .await;
    assert_eq!(update.status, 500);
    assert_eq!(
        update.body,
        format!("Cannot modify non-existent prepared query: '{missing}'")
    );
    let delete = call("DELETE", &agent.url(&format!("/v1/query/{missing}")), None).await;
    assert_eq!(delete.status, 500);
    let limit = get(&agent.url("/v1/query/taken/execute?limit=x")).await;
    assert_eq!(limit.status, 400);
}

#[tokio::test]
async fn execute_applies_each_filter() {
    let agent = TestAgent::start();
    populate(&agent).await;
    let id = create(
        &agent,
        json!({"Name": "web", "Service": {"Service": "web"}, "DNS": {"TTL": "7s"}}),
    )
    .await;

    // By ID and by name; critical instances are left out by default.
    assert_eq!(execute_ids(&agent, &id, "").await, ["web1", "web2", "web3"]);
    assert_eq!(
        execute_ids(&agent, "WEB", "").await,
        ["web1", "web2", "web3"]
    );

    let answer = get(&agent.url("/v1/query/web/execute")).await;
    let body = answer.json();
    assert_eq!(body["Service"], "web");
    assert_eq!(body["Datacenter"], "dc1");
    assert_eq!(body["Failovers"], 0);
    assert_eq!(body["DNS"]["TTL"], "7s");
    assert_eq!(body["KnownLeader"], true);
    assert!(answer.index() > 0);
    assert_eq!(body["Nodes"][0]["Node"]["Datacenter"], "dc1");

    let set = |service: Value| {
        let agent_url = agent.url(&format!("/v1/query/{id}"));
        async move {
            let body = json!({"Name": "web", "Service": service});
            let answer = put(&agent_url, body.to_string()).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
        }
    };
    set(json!({"Service": "web", "OnlyPassing": true})).await;
    assert_eq!(execute_ids(&agent, &id, "").await, ["web1", "web2"]);
    set(json!({"Service": "web", "IgnoreCheckIDs": ["chk-web4"]})).await;
    assert_eq!(
        execute_ids(&agent, &id, "").await,
        ["web1", "web2", "web3", "web4"]
    );
    set(json!({"Service": "web", "IgnoreCheckIDs": ["chk-web4"], "Tags": ["primary"]})).await;
    assert_eq!(execute_ids(&agent, &id, "").await, ["web1", "web4"]);
    set(json!({"Service": "web", "Tags": ["v1", "!primary"]})).await;
    assert_eq!(execute_ids(&agent, &id, "").await, ["web2"]);
    set(json!({"Service": "web", "NodeMeta": {"rack": "n3"}})).await;
    assert_eq!(execute_ids(&agent, &id, "").await, ["web3"]);
    set(json!({"Service": "web", "ServiceMeta": {"id": "web1"}})).await;
    assert_eq!(execute_ids(&agent, &id, "").await, ["web1"]);

    // Near: a named node first, ?near overriding the query's.
    set(json!({"Service": "web", "Near": "n3"})).await;
    for _ in 0..5 {
        let body = get(&agent.url(&format!("/v1/query/{id}/execute")))
            .await
            .json();
        assert_eq!(body["Nodes"][0]["Node"]["Node"], "n3");
        let body = get(&agent.url(&format!("/v1/query/{id}/execute?near=n2")))
            .await
            .json();
        assert_eq!(body["Nodes"][0]["Node"]["Node"], "n2");
    }
    // _ip: the node whose address sent the request (X-Forwarded-For first).
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let body: Value = client
            .get(agent.url(&format!("/v1/query/{id}/execute?near=_ip")))
            .header("X-Forwarded-For", "10.1.0.1, 127.0.0.1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["Nodes"][0]["Node"]["Node"], "n1");
    }
    // _agent: the agent's own node, once it runs a `web` instance.
    register(
        &agent,
        json!({"Node": agent.node_name, "Address": "127.0.0.1",
               "Service": {"ID": "web-local", "Service": "web", "Port": 81}}),
    )
    .await;
    for _ in 0..5 {
        let body = get(&agent.url(&format!("/v1/query/{id}/execute?near=_agent")))
            .await
            .json();
        assert_eq!(body["Nodes"][0]["Node"]["Node"], agent.node_name.as_str());
        // Without X-Forwarded-For, _ip is the peer's address: 127.0.0.1, this node's.
        let body = get(&agent.url(&format!("/v1/query/{id}/execute?near=_ip")))
            .await
            .json();
        assert_eq!(body["Nodes"][0]["Node"]["Node"], agent.node_name.as_str());
    }

    // ?limit cuts after the sort.
    let limited = get(&agent.url(&format!("/v1/query/{id}/execute?limit=2&near=n3")))
        .await
        .json();
    assert_eq!(limited["Nodes"].as_array().unwrap().len(), 2);
    assert_eq!(limited["Nodes"][0]["Node"]["Node"], "n3");

    // ?connect: only Connect-capable instances (none here).
    assert!(execute_ids(&agent, &id, "?connect=true").await.is_empty());

    // Failover to other datacenters finds nothing (there are none).
    set(json!({"Service": "missing", "Failover": {"NearestN": 2, "Datacenters": ["dc2"]}})).await;
    let body = get(&agent.url(&format!("/v1/query/{id}/execute")))
        .await
        .json();
    assert_eq!(body["Nodes"], json!([]));
    assert_eq!(body["Failovers"], 0);
}

#[tokio::test]
async fn templates_through_execute_and_explain() {
    let agent = TestAgent::start();
    populate(&agent).await;
    let catch_all = create(
        &agent,
        json!({"Name": "", "Template": {"Type": "name_prefix_match"}, "Service": {"Service": "${name.full}"}}),
    )
    .await;
    create(
        &agent,
        json!({"Name": "geo-", "Template": {"Type": "name_prefix_match", "Regexp": "^geo-([^-]+)-?(.*)$", "RemoveEmptyTags": true},
               "Service": {"Service": "${match(1)}", "Tags": ["${match(2)}"], "NodeMeta": {"rack": "${name.suffix}"}}}),
    )
    .await;

    // The catch-all: any name is a service name.
    assert_eq!(
        execute_ids(&agent, "web", "").await,
        ["web1", "web2", "web3"]
    );
    let explained = get(&agent.url("/v1/query/web/explain")).await;
    assert_eq!(explained.status, 200);
    let query = &explained.json()["Query"];
    assert_eq!(query["ID"], catch_all);
    assert_eq!(query["Service"]["Service"], "web");
    assert_eq!(query["Template"]["Type"], "name_prefix_match");
    // A template runs for names only.
    let by_id = get(&agent.url(&format!("/v1/query/{catch_all}/explain"))).await;
    assert_eq!(by_id.status, 500);
    assert_eq!(
        by_id.body,
        "prepared query templates can only be resolved up by name, not by ID"
    );

    // The longer prefix wins; its regexp's groups and the suffix are interpolated.
    let explained = get(&agent.url("/v1/query/geo-web-primary/explain"))
        .await
        .json();
    let query = &explained["Query"];
    assert_eq!(query["Name"], "geo-");
    assert_eq!(query["Service"]["Service"], "web");
    assert_eq!(query["Service"]["Tags"], json!(["primary"]));
    assert_eq!(query["Service"]["NodeMeta"], json!({"rack": "web-primary"}));
    assert!(explained["Index"].as_u64().unwrap() > 0);

    // An empty group is dropped with RemoveEmptyTags.
    let explained = get(&agent.url("/v1/query/geo-web/explain")).await.json();
    assert_eq!(explained["Query"]["Service"]["Tags"], json!([]));

    // Executed: the NodeMeta (rack = suffix) matches nothing here, so drop it.
    let update = put(
        &agent.url(&format!("/v1/query/{catch_all}")),
        json!({"Name": "", "Template": {"Type": "name_prefix_match", "Regexp": "^(.*)-v(.)$"},
               "Service": {"Service": "${match(1)}", "Tags": ["v${match(2)}"]}})
        .to_string(),
    )
    .await;
    assert_eq!(update.status, 200, "{}", update.body);
    assert_eq!(execute_ids(&agent, "web-v1", "").await, ["web1", "web2"]);
    assert_eq!(execute_ids(&agent, "web-v2", "").await, ["web3"]);
}

#[tokio::test]
async fn list_blocks_until_a_query_changes() {
    let agent = TestAgent::start();
    let first = get(&agent.url("/v1/query")).await;
    let index = first.index();
    let url = agent.url(&format!("/v1/query?index={index}&wait=30s"));
    let started = Instant::now();
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the blocking list answered at once");
    // A KV write elsewhere does not answer it.
    put(&agent.url("/v1/kv/unrelated"), "x").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "a KV write woke the query list");
    create(&agent, json!({"Name": "q", "Service": {"Service": "web"}})).await;
    let answer = waiter.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(answer.index() > index);
    assert_eq!(answer.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_query_goes_with_its_session() {
    let agent = TestAgent::start();
    let session = put(&agent.url("/v1/session/create"), "{}").await.json()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    let id = create(
        &agent,
        json!({"Name": "tied", "Session": session, "Service": {"Service": "web"}}),
    )
    .await;
    assert_eq!(
        get(&agent.url(&format!("/v1/query/{id}"))).await.status,
        200
    );
    put(&agent.url(&format!("/v1/session/destroy/{session}")), "").await;
    assert_eq!(
        get(&agent.url(&format!("/v1/query/{id}"))).await.status,
        404
    );
}

#[tokio::test]
async fn dns_answers_query_names() {
    let agent = TestAgent::start();
    populate(&agent).await;
    create(
        &agent,
        json!({"Name": "web-q", "Service": {"Service": "web", "OnlyPassing": true}, "DNS": {"TTL": "17s"}}),
    )
    .await;
    create(
        &agent,
        json!({"Name": "tpl-", "Template": {"Type": "name_prefix_match"}, "Service": {"Service": "${name.suffix}", "Tags": ["v2"]}}),
    )
    .await;

    let a = dig(agent.dns_port, &["web-q.query.consul", "A"]);
    assert_eq!(a.status, "NOERROR", "{}", a.raw);
    let mut addresses = a.answers("A");
    addresses.sort();
    assert_eq!(addresses, ["10.1.0.1", "10.1.0.2"]);
    assert!(a.answer.iter().all(|rr| rr.ttl == 17), "{}", a.raw);

    let srv = dig(agent.dns_port, &["_web-q._tcp.query.consul", "SRV"]);
    assert_eq!(srv.status, "NOERROR", "{}", srv.raw);
    let mut targets = srv.answers("SRV");
    targets.sort();
    assert_eq!(
        targets,
        ["1 1 80 n1.node.dc1.consul.", "1 1 80 n2.node.dc1.consul."]
    );
    let glue = srv.additional.iter().filter(|rr| rr.kind == "A").count();
    assert_eq!(glue, 2, "{}", srv.raw);

    let dc = dig(agent.dns_port, &["web-q.query.dc1.consul", "A"]);
    assert_eq!(dc.answers("A").len(), 2, "{}", dc.raw);

    // A template resolved by prefix; TTL falls back to the service TTL (0).
    let tpl = dig(agent.dns_port, &["tpl-web.query.consul", "A"]);
    assert_eq!(tpl.answers("A"), ["10.1.0.3"], "{}", tpl.raw);
    assert_eq!(tpl.answer[0].ttl, 0);

    // Near "_ip": the node at the EDNS Client Subnet address comes first.
    create(
        &agent,
        json!({"Name": "near-ip", "Service": {"Service": "web", "Near": "_ip"}}),
    )
    .await;
    for _ in 0..5 {
        let near = dig(
            agent.dns_port,
            &["near-ip.query.consul", "A", "+subnet=10.1.0.2/32"],
        );
        assert_eq!(
            near.answers("A").first().map(String::as_str),
            Some("10.1.0.2"),
            "{}",
            near.raw
        );
    }

    let missing = dig(agent.dns_port, &["nothing.query.consul", "A"]);
    assert_eq!(missing.status, "NXDOMAIN");
    let other_dc = dig(agent.dns_port, &["web-q.query.dc2.consul", "A"]);
    assert_eq!(other_dc.status, "NXDOMAIN");
}
