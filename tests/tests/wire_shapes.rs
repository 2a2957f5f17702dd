//! Golden shapes: the exact key set of every answer, as Go's `encoding/json` writes
//! Consul's structs (fields left out when empty per `omitempty`, fields a shape adds),
//! for a pristine agent and for a service with every field set. A field added to a wire
//! type, or an `omitempty` rule lost, fails here.

use std::collections::BTreeSet;

use proconsul_tests::{TestAgent, get, put};
use serde_json::{Value, json};

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[track_caller]
fn assert_keys(value: &Value, expected: &[&str]) {
    let expected: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(keys(value), expected, "in {value}");
}

const NODE: &[&str] = &[
    "ID",
    "Node",
    "Address",
    "Datacenter",
    "TaggedAddresses",
    "Meta",
    "CreateIndex",
    "ModifyIndex",
];

/// `structs.HealthCheck`.
const CHECK: &[&str] = &[
    "Node",
    "CheckID",
    "Name",
    "Status",
    "Notes",
    "Output",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
    "Type",
    "Interval",
    "Timeout",
    "ExposedPort",
    "Definition",
    "CreateIndex",
    "ModifyIndex",
];

/// `api.AgentService` of a plain service: what Consul 1.22's `/v1/agent/services` sends.
const AGENT_SERVICE_PLAIN: &[&str] = &[
    "ID",
    "Service",
    "Tags",
    "Meta",
    "Port",
    "Address",
    "Weights",
    "EnableTagOverride",
    "Datacenter",
];

/// `structs.NodeService` with every field we hold set.
const NODE_SERVICE_FULL: &[&str] = &[
    "ID",
    "Service",
    "Tags",
    "Address",
    "TaggedAddresses",
    "Meta",
    "Port",
    "Weights",
    "EnableTagOverride",
    "Proxy",
    "Connect",
    "PeerName",
    "CreateIndex",
    "ModifyIndex",
];

/// `structs.ServiceNode` with every field we hold set.
const SERVICE_NODE_FULL: &[&str] = &[
    "ID",
    "Node",
    "Address",
    "Datacenter",
    "TaggedAddresses",
    "NodeMeta",
    "ServiceKind",
    "ServiceID",
    "ServiceName",
    "ServiceTags",
    "ServiceAddress",
    "ServiceTaggedAddresses",
    "ServiceWeights",
    "ServiceMeta",
    "ServicePort",
    "ServiceSocketPath",
    "ServiceEnableTagOverride",
    "ServiceProxy",
    "ServiceConnect",
    "ServiceLocality",
    "CreateIndex",
    "ModifyIndex",
];

fn full_registration() -> Value {
    json!({
        "ID": "web-1", "Name": "web", "Tags": ["v1", "primary"], "Address": "10.1.2.3",
        "Port": 8080, "EnableTagOverride": true, "Meta": {"version": "1"},
        "Weights": {"Passing": 10, "Warning": 1},
        "TaggedAddresses": {"lan": {"Address": "10.1.2.3", "Port": 8080}},
        "Check": {
            "Name": "web health", "HTTP": "http://127.0.0.1:1/health", "Interval": "90s",
            "Timeout": "5s", "DeregisterCriticalServiceAfter": "10m", "Notes": "n"
        }
    })
}

#[tokio::test]
async fn a_pristine_agent_answers_in_consuls_shapes() {
    let agent = TestAgent::start();
    let node = &agent.node_name;

    assert_eq!(
        get(&agent.url("/v1/agent/services")).await.json(),
        json!({})
    );
    assert_eq!(get(&agent.url("/v1/agent/checks")).await.json(), json!({}));

    let nodes = get(&agent.url("/v1/catalog/nodes")).await.json();
    assert_keys(&nodes[0], NODE);

    let serf = get(&agent.url(&format!("/v1/health/node/{node}")))
        .await
        .json();
    assert_keys(&serf[0], CHECK);
    // Consul leaves a zero duration out of the definition; "" would not parse in Go.
    assert_eq!(serf[0]["Definition"], json!({}));

    let consul = get(&agent.url("/v1/health/service/consul")).await.json();
    assert_keys(&consul[0], &["Node", "Service", "Checks"]);
    assert_keys(&consul[0]["Node"], NODE);
    // The consul service has a port and no tagged addresses.
    let mut expected: Vec<&str> = NODE_SERVICE_FULL.to_vec();
    expected.retain(|key| *key != "TaggedAddresses");
    assert_keys(&consul[0]["Service"], &expected);
    assert_eq!(consul[0]["Service"]["Proxy"]["MeshGateway"], json!({}));
    assert_eq!(consul[0]["Service"]["Connect"], json!({}));

    let node_services = get(&agent.url(&format!("/v1/catalog/node/{node}")))
        .await
        .json();
    assert_keys(&node_services, &["Node", "Services"]);
    assert_keys(&node_services["Node"], NODE);
    let list = get(&agent.url(&format!("/v1/catalog/node-services/{node}")))
        .await
        .json();
    assert_keys(&list, &["Node", "Services"]);
}

