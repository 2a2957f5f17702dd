//! `/v1/catalog` and `/v1/health` against a real dev agent.

use proconsul_tests::{TestAgent, get, put};
use serde_json::{Value, json};

#[tokio::test]
async fn a_pristine_dev_agent_looks_like_consul() {
    let agent = TestAgent::start();
    let nodes = get(&agent.url("/v1/catalog/nodes")).await.json();
    assert_eq!(nodes.as_array().unwrap().len(), 1);
    assert_eq!(nodes[0]["Node"], agent.node_name);
    assert_eq!(nodes[0]["Datacenter"], "dc1");
    assert_eq!(nodes[0]["Address"], "127.0.0.1");

    let services = get(&agent.url("/v1/catalog/services")).await.json();
    assert_eq!(services, json!({"consul": []}));
    assert_eq!(
        get(&agent.url("/v1/catalog/datacenters")).await.json(),
        json!(["dc1"])
    );

    let checks = get(&agent.url(&format!("/v1/health/node/{}", agent.node_name)))
        .await
        .json();
    assert_eq!(checks[0]["CheckID"], "serfHealth");
    assert_eq!(checks[0]["Status"], "passing");

    let consul = get(&agent.url("/v1/health/service/consul?passing"))
        .await
        .json();
    assert_eq!(consul.as_array().unwrap().len(), 1);
    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json(),
        json!({})
    );

    let leader = get(&agent.url("/v1/status/leader")).await.json();
    let peers = get(&agent.url("/v1/status/peers")).await.json();
    assert_eq!(peers, json!([leader.clone()]));

    let me = get(&agent.url("/v1/agent/self")).await.json();
    let mut keys: Vec<&String> = me.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "Config",
            "Coord",
            "DebugConfig",
            "Member",
            "Meta",
            "Stats",
            "xDS"
        ]
    );
    assert_eq!(me["Config"]["Datacenter"], "dc1");
    assert_eq!(me["Config"]["NodeName"], agent.node_name);
    assert_eq!(me["Stats"]["consul"]["leader_addr"], leader);

    let members = get(&agent.url("/v1/agent/members")).await.json();
    assert_eq!(members[0]["Name"], agent.node_name);
    assert_eq!(members[0]["Status"], 1);
}

fn registration(node: &str, service_id: &str, tags: &[&str], status: &str) -> Value {
    json!({
        "Node": node,
        "Address": "10.1.1.1",
        "NodeMeta": {"rack": "r1"},
        "Service": {"ID": service_id, "Service": "web", "Tags": tags, "Port": 8080,
                    "Meta": {"version": "2"}},
        "Check": {"CheckID": format!("check-{service_id}"), "Name": "web check",
                  "ServiceID": service_id, "Status": status}
    })
}

