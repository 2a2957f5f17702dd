//! `/v1/agent` service and check registration against a real dev agent.

use proconsul_tests::{TestAgent, call, get, put};
use serde_json::json;

#[tokio::test]
async fn register_a_service_with_a_ttl_check_and_drive_it() {
    let agent = TestAgent::start();
    let body = json!({
        "Name": "api", "ID": "api-1", "Tags": ["v2"], "Port": 9000, "Address": "127.0.0.2",
        "Meta": {"team": "core"},
        "Check": {"TTL": "15s", "Notes": "heartbeat"}
    });
    let answer = put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["api-1"]["Service"], "api");
    assert_eq!(services["api-1"]["Port"], 9000);
    assert_eq!(
        services["api-1"]["Weights"],
        json!({"Passing": 1, "Warning": 1})
    );
    let one = get(&agent.url("/v1/agent/service/api-1")).await.json();
    assert_eq!(one["Meta"]["team"], "core");
    assert!(one["ContentHash"].is_string());
    assert_eq!(get(&agent.url("/v1/agent/service/nope")).await.status, 404);

    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    let check = &checks["service:api-1"];
    assert_eq!(check["Status"], "critical");
    assert_eq!(check["Type"], "ttl");
    assert_eq!(check["ServiceName"], "api");
    assert_eq!(check["Name"], "Service 'api' check");
    assert_eq!(
        get(&agent.url("/v1/health/service/api?passing"))
            .await
            .json(),
        json!([])
    );

    let pass = put(
        &agent.url("/v1/agent/check/pass/service:api-1?note=all%20good"),
        "",
    )
    .await;
    assert_eq!(pass.status, 200, "{}", pass.body);
    let healthy = get(&agent.url("/v1/health/service/api?passing"))
        .await
        .json();
    assert_eq!(healthy.as_array().unwrap().len(), 1);
    assert_eq!(healthy[0]["Checks"][1]["Output"], "all good");

    put(&agent.url("/v1/agent/check/warn/service:api-1"), "").await;
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(checks["service:api-1"]["Status"], "warning");

    let update = json!({"Status": "critical", "Output": "down"}).to_string();
    assert_eq!(
        put(&agent.url("/v1/agent/check/update/service:api-1"), update)
            .await
            .status,
        200
    );
    let state = get(&agent.url("/v1/health/state/critical")).await.json();
    assert_eq!(state[0]["Output"], "down");
    let bad = put(
        &agent.url("/v1/agent/check/update/service:api-1"),
        r#"{"Status":"meh"}"#,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        put(&agent.url("/v1/agent/check/pass/nope"), "")
            .await
            .status,
        404
    );

    let gone = put(&agent.url("/v1/agent/service/deregister/api-1"), "").await;
    assert_eq!(gone.status, 200);
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json(),
        json!({})
    );
    assert_eq!(get(&agent.url("/v1/agent/checks")).await.json(), json!({}));
    assert_eq!(
        get(&agent.url("/v1/catalog/service/api")).await.json(),
        json!([])
    );
    assert_eq!(
        put(&agent.url("/v1/agent/service/deregister/api-1"), "")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn patroni_style_lowercase_body_with_slash_in_id() {
    let agent = TestAgent::start();
    let body = json!({
        "name": "pg", "id": "scope/pg0", "address": "127.0.0.1", "port": 5432,
        "tags": ["master"], "enabletagoverride": true,
        "check": {"http": "http://127.0.0.1:8008/master", "interval": "5s",
                  "deregistercriticalserviceafter": "150.0s"}
    });
    let answer = put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["scope/pg0"]["EnableTagOverride"], true);
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(checks["service:scope/pg0"]["Type"], "http");
    assert_eq!(checks["service:scope/pg0"]["Interval"], "5s");
    // Patroni deregisters with GET.
    let gone = get(&agent.url("/v1/agent/service/deregister/scope/pg0")).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json(),
        json!({})
    );
}

#[tokio::test]
async fn multiple_checks_get_numbered_ids_and_can_be_replaced() {
    let agent = TestAgent::start();
    let body = json!({"Name": "db", "Checks": [{"TTL": "10s"}, {"TTL": "20s", "CheckID": "db-custom", "Name": "custom"}]});
    assert_eq!(
        put(&agent.url("/v1/agent/service/register"), body.to_string())
            .await
            .status,
        200
    );
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert!(checks.get("service:db:1").is_some(), "{checks}");
    assert!(checks.get("db-custom").is_some(), "{checks}");

    let body =
        json!({"Name": "db", "Checks": [{"TTL": "10s", "CheckID": "db-custom", "Name": "custom"}]});
    let url = agent.url("/v1/agent/service/register?replace-existing-checks=true");
    assert_eq!(put(&url, body.to_string()).await.status, 200);
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(checks.as_object().unwrap().len(), 1, "{checks}");
    let catalog = get(&agent.url("/v1/health/checks/db")).await.json();
    assert_eq!(catalog.as_array().unwrap().len(), 1, "{catalog}");
}

