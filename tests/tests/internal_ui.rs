//! `/v1/internal/ui/*` (the web UI's reads) against a real dev agent: Consul's shapes and
//! counts, blocking queries, and ACL filtering.

use std::time::{Duration, Instant};

use proconsul_tests::{Answer, TempDir, TestAgent, call_with_token, get, put, write_file};
use serde_json::{Value, json};

/// Two `web` instances on two nodes (tags `b,a` and `a,c`, both from nomad), a passing
/// check on the first, a critical node check on the second node, and a `db` on the first.
async fn register_web_and_db(agent: &TestAgent, token: Option<&str>) {
    let registrations = [
        json!({"Node": "n1", "Address": "10.0.0.1", "NodeMeta": {"rack": "r1"},
               "Service": {"ID": "web1", "Service": "web", "Port": 80, "Tags": ["b", "a"],
                           "Meta": {"external-source": "nomad"}},
               "Check": {"CheckID": "web1-http", "Name": "http", "ServiceID": "web1",
                         "Status": "passing"}}),
        json!({"Node": "n2", "Address": "10.0.0.2",
               "Service": {"ID": "web2", "Service": "web", "Port": 80, "Tags": ["a", "c"],
                           "Meta": {"external-source": "nomad"}},
               "Check": {"CheckID": "disk", "Name": "disk", "Status": "critical"}}),
        json!({"Node": "n1", "Address": "10.0.0.1", "NodeMeta": {"rack": "r1"},
               "Service": {"ID": "db", "Service": "db", "Port": 5432},
               "Check": {"CheckID": "db-tcp", "Name": "tcp", "ServiceID": "db",
                         "Status": "warning"}}),
    ];
    for registration in registrations {
        let answer = call_with_token(
            "PUT",
            &agent.url("/v1/catalog/register"),
            token,
            Some(registration.to_string().into_bytes()),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}

/// The entry named `name` in a list of summaries or node infos.
fn named<'a>(list: &'a Value, field: &str, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|entry| entry[field] == name)
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn services_nodes_and_the_overview_in_consuls_shapes() {
    let agent = TestAgent::start();
    register_web_and_db(&agent, None).await;

    let services = get(&agent.url("/v1/internal/ui/services")).await;
    assert_eq!(services.status, 200);
    assert!(services.index() > 1);
    let services = services.json();
    let names: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["consul", "db", "web"]);
    // Both instances; tags united and sorted; the node check of n2 counted with the
    // instance check of web1; no Kind for a typical service.
    assert_eq!(
        named(&services, "Name", "web"),
        &json!({"Name": "web", "Datacenter": "dc1", "Tags": ["a", "b", "c"],
                "Nodes": ["n1", "n2"], "ExternalSources": ["nomad"], "InstanceCount": 2,
                "ChecksPassing": 1, "ChecksWarning": 0, "ChecksCritical": 1,
                "GatewayConfig": {}, "TransparentProxy": false, "ConnectNative": false,
                "ConnectedWithProxy": false, "ConnectedWithGateway": false})
    );
    let db = named(&services, "Name", "db");
    assert_eq!(db["Tags"], Value::Null);
    assert_eq!(db["ExternalSources"], Value::Null);
    assert_eq!(
        (db["ChecksPassing"].clone(), db["ChecksWarning"].clone()),
        (json!(0), json!(1))
    );

    // ?filter sees instances as /v1/health/service shows them.
    let filtered =
        get(&agent.url("/v1/internal/ui/services?filter=Service.Tags%20contains%20%22c%22"))
            .await
            .json();
    assert_eq!(filtered.as_array().unwrap().len(), 1, "{filtered}");
    assert_eq!(filtered[0]["Nodes"], json!(["n2"]));
    assert_eq!(filtered[0]["InstanceCount"], 1);
    let other_dc = get(&agent.url("/v1/internal/ui/services?dc=dc9")).await;
    assert_eq!(other_dc.status, 500);
    assert_eq!(other_dc.body, "No path to datacenter");

    let nodes = get(&agent.url("/v1/internal/ui/nodes")).await.json();
    let node_names: Vec<&str> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["Node"].as_str().unwrap())
        .collect();
    let mut sorted = node_names.clone();
    sorted.sort();
    assert_eq!(node_names, sorted);
    assert_eq!(node_names.len(), 3, "{nodes}");
    let n1 = named(&nodes, "Node", "n1");
    assert_eq!(
        keys(n1),
        [
            "Address",
            "Checks",
            "ID",
            "Meta",
            "Node",
            "Services",
            "TaggedAddresses"
        ]
    );
    assert_eq!(n1["Address"], "10.0.0.1");
    assert_eq!(n1["Meta"], json!({"rack": "r1"}));
    let ids: Vec<&Value> = n1["Services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["ID"])
        .collect();
    assert_eq!(ids, [&json!("db"), &json!("web1")]);
    assert_eq!(n1["Services"][1]["Tags"], json!(["b", "a"]));
    let n2 = named(&nodes, "Node", "n2");
    assert_eq!(n2["Checks"][0]["CheckID"], "disk");
    assert_eq!(n2["Checks"][0]["Status"], "critical");
    let by_meta = get(&agent.url("/v1/internal/ui/nodes?filter=Meta.rack%20%3D%3D%20%22r1%22"))
        .await
        .json();
    assert_eq!(by_meta.as_array().unwrap().len(), 1);
    assert_eq!(by_meta[0]["Node"], "n1");

    let one = get(&agent.url("/v1/internal/ui/node/n2")).await;
    assert_eq!(one.status, 200);
    assert_eq!(&one.json(), n2);
    let unknown = get(&agent.url("/v1/internal/ui/node/nope")).await;
    assert_eq!((unknown.status, unknown.body.as_str()), (404, ""));
    assert!(unknown.index() > 1);
    let unnamed = get(&agent.url("/v1/internal/ui/node/")).await;
    assert_eq!(
        (unnamed.status, unnamed.body.as_str()),
        (400, "Missing node name")
    );

    // Nodes by their node checks (n2 critical), instances by their own checks (web2 has
    // none: passing), checks by name.
    let overview = get(&agent.url("/v1/internal/ui/catalog-overview"))
        .await
        .json();
    assert_eq!(
        overview["Nodes"],
        json!([{"Total": 3, "Passing": 2, "Warning": 0, "Critical": 1}])
    );
    assert_eq!(
        overview["Services"],
        json!([
            {"Name": "consul", "Total": 1, "Passing": 1, "Warning": 0, "Critical": 0},
            {"Name": "db", "Total": 1, "Passing": 0, "Warning": 1, "Critical": 0},
            {"Name": "web", "Total": 2, "Passing": 2, "Warning": 0, "Critical": 0}])
    );
    assert_eq!(
        named(&overview["Checks"], "Name", "disk"),
        &json!({"Name": "disk", "Total": 1, "Passing": 0, "Warning": 0, "Critical": 1})
    );

    let topology = get(&agent.url("/v1/internal/ui/service-topology/web?kind="))
        .await
        .json();
    assert_eq!(
        topology,
        json!({"Protocol": "tcp", "TransparentProxy": false, "Upstreams": [],
               "Downstreams": [], "FilteredByACLs": false})
    );
    for (path, text) in [
        (
            "/v1/internal/ui/service-topology/web",
            "Missing service kind",
        ),
        (
            "/v1/internal/ui/service-topology/web?kind=mesh-gateway",
            "Unsupported service kind \"mesh-gateway\"",
        ),
        ("/v1/internal/ui/service-topology/", "Missing service name"),
    ] {
        let refused = get(&agent.url(path)).await;
        assert_eq!(
            (refused.status, refused.body.as_str()),
            (400, text),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_service_list_blocks_until_the_catalog_changes() {
    let agent = TestAgent::start();
    let first = get(&agent.url("/v1/internal/ui/services")).await;
    let index = first.index();

    // Unchanged: the wait runs out and the index stays.
    let started = Instant::now();
    let idle = get(&agent.url(&format!("/v1/internal/ui/services?index={index}&wait=1s"))).await;
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(idle.index(), index);

    let url = agent.url(&format!("/v1/internal/ui/services?index={index}&wait=30s"));
    let started = Instant::now();
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "returned before any change");
    let registration = json!({"Node": "n1", "Address": "10.0.0.1",
                              "Service": {"ID": "web1", "Service": "web", "Port": 80}});
    put(&agent.url("/v1/catalog/register"), registration.to_string()).await;
    let answer = waiter.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(answer.index() > index);
    assert_eq!(named(&answer.json(), "Name", "web")["InstanceCount"], 1);

    // The node list wakes on a check change too.
    let index = get(&agent.url("/v1/internal/ui/nodes")).await.index();
    let url = agent.url(&format!("/v1/internal/ui/nodes?index={index}&wait=30s"));
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "returned before any change");
    let check = json!({"Node": "n1", "Address": "10.0.0.1",
                       "Check": {"CheckID": "mem", "Name": "mem", "Status": "warning"}});
    put(&agent.url("/v1/catalog/register"), check.to_string()).await;
    let answer = waiter.await.unwrap();
    assert!(answer.index() > index);
    assert_eq!(
        named(&answer.json(), "Node", "n1")["Checks"][0]["CheckID"],
        "mem"
    );
}

const MANAGEMENT: &str = "a1b2c3d4-0000-4000-8000-00000000cafe";

/// A dev agent with ACLs on (`default_policy = "deny"`), once its management token works.
async fn start_acl_agent() -> (TestAgent, TempDir) {
    let dir = TempDir::new("ui-acl");
    let config = json!({"acl": {"enabled": true, "default_policy": "deny",
                                "tokens": {"initial_management": MANAGEMENT}}});
    let file = write_file(dir.path(), "acl.json", &config.to_string());
    let agent = TestAgent::start_with(&["-config-file", &file]);
    for _ in 0..100 {
        let url = agent.url("/v1/acl/token/self");
        if call_with_token("GET", &url, Some(MANAGEMENT), None)
            .await
            .status
            == 200
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (agent, dir)
}

/// A token carrying a policy with `rules`.
async fn token_with(agent: &TestAgent, rules: &str) -> String {
    let manage = |path: &str, body: Value| {
        let url = agent.url(path);
        async move {
            let answer = call_with_token(
                "PUT",
                &url,
                Some(MANAGEMENT),
                Some(body.to_string().into_bytes()),
            )
            .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.json()
        }
    };
    let policy = manage(
        "/v1/acl/policy",
        json!({"Name": "ui-reader", "Rules": rules}),
    )
    .await;
    let token = manage("/v1/acl/token", json!({"Policies": [{"ID": policy["ID"]}]})).await;
    token["SecretID"].as_str().unwrap().to_string()
}

fn filtered_header(answer: &Answer) -> Option<&str> {
    answer
        .headers
        .get("x-consul-results-filtered-by-acls")
        .map(|value| value.to_str().unwrap())
}

#[tokio::test]
async fn acls_leave_out_what_the_token_may_not_read_and_say_so() {
    let (agent, _dir) = start_acl_agent().await;
    register_web_and_db(&agent, Some(MANAGEMENT)).await;
    let reader = token_with(
        &agent,
        "service \"web\" { policy = \"read\" }\nnode_prefix \"\" { policy = \"read\" }",
    )
    .await;
    let read = |path: &str, token: Option<&str>| {
        let url = agent.url(path);
        let token = token.map(str::to_string);
        async move { call_with_token("GET", &url, token.as_deref(), None).await }
    };

    let services = read("/v1/internal/ui/services", Some(&reader)).await;
    assert_eq!(services.status, 200);
    assert_eq!(filtered_header(&services), Some("true"));
    let list = services.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["Name"], "web");
    assert_eq!(list[0]["InstanceCount"], 2);
    assert_eq!(list[0]["ChecksCritical"], 1);
    assert!(!services.body.contains("db"), "{}", services.body);
    // A filter cannot bring back what ACLs removed.
    let probe = read(
        "/v1/internal/ui/services?filter=Service.Service%20%3D%3D%20%22db%22",
        Some(&reader),
    )
    .await;
    assert_eq!(probe.json(), json!([]));
    assert_eq!(filtered_header(&probe), Some("true"));

    // Nodes are readable, but db and its check are not.
    let nodes = read("/v1/internal/ui/nodes", Some(&reader)).await;
    assert_eq!(filtered_header(&nodes), Some("true"));
    assert!(!nodes.body.contains("\"db"), "{}", nodes.body);
    let n1 = named(&nodes.json(), "Node", "n1").clone();
    assert_eq!(n1["Services"].as_array().unwrap().len(), 1);
    assert_eq!(n1["Checks"].as_array().unwrap().len(), 1);
    assert_eq!(n1["Checks"][0]["CheckID"], "web1-http");
    let one = read("/v1/internal/ui/node/n1", Some(&reader)).await;
    assert_eq!(one.json(), n1);

    // The overview needs operator:read; the topology service:read on the service.
    let overview = read("/v1/internal/ui/catalog-overview", Some(&reader)).await;
    assert_eq!(overview.status, 403, "{}", overview.body);
    assert!(
        overview.body.contains("'operator:read'"),
        "{}",
        overview.body
    );
    let denied = read("/v1/internal/ui/service-topology/db?kind=", Some(&reader)).await;
    assert_eq!(denied.status, 403);
    assert!(
        denied.body.contains("'service:read' on \"db\""),
        "{}",
        denied.body
    );
    let allowed = read("/v1/internal/ui/service-topology/web?kind=", Some(&reader)).await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);

    // Anonymous sees nothing, and is not told.
    for path in ["/v1/internal/ui/services", "/v1/internal/ui/nodes"] {
        let anonymous = read(path, None).await;
        assert_eq!(anonymous.json(), json!([]), "{path}");
        assert_eq!(filtered_header(&anonymous), None, "{path}");
    }
    let hidden = read("/v1/internal/ui/node/n1", None).await;
    assert_eq!((hidden.status, hidden.body.as_str()), (404, ""));

    // The management token sees everything, unfiltered.
    let all = read("/v1/internal/ui/services", Some(MANAGEMENT)).await;
    assert_eq!(filtered_header(&all), None);
    assert_eq!(all.json().as_array().unwrap().len(), 3);
    let overview = read("/v1/internal/ui/catalog-overview", Some(MANAGEMENT)).await;
    assert_eq!(overview.status, 200);
    assert_eq!(overview.json()["Nodes"][0]["Total"], 3);
}