#[tokio::test]
async fn register_query_and_deregister_through_the_catalog() {
    let agent = TestAgent::start();
    let body = registration("ext1", "web1", &["v1", "primary"], "passing");
    let answer = put(&agent.url("/v1/catalog/register"), body.to_string()).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "true"));
    let body = registration("ext2", "web2", &["v1"], "critical");
    assert_eq!(
        put(&agent.url("/v1/catalog/register"), body.to_string())
            .await
            .body,
        "true"
    );

    let rows = get(&agent.url("/v1/catalog/service/web")).await.json();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["ServiceID"], "web1");
    assert_eq!(rows[0]["ServicePort"], 8080);
    assert_eq!(rows[0]["NodeMeta"]["rack"], "r1");
    assert_eq!(rows[0]["ServiceMeta"]["version"], "2");

    let tagged = get(&agent.url("/v1/catalog/service/web?tag=v1&tag=primary"))
        .await
        .json();
    assert_eq!(tagged.as_array().unwrap().len(), 1);
    assert_eq!(tagged[0]["Node"], "ext1");

    let services = get(&agent.url("/v1/catalog/services")).await.json();
    assert_eq!(services["web"], json!(["primary", "v1"]));

    let all = get(&agent.url("/v1/health/service/web")).await.json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["Service"]["ID"], "web1");
    assert_eq!(all[0]["Node"]["Node"], "ext1");
    assert_eq!(all[0]["Checks"][0]["ServiceName"], "web");
    let passing = get(&agent.url("/v1/health/service/web?passing"))
        .await
        .json();
    assert_eq!(passing.as_array().unwrap().len(), 1);
    assert_eq!(passing[0]["Node"]["Node"], "ext1");
    let by_meta = get(&agent.url("/v1/health/service/web?node-meta=rack:r1"))
        .await
        .json();
    assert_eq!(by_meta.as_array().unwrap().len(), 2);
    let no_meta = get(&agent.url("/v1/health/service/web?node-meta=rack:r9"))
        .await
        .json();
    assert_eq!(no_meta, json!([]));

    let critical = get(&agent.url("/v1/health/state/critical")).await.json();
    assert_eq!(critical.as_array().unwrap().len(), 1);
    assert_eq!(critical[0]["CheckID"], "check-web2");
    let any = get(&agent.url("/v1/health/state/any")).await.json();
    assert_eq!(any.as_array().unwrap().len(), 3);
    assert_eq!(get(&agent.url("/v1/health/state/bogus")).await.status, 400);
    let checks = get(&agent.url("/v1/health/checks/web")).await.json();
    assert_eq!(checks.as_array().unwrap().len(), 2);

    let node = get(&agent.url("/v1/catalog/node/ext1")).await.json();
    assert_eq!(node["Node"]["Node"], "ext1");
    assert_eq!(node["Services"]["web1"]["Service"], "web");
    let list = get(&agent.url("/v1/catalog/node-services/ext1"))
        .await
        .json();
    assert_eq!(list["Services"][0]["ID"], "web1");
    assert_eq!(
        get(&agent.url("/v1/catalog/node/nope")).await.json(),
        json!(null)
    );
    assert_eq!(
        get(&agent.url("/v1/catalog/node-services/nope"))
            .await
            .status,
        404
    );

    let answer = put(
        &agent.url("/v1/catalog/deregister"),
        json!({"Node": "ext2", "ServiceID": "web2"}).to_string(),
    )
    .await;
    assert_eq!(answer.body, "true");
    let rows = get(&agent.url("/v1/catalog/service/web")).await.json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(
        get(&agent.url("/v1/health/state/critical")).await.json(),
        json!([])
    );

    put(
        &agent.url("/v1/catalog/deregister"),
        json!({"Node": "ext1"}).to_string(),
    )
    .await;
    assert_eq!(
        get(&agent.url("/v1/catalog/service/web")).await.json(),
        json!([])
    );
    let nodes: Vec<String> = get(&agent.url("/v1/catalog/nodes"))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["Node"].as_str().unwrap().to_string())
        .collect();
    assert!(!nodes.contains(&"ext1".to_string()), "{nodes:?}");
    assert!(nodes.contains(&"ext2".to_string()), "{nodes:?}");
}

#[tokio::test]
async fn catalog_refuses_incomplete_registrations() {
    let agent = TestAgent::start();
    let cases = [
        (json!({"Address": "1.2.3.4"}), "Must provide node"),
        (json!({"Node": "x"}), "Must provide address"),
        (
            json!({"Node": "x", "Address": "1.2.3.4", "Service": {"Port": 1}}),
            "Must provide service name",
        ),
    ];
    for (body, message) in cases {
        let answer = put(&agent.url("/v1/catalog/register"), body.to_string()).await;
        assert_eq!((answer.status, answer.body.as_str()), (400, message));
    }
    let other_dc = json!({"Node": "x", "Address": "1.2.3.4", "Datacenter": "dc9"});
    let answer = put(&agent.url("/v1/catalog/register"), other_dc.to_string()).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (500, "No path to datacenter")
    );
    let answer = get(&agent.url("/v1/catalog/nodes?dc=dc9")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        get(&agent.url("/v1/catalog/nodes?dc=dc1")).await.status,
        200
    );
}

