//! Connect intentions and the CA configuration against a real agent: by name and by ID,
//! precedence in `check` and `match`, blocking on the table, and under ACLs
//! (`default_policy = "deny"`) the `intentions` and `operator` grants and the filtered
//! list.

use std::time::Duration;

use proconsul_tests::{Answer, TempDir, TestAgent, call_with_token, write_file};
use serde_json::{Value, json};

const ROOT: &str = "7c2e61a4-3b1f-4d0e-9a57-1f2e3d4c5b6a";

async fn call(
    agent: &TestAgent,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Answer {
    let body = body.map(|body| body.to_string().into_bytes());
    call_with_token(method, &agent.url(path), Some(token), body).await
}

async fn upsert(
    agent: &TestAgent,
    token: &str,
    source: &str,
    destination: &str,
    action: &str,
) -> Answer {
    let path = format!("/v1/connect/intentions/exact?source={source}&destination={destination}");
    call(
        agent,
        "PUT",
        &path,
        token,
        Some(json!({"Action": action, "SourceType": "consul"})),
    )
    .await
}

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

async fn allowed(agent: &TestAgent, token: &str, source: &str, destination: &str) -> bool {
    let path = format!("/v1/connect/intentions/check?source={source}&destination={destination}");
    let answer = call(agent, "GET", &path, token, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["Allowed"].as_bool().unwrap()
}

#[tokio::test]
async fn intentions_by_name_and_by_id_with_precedence() {
    let agent = TestAgent::start();
    let token = "";
    assert_eq!(
        upsert(&agent, token, "web", "db", "allow").await.body,
        "true"
    );
    assert_eq!(upsert(&agent, token, "*", "db", "deny").await.status, 200);
    assert!(allowed(&agent, token, "web", "db").await);
    assert!(!allowed(&agent, token, "api", "db").await);
    // No intention at all: allowed, as without ACLs.
    assert!(allowed(&agent, token, "api", "cache").await);

    let read = call(
        &agent,
        "GET",
        "/v1/connect/intentions/exact?source=web&destination=db",
        token,
        None,
    )
    .await;
    let read = read.json();
    assert_eq!(read["SourceName"], "web");
    assert_eq!(read["Action"], "allow");
    assert_eq!(read["Precedence"], 9);
    assert!(
        read.get("ID").is_none(),
        "intentions by name have no ID: {read}"
    );
    // Consul's `structs.Intention` keys: ID, Description and Meta are omitted when empty.
    assert_eq!(
        keys(&read),
        [
            "Action",
            "CreateIndex",
            "DestinationNS",
            "DestinationName",
            "ModifyIndex",
            "Precedence",
            "SourceNS",
            "SourceName",
            "SourceType",
        ]
    );
    // Bodies decode as Go decodes them: names in any case, null as the zero value (so
    // the default source type), unknown fields ignored.
    let go_body = call(
        &agent,
        "PUT",
        "/v1/connect/intentions/exact?source=api&destination=web",
        token,
        Some(json!({"action": "deny", "source_type": null, "Meta": null, "Unknown": 1})),
    )
    .await;
    assert_eq!(go_body.status, 200, "{}", go_body.body);
    let decoded = call(
        &agent,
        "GET",
        "/v1/connect/intentions/exact?source=api&destination=web",
        token,
        None,
    )
    .await
    .json();
    assert_eq!(
        (decoded["Action"].as_str(), decoded["SourceType"].as_str()),
        (Some("deny"), Some("consul"))
    );
    assert!(
        call(
            &agent,
            "DELETE",
            "/v1/connect/intentions/exact?source=api&destination=web",
            token,
            None
        )
        .await
        .status
            == 200
    );

    let matched = call(
        &agent,
        "GET",
        "/v1/connect/intentions/match?by=destination&name=db",
        token,
        None,
    )
    .await;
    let matched = matched.json();
    let sources: Vec<&str> = matched["db"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["SourceName"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["web", "*"], "highest precedence first");

    // The deprecated ID API: create, read, rename by ID, delete.
    let created = call(
        &agent,
        "POST",
        "/v1/connect/intentions",
        token,
        Some(json!({"SourceName": "api", "DestinationName": "cache", "Action": "deny"})),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.json()["ID"].as_str().unwrap().to_string();
    let duplicate = call(
        &agent,
        "POST",
        "/v1/connect/intentions",
        token,
        Some(json!({"SourceName": "api", "DestinationName": "cache", "Action": "allow"})),
    )
    .await;
    assert_eq!(duplicate.status, 500, "{}", duplicate.body);
    let by_id = call(
        &agent,
        "GET",
        &format!("/v1/connect/intentions/{id}"),
        token,
        None,
    )
    .await
    .json();
    assert_eq!(by_id["DestinationName"], "cache");
    let renamed = call(
        &agent,
        "PUT",
        &format!("/v1/connect/intentions/{id}"),
        token,
        Some(json!({"SourceName": "api", "DestinationName": "queue", "Action": "allow"})),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let by_id = call(
        &agent,
        "GET",
        &format!("/v1/connect/intentions/{id}"),
        token,
        None,
    )
    .await
    .json();
    assert_eq!(
        (by_id["DestinationName"].as_str(), by_id["ID"].as_str()),
        (Some("queue"), Some(id.as_str()))
    );

    // A blocking list wakes on a write.
    let list = call(&agent, "GET", "/v1/connect/intentions", token, None).await;
    assert_eq!(list.json().as_array().unwrap().len(), 3);
    let index = list.index();
    let blocked = {
        let url = agent.url(&format!("/v1/connect/intentions?index={index}&wait=10s"));
        tokio::spawn(async move { proconsul_tests::get(&url).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let deleted = call(
        &agent,
        "DELETE",
        &format!("/v1/connect/intentions/{id}"),
        token,
        None,
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let woke = blocked.await.unwrap();
    assert!(woke.index() > index);
    assert_eq!(woke.json().as_array().unwrap().len(), 2);

    let gone = call(
        &agent,
        "DELETE",
        "/v1/connect/intentions/exact?source=web&destination=db",
        token,
        None,
    )
    .await;
    assert_eq!(gone.body, "true");
    let missing = call(
        &agent,
        "GET",
        "/v1/connect/intentions/exact?source=web&destination=db",
        token,
        None,
    )
    .await;
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (404, "Intention not found")
    );
    let bad = upsert(&agent, token, "web", "db", "maybe").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let no_source = call(
        &agent,
        "GET",
        "/v1/connect/intentions/check?destination=db",
        token,
        None,
    )
    .await;
    assert_eq!(no_source.status, 400);

    // The CA configuration: the built-in provider's defaults, then what was written.
    let config = call(&agent, "GET", "/v1/connect/ca/configuration", token, None)
        .await
        .json();
    assert_eq!(config["Provider"], "consul");
    assert_eq!(
        keys(&config),
        [
            "Config",
            "CreateIndex",
            "ForceWithoutCrossSigning",
            "ModifyIndex",
            "Provider",
            "State",
        ]
    );
    assert_eq!(config["Config"]["LeafCertTTL"], "72h");
    let set = call(
        &agent,
        "PUT",
        "/v1/connect/ca/configuration",
        token,
        Some(json!({"Provider": "consul", "Config": {"LeafCertTTL": "24h"}})),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let config = call(&agent, "GET", "/v1/connect/ca/configuration", token, None)
        .await
        .json();
    assert_eq!(config["Config"]["LeafCertTTL"], "24h");
    let vault = call(
        &agent,
        "PUT",
        "/v1/connect/ca/configuration",
        token,
        Some(json!({"Provider": "vault", "Config": {}})),
    )
    .await;
    assert_eq!(vault.status, 400, "{}", vault.body);
}

#[tokio::test]
async fn intentions_under_acls() {
    let dir = TempDir::new("intentions-acl");
    let config = json!({"primary_datacenter": "dc1",
        "acl": {"enabled": true, "default_policy": "deny", "tokens": {"initial_management": ROOT}}});
    let file = write_file(dir.path(), "acl.json", &config.to_string());
    let agent = TestAgent::start_with(&["-config-file", &file, "-dns-port=-1"]);
    for (source, destination) in [("web", "db"), ("web", "secret")] {
        assert_eq!(
            upsert(&agent, ROOT, source, destination, "allow")
                .await
                .status,
            200
        );
    }
    let rules = r#"service "db" { policy = "read" intentions = "read" }"#;
    let policy = call(
        &agent,
        "PUT",
        "/v1/acl/policy",
        ROOT,
        Some(json!({"Name": "db-reader", "Rules": rules})),
    )
    .await;
    assert_eq!(policy.status, 200, "{}", policy.body);
    let token = call(
        &agent,
        "PUT",
        "/v1/acl/token",
        ROOT,
        Some(json!({"Policies": [{"Name": "db-reader"}]})),
    )
    .await;
    let reader = token.json()["SecretID"].as_str().unwrap().to_string();

    let list = call(&agent, "GET", "/v1/connect/intentions", &reader, None).await;
    assert_eq!(list.status, 200);
    let names: Vec<String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["DestinationName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["db"]);
    assert!(!list.body.contains("secret"));
    assert_eq!(
        list.headers
            .get("x-consul-results-filtered-by-acls")
            .unwrap(),
        "true"
    );
    let hidden = call(
        &agent,
        "GET",
        "/v1/connect/intentions/exact?source=web&destination=secret",
        &reader,
        None,
    )
    .await;
    assert_eq!(hidden.status, 403, "{}", hidden.body);
    let write = upsert(&agent, &reader, "api", "db", "allow").await;
    assert_eq!(write.status, 403, "{}", write.body);
    assert!(write.body.contains("intention:write"), "{}", write.body);
    // check: allowed by the intention; without one, the default policy (deny) decides.
    assert!(allowed(&agent, &reader, "web", "db").await);
    assert!(!allowed(&agent, &reader, "api", "db").await);
    let config = call(&agent, "GET", "/v1/connect/ca/configuration", &reader, None).await;
    assert_eq!(config.status, 403, "{}", config.body);
    let anonymous = call(&agent, "GET", "/v1/connect/intentions", "", None).await;
    assert_eq!(anonymous.json(), json!([]));
}