#[tokio::test]
async fn a_fully_populated_service_answers_in_consuls_shapes() {
    let agent = TestAgent::start();
    let node = agent.node_name.clone();
    let registered = put(
        &agent.url("/v1/agent/service/register"),
        full_registration().to_string(),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);

    // The agent's own view: api.AgentService.
    let services = get(&agent.url("/v1/agent/services")).await.json();
    let mut agent_full: Vec<&str> = AGENT_SERVICE_PLAIN.to_vec();
    agent_full.push("TaggedAddresses");
    assert_keys(&services["web-1"], &agent_full);
    let one = get(&agent.url("/v1/agent/service/web-1")).await.json();
    agent_full.push("ContentHash");
    assert_keys(&one, &agent_full);

    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    let check = &checks["service:web-1"];
    assert_keys(check, CHECK);
    assert_keys(
        &check["Definition"],
        &[
            "HTTP",
            "Interval",
            "Timeout",
            "DeregisterCriticalServiceAfter",
        ],
    );
    assert_eq!(check["Definition"]["Interval"], "1m30s");
    assert_eq!(
        check["Definition"]["DeregisterCriticalServiceAfter"],
        "10m0s"
    );
    assert_eq!(check["Interval"], "1m30s");

    let by_name = get(&agent.url("/v1/agent/health/service/name/web"))
        .await
        .json();
    assert_keys(&by_name[0], &["AggregatedStatus", "Service", "Checks"]);
    agent_full.pop();
    assert_keys(&by_name[0]["Service"], &agent_full);

    // The catalog's views: structs.NodeService and structs.ServiceNode.
    let health = get(&agent.url("/v1/health/service/web")).await.json();
    assert_keys(&health[0]["Service"], NODE_SERVICE_FULL);
    for check in health[0]["Checks"].as_array().unwrap() {
        assert_keys(check, CHECK);
    }
    let catalog = get(&agent.url("/v1/catalog/service/web")).await.json();
    assert_keys(&catalog[0], SERVICE_NODE_FULL);
    assert_eq!(catalog[0]["ServiceLocality"], Value::Null);

    let checks = get(&agent.url("/v1/health/checks/web")).await.json();
    assert_keys(&checks[0], CHECK);
    let any = get(&agent.url("/v1/health/state/any")).await.json();
    for check in any.as_array().unwrap() {
        assert_keys(check, CHECK);
    }
    let node_services = get(&agent.url(&format!("/v1/catalog/node/{node}")))
        .await
        .json();
    assert_keys(&node_services["Services"]["web-1"], NODE_SERVICE_FULL);
    let list = get(&agent.url(&format!("/v1/catalog/node-services/{node}")))
        .await
        .json();
    let web = list["Services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|service| service["ID"] == "web-1")
        .expect("web-1 listed");
    assert_keys(web, NODE_SERVICE_FULL);
}

#[tokio::test]
async fn kv_sessions_and_events_answer_in_consuls_shapes() {
    let agent = TestAgent::start();
    const KV: &[&str] = &[
        "LockIndex",
        "Key",
        "Flags",
        "Value",
        "CreateIndex",
        "ModifyIndex",
    ];
    put(&agent.url("/v1/kv/plain"), "v").await;
    let plain = get(&agent.url("/v1/kv/plain")).await.json();
    assert_keys(&plain[0], KV);

    let created = put(
        &agent.url("/v1/session/create"),
        json!({"Name": "s", "Node": null, "Behavior": null}).to_string(),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.json()["ID"].as_str().unwrap().to_string();
    let held = put(&agent.url(&format!("/v1/kv/held?acquire={id}")), "v").await;
    assert_eq!(held.body, "true");
    let held = get(&agent.url("/v1/kv/held")).await.json();
    let mut with_session = KV.to_vec();
    with_session.push("Session");
    assert_keys(&held[0], &with_session);

    let info = get(&agent.url(&format!("/v1/session/info/{id}")))
        .await
        .json();
    assert_keys(
        &info[0],
        &[
            "ID",
            "Name",
            "Node",
            "LockDelay",
            "Behavior",
            "TTL",
            "NodeChecks",
            "ServiceChecks",
            "CreateIndex",
            "ModifyIndex",
        ],
    );
    assert_eq!(info[0]["Node"], agent.node_name);
    // A nil Go slice: `null`, not `[]`.
    assert_eq!(info[0]["ServiceChecks"], Value::Null);

    let fired = put(&agent.url("/v1/event/fire/deploy"), "x").await.json();
    let event_keys = [
        "ID",
        "Name",
        "Payload",
        "NodeFilter",
        "ServiceFilter",
        "TagFilter",
        "Version",
        "LTime",
    ];
    assert_keys(&fired, &event_keys);
    let listed = get(&agent.url("/v1/event/list")).await.json();
    assert_keys(&listed[0], &event_keys);
}

#[tokio::test]
async fn requests_decode_as_go_decodes_them() {
    let agent = TestAgent::start();
    // null is the zero value; names match without case; unknown fields are ignored.
    let body = json!({
        "name": "api", "ID": null, "PORT": 9000, "tags": null, "Meta": null,
        "Weights": null, "Connect": null, "NoSuchField": [1, 2],
        "check": {"ttl": "30s", "Notes": null, "status": "passing"}
    });
    let answer = put(&agent.url("/v1/agent/service/register"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let services = get(&agent.url("/v1/agent/services")).await.json();
    assert_eq!(services["api"]["Port"], 9000);
    assert_eq!(services["api"]["Tags"], json!([]));
    let checks = get(&agent.url("/v1/agent/checks")).await.json();
    assert_eq!(checks["service:api"]["Status"], "passing");

    // A wrong type is a 400 with Consul's prefix, not a panic.
    let answer = put(
        &agent.url("/v1/agent/service/register"),
        json!({"Name": "x", "Port": "eighty"}).to_string(),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.starts_with("Request decode failed"),
        "{}",
        answer.body
    );
}

/// `PUT /v1/txn` answers with `structs.TxnResponse`: the results in the server structs'
/// shapes (a service with its empty `Proxy`/`Connect` and default weights, a node with its
/// datacenter, a check with `null` tags) and `Errors: null`.
#[tokio::test]
async fn transaction_results_answer_in_consuls_shapes() {
    let agent = TestAgent::start();
    let body = json!([
        {"KV": {"Verb": "set", "Key": "k", "Value": "dg=="}},
        {"Node": {"Verb": "set", "Node": {"Node": "n1", "Address": "10.0.0.1"}}},
        {"Service": {"Verb": "set", "Node": "n1",
                     "Service": {"ID": "web1", "Service": "web", "Port": 80,
                                 "Weights": {"Passing": 0, "Warning": 0}}}},
        {"Check": {"Verb": "set", "Check": {"Node": "n1", "CheckID": "c1", "Name": "c",
                                            "Status": "", "Definition": {"TCP": "10.0.0.1:80"}}}}
    ]);
    let answer = put(&agent.url("/v1/txn"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = answer.json();
    assert_keys(&answer, &["Results", "Errors"]);
    assert_eq!(answer["Errors"], Value::Null);
    let results = answer["Results"].as_array().unwrap();
    assert_keys(
        &results[0]["KV"],
        &[
            "LockIndex",
            "Key",
            "Flags",
            "Value",
            "CreateIndex",
            "ModifyIndex",
        ],
    );
    assert_keys(&results[1]["Node"], NODE);
    assert_eq!(results[1]["Node"]["Datacenter"], "dc1");
    let plain_node_service: Vec<&str> = NODE_SERVICE_FULL
        .iter()
        .copied()
        .filter(|key| *key != "TaggedAddresses")
        .collect();
    let service = &results[2]["Service"];
    assert_keys(service, &plain_node_service);
    assert_eq!(service["Weights"], json!({"Passing": 1, "Warning": 1}));
    assert_eq!(
        service["Proxy"],
        json!({"Mode": "", "MeshGateway": {}, "Expose": {}})
    );
    assert_eq!(service["Connect"], json!({}));
    let check = &results[3]["Check"];
    assert_keys(check, CHECK);
    assert_eq!(check["ServiceTags"], Value::Null);
    assert_eq!(check["Status"], "critical");
    assert_eq!(check["Type"], "tcp");
}