#[tokio::test]
async fn filter_expressions_select_results() {
    let agent = TestAgent::start();
    for (node, tags) in [("f1", json!(["prod"])), ("f2", json!(["staging"]))] {
        let body = json!({"Node": node, "Address": "10.0.0.1", "NodeMeta": {"env": node},
                          "Service": {"Service": "web", "Tags": tags}});
        put(&agent.url("/v1/catalog/register"), body.to_string()).await;
    }
    let url = |path: &str, filter: &str| {
        agent.url(&format!(
            "{path}?filter={}",
            filter.replace(' ', "%20").replace('"', "%22")
        ))
    };
    let nodes = get(&url("/v1/catalog/nodes", r#"Node == "f1""#))
        .await
        .json();
    assert_eq!(nodes.as_array().unwrap().len(), 1);
    let services = get(&url("/v1/catalog/services", r#""prod" in ServiceTags"#))
        .await
        .json();
    assert_eq!(services, json!({"web": ["prod"]}));
    let rows = get(&url("/v1/catalog/service/web", r#"NodeMeta.env == "f2""#))
        .await
        .json();
    assert_eq!(rows[0]["Node"], "f2");
    let entries = get(&url(
        "/v1/health/service/web",
        r#""staging" in Service.Tags and Node.Node matches "^f""#,
    ))
    .await
    .json();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(entries[0]["Node"]["Node"], "f2");
    let bad = get(&url("/v1/catalog/nodes", "not a valid expression((")).await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body
            .starts_with("Failed to create boolean expression evaluator"),
        "{}",
        bad.body
    );
}

#[tokio::test]
async fn connect_endpoints_list_proxies_and_native_services() {
    let agent = TestAgent::start();
    let register = |body: serde_json::Value| {
        let url = agent.url("/v1/agent/service/register");
        async move { put(&url, body.to_string()).await }
    };
    assert_eq!(
        register(json!({"Name": "web", "Port": 8080})).await.status,
        200
    );
    let proxy = json!({"Name": "web-sidecar-proxy", "Kind": "connect-proxy", "Port": 21000,
                       "Proxy": {"DestinationServiceName": "web", "LocalServicePort": 8080},
                       "Locality": {"Region": "us-west-1", "Zone": "us-west-1a"}});
    assert_eq!(register(proxy).await.status, 200);
    assert_eq!(
        register(json!({"Name": "api", "Port": 9000, "Connect": {"Native": true}}))
            .await
            .status,
        200
    );

    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(
        services["web-sidecar-proxy"]["Proxy"]["DestinationServiceName"],
        "web"
    );
    assert_eq!(
        services["web-sidecar-proxy"]["Locality"]["Zone"],
        "us-west-1a"
    );

    let rows = get(&agent.url("/v1/catalog/connect/web")).await.json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["ServiceID"], "web-sidecar-proxy");
    assert_eq!(rows[0]["ServiceProxy"]["LocalServicePort"], 8080);
    let native = get(&agent.url("/v1/health/connect/api")).await.json();
    assert_eq!(native[0]["Service"]["ID"], "api");
    assert_eq!(
        get(&agent.url("/v1/health/connect/nothing")).await.json(),
        json!([])
    );

    let no_destination = json!({"Name": "p", "Kind": "connect-proxy", "Port": 1});
    assert_eq!(register(no_destination).await.status, 400);
    let sidecar = json!({"Name": "s", "Connect": {"SidecarService": {}}});
    assert_eq!(register(sidecar).await.status, 400);
}

#[tokio::test]
async fn reused_health_answers_follow_their_parameters_and_changes() {
    let agent = TestAgent::start();
    for (node, id, status) in [("n1", "web-1", "passing"), ("n2", "web-2", "critical")] {
        let answer = put(
            &agent.url("/v1/catalog/register"),
            registration(node, id, &["v1"], status).to_string(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let count = |body: Value| body.as_array().map(Vec::len).unwrap_or(0);
    // The same questions asked twice, interleaved: each keeps its own answer.
    for _ in 0..2 {
        let all = get(&agent.url("/v1/health/service/web")).await.json();
        assert_eq!(count(all), 2);
        let passing = get(&agent.url("/v1/health/service/web?passing"))
            .await
            .json();
        assert_eq!(count(passing), 1);
        let filtered =
            get(&agent.url("/v1/health/service/web?filter=Service.ID%20%3D%3D%20%22web-2%22"))
                .await
                .json();
        assert_eq!(filtered[0]["Service"]["ID"], "web-2");
        let pretty = get(&agent.url("/v1/health/service/web?passing&pretty")).await;
        assert!(pretty.body.contains("\n"), "{}", pretty.body);
    }
    // A change moves the service's index: the reused answer is replaced.
    let healed = put(
        &agent.url("/v1/catalog/register"),
        registration("n2", "web-2", &["v1"], "passing").to_string(),
    )
    .await;
    assert_eq!(healed.status, 200);
    let passing = get(&agent.url("/v1/health/service/web?passing"))
        .await
        .json();
    assert_eq!(count(passing), 2);
}