#[tokio::test]
async fn standalone_checks_register_and_deregister() {
    let agent = TestAgent::start();
    let body = json!({"Name": "disk", "TTL": "30s", "Status": "passing"});
    assert_eq!(
        put(&agent.url("/v1/agent/check/register"), body.to_string())
            .await
            .status,
        200
    );
    let checks = get(&agent.url(&format!("/v1/health/node/{}", agent.node_name)))
        .await
        .json();
    let ids: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["CheckID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["disk", "serfHealth"]);
    assert_eq!(checks[0]["Status"], "passing");

    let bound = json!({"Name": "x", "TTL": "30s", "ServiceID": "missing"});
    // Consul 1.11+ answers 404 for a check bound to an unknown service.
    assert_eq!(
        put(&agent.url("/v1/agent/check/register"), bound.to_string())
            .await
            .status,
        404
    );

    assert_eq!(
        put(&agent.url("/v1/agent/check/deregister/disk"), "")
            .await
            .status,
        200
    );
    assert_eq!(
        put(&agent.url("/v1/agent/check/deregister/disk"), "")
            .await
            .status,
        404
    );
    let checks = get(&agent.url(&format!("/v1/health/node/{}", agent.node_name)))
        .await
        .json();
    assert_eq!(checks.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_registrations_are_refused_with_reasons() {
    let agent = TestAgent::start();
    let cases = [
        (json!({"Port": 80}), "Missing service name"),
        (
            json!({"Name": "x", "Check": {"Interval": "10s"}}),
            "Invalid check",
        ),
        (
            json!({"Name": "x", "Check": {"TTL": "ten seconds"}}),
            "Invalid check",
        ),
        (
            json!({"Name": "x", "Check": {"HTTP": "http://127.0.0.1:1/"}}),
            "Interval must be > 0",
        ),
        (
            json!({"Name": "x", "Check": {"Args": ["/bin/true"], "Interval": "10s"}}),
            "Scripts are disabled",
        ),
        (
            json!({"Name": "x", "Check": {"DockerContainerID": "abc", "Interval": "10s"}}),
            "Docker",
        ),
        (
            json!({"Name": "x", "Port": "eighty"}),
            "Request decode failed",
        ),
    ];
    for (body, message) in cases {
        let answer = put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.body);
        assert!(answer.body.contains(message), "{body}: {}", answer.body);
    }
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json(),
        json!({})
    );
}

#[tokio::test]
async fn wrong_methods_get_405_with_allow() {
    let agent = TestAgent::start();
    let answer = get(&agent.url("/v1/agent/service/register")).await;
    assert_eq!(answer.status, 405);
    assert!(
        answer.headers.get("allow").is_some(),
        "{:?}",
        answer.headers
    );
    let answer = call("POST", &agent.url("/v1/kv/x"), Some(b"1".to_vec())).await;
    assert_eq!(answer.status, 405);
    assert_eq!(get(&agent.url("/v1/no/such/thing")).await.status, 404);
}

#[tokio::test]
async fn ttl_checks_expire_to_critical_unless_renewed() {
    let agent = TestAgent::start();
    // A TTL long enough that renewals every 400 ms keep it passing on a loaded machine.
    let body = json!({"Name": "beat", "TTL": "2s", "Status": "passing"});
    assert_eq!(
        put(&agent.url("/v1/agent/check/register"), body.to_string())
            .await
            .status,
        200
    );
    let status = |checks: serde_json::Value| checks["beat"]["Status"].as_str().unwrap().to_string();
    assert_eq!(
        status(get(&agent.url("/v1/agent/checks")).await.json()),
        "passing"
    );
    // Renewing keeps it passing past its first deadline.
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(
            put(&agent.url("/v1/agent/check/pass/beat"), "")
                .await
                .status,
            200
        );
    }
    assert_eq!(
        status(get(&agent.url("/v1/agent/checks")).await.json()),
        "passing"
    );
    // Without renewals it expires.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let checks = loop {
        let checks = get(&agent.url("/v1/agent/checks")).await.json();
        if status(checks.clone()) == "critical" {
            break checks;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never expired: {checks}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(checks["beat"]["Output"], "TTL expired");
    // The catalog follows.
    loop {
        let catalog = get(&agent.url("/v1/health/state/critical")).await.json();
        if catalog[0]["CheckID"] == "beat" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "catalog: {catalog}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A pass brings it back.
    put(&agent.url("/v1/agent/check/pass/beat"), "").await;
    assert_eq!(
        status(get(&agent.url("/v1/agent/checks")).await.json()),
        "passing"
    );
}

#[tokio::test]
async fn maintenance_mode_is_a_critical_check() {
    let agent = TestAgent::start();
    let body = json!({"Name": "db", "ID": "db-1", "Check": {"TTL": "60s", "Status": "passing"}});
    put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
    assert_eq!(
        get(&agent.url("/v1/health/service/db?passing"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let on = put(
        &agent.url("/v1/agent/service/maintenance/db-1?enable=true&reason=upgrade"),
        "",
    )
    .await;
    assert_eq!(on.status, 200, "{}", on.body);
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    let maintenance = &checks["_service_maintenance:db-1"];
    assert_eq!(maintenance["Status"], "critical");
    assert_eq!(maintenance["Notes"], "upgrade");
    assert_eq!(maintenance["ServiceID"], "db-1");
    assert_eq!(
        get(&agent.url("/v1/health/service/db?passing"))
            .await
            .json(),
        json!([])
    );
    put(
        &agent.url("/v1/agent/service/maintenance/db-1?enable=false"),
        "",
    )
    .await;
    assert!(
        get(&agent.url("/v1/agent/checks"))
            .await
            .json()
            .get("_service_maintenance:db-1")
            .is_none()
    );
    assert_eq!(
        get(&agent.url("/v1/health/service/db?passing"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        put(&agent.url("/v1/agent/maintenance?enable=true"), "")
            .await
            .status,
        200
    );
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert!(
        checks["_node_maintenance"]["Notes"]
            .as_str()
            .unwrap()
            .contains("default message")
    );
    assert_eq!(
        get(&agent.url("/v1/health/service/db?passing"))
            .await
            .json(),
        json!([])
    );
    put(&agent.url("/v1/agent/maintenance?enable=false"), "").await;
    assert_eq!(
        get(&agent.url("/v1/health/service/db?passing"))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    assert_eq!(
        put(&agent.url("/v1/agent/maintenance"), "").await.status,
        400
    );
    assert_eq!(
        put(&agent.url("/v1/agent/maintenance?enable=maybe"), "")
            .await
            .status,
        400
    );
    assert_eq!(
        put(
            &agent.url("/v1/agent/service/maintenance/nope?enable=true"),
            ""
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn agent_health_endpoints_answer_with_status_codes() {
    let agent = TestAgent::start();
    for (id, status) in [("h-1", "passing"), ("h-2", "warning")] {
        let body = json!({"Name": "h", "ID": id, "Check": {"TTL": "60s", "Status": status}});
        put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
    }
    let one = get(&agent.url("/v1/agent/health/service/id/h-1")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["AggregatedStatus"], "passing");
    assert_eq!(one.json()["Service"]["ID"], "h-1");
    let text = get(&agent.url("/v1/agent/health/service/id/h-2?format=text")).await;
    assert_eq!((text.status, text.body.as_str()), (429, "warning"));
    let by_name = get(&agent.url("/v1/agent/health/service/name/h")).await;
    assert_eq!(by_name.status, 429, "the worst instance decides");
    assert_eq!(by_name.json().as_array().unwrap().len(), 2);
    put(&agent.url("/v1/agent/check/fail/service:h-1"), "").await;
    assert_eq!(
        get(&agent.url("/v1/agent/health/service/name/h?format=text"))
            .await
            .status,
        503
    );
    assert_eq!(
        get(&agent.url("/v1/agent/health/service/id/nope"))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&agent.url("/v1/agent/health/service/name/nope"))
            .await
            .status,
        404
    );
}

/// Force-leave of the agent's own (live) node is a no-op answering 200, as in Consul;
/// a name that is no member is an error naming it.
#[tokio::test]
async fn force_leave_of_own_node_is_accepted_and_unknown_names_are_not() {
    let agent = TestAgent::start();
    let name = get(&agent.url("/v1/agent/self")).await.json()["Config"]["NodeName"]
        .as_str()
        .unwrap()
        .to_string();
    for query in ["", "?prune=1"] {
        let own = put(
            &agent.url(&format!("/v1/agent/force-leave/{name}{query}")),
            "",
        )
        .await;
        assert_eq!(own.status, 200, "{}", own.body);
    }
    let unknown = put(&agent.url("/v1/agent/force-leave/no-such-node"), "").await;
    assert_eq!(unknown.status, 500);
    assert!(unknown.body.contains("no-such-node"), "{}", unknown.body);
    let members = get(&agent.url("/v1/agent/members")).await.json();
    assert_eq!(members[0]["Name"], name);
}
