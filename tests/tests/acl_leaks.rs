//! The ACL leak matrix: every route the agent serves (read from the router's source, so
//! a new route is covered without touching this file) × tokens of every kind, against
//! an agent with `default_policy = "deny"` holding data marked `LEAK...` that none of
//! the tokens but management may see. Asserted for every request:
//! - no answer of a token without the grant carries a marker (or its base64, for KV
//!   values and event payloads), whatever the status;
//! - an unknown secret is refused with 403 `ACL not found`;
//! - writes by tokens without the grant change nothing (checked once the whole matrix
//!   ran, with the management token), and none of them stops the agent.

use std::collections::BTreeSet;
use std::path::Path;

use proconsul_tests::dig::dig;
use proconsul_tests::{Answer, TestAgent, call};
use serde_json::{Value, json};

const MANAGEMENT: &str = "a1b2c3d4-0000-4000-8000-00000000beef";
const UNKNOWN: &str = "0badc0de-0000-4000-8000-000000000000";
/// In every hidden object; `TEVBS0` is the start of the base64 of "LEAK".
const MARKERS: [&str; 2] = ["LEAK", "TEVBS0"];

/// One route as the router declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    method: String,
    path: String,
}

/// Every `.timed_route("path", get(..).put(..)...)` in the agent's HTTP sources.
fn routes() -> BTreeSet<Route> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/agent/src/http");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the agent's http sources") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let mut rest = source.as_str();
        while let Some(start) = rest.find(".timed_route(") {
            rest = &rest[start + ".timed_route(".len()..];
            let call = balanced(rest);
            let Some(quote) = call.find('"') else {
                continue;
            };
            let after = &call[quote + 1..];
            let end = after.find('"').unwrap();
            let route_path = &after[..end];
            let handlers = &after[end + 1..];
            // A client agent's pass-through to a server (the server's own route is in the
            // matrix; a client refuses to start with ACLs on).
            if handlers.contains("forward::forward") {
                continue;
            }
            for method in ["get", "put", "post", "delete", "any"] {
                let pattern = format!("{method}(");
                let found = handlers.match_indices(&pattern).any(|(at, _)| {
                    at == 0
                        || !handlers.as_bytes()[at - 1].is_ascii_alphanumeric()
                            && handlers.as_bytes()[at - 1] != b'_'
                });
                if found {
                    let methods: &[&str] = if method == "any" {
                        &["GET", "PUT", "DELETE"]
                    } else {
                        &[method]
                    };
                    for m in methods {
                        routes.insert(Route {
                            method: m.to_uppercase(),
                            path: route_path.to_string(),
                        });
                    }
                }
            }
        }
    }
    routes
}

/// The text up to the parenthesis that closes the one just opened.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..at];
                }
            }
            _ => {}
        }
    }
    text
}

/// The IDs the seeded hidden objects got.
struct Seeded {
    session: String,
    query: String,
    intention: String,
}

/// `path` with its parameters naming the hidden objects.
fn concrete(path: &str, seeded: &Seeded) -> String {
    let Some(open) = path.find('{') else {
        return path.to_string();
    };
    let close = path[open..].find('}').unwrap() + open;
    let prefix = &path[..open];
    let value = if prefix.contains("/kv/") {
        "secret/k".to_string()
    } else if prefix.contains("/session/node") {
        "secret-node".to_string()
    } else if prefix.contains("/session/") {
        seeded.session.clone()
    } else if prefix.contains("/query/") {
        seeded.query.clone()
    } else if prefix.contains("/connect/intentions/") {
        seeded.intention.clone()
    } else if prefix.contains("/event/") {
        "secret-evt".to_string()
    } else if prefix.contains("/agent/check/") {
        "secret-check".to_string()
    } else if prefix.contains("/agent/service/") || prefix.contains("/agent/health/service/") {
        "secret-local".to_string()
    } else if prefix.contains("/state/") {
        "any".to_string()
    } else if prefix.contains("/join/") {
        "127.0.0.1:1".to_string()
    } else if prefix.contains("/agent/token/") {
        "default".to_string()
    } else if prefix.contains("/acl/") {
        "00000000-0000-0000-0000-000000000001".to_string()
    } else if prefix.contains("node") {
        "secret-node".to_string()
    } else {
        "secret-svc".to_string()
    };
    let rest = concrete(&path[close + 1..], seeded);
    format!("{prefix}{value}{rest}")
}

/// A body that would change a hidden object, were the write allowed.
fn body_for(route: &Route) -> Option<Vec<u8>> {
    if route.method == "GET" || route.method == "DELETE" {
        return None;
    }
    let path = route.path.as_str();
    let body = if path.starts_with("/v1/kv/") {
        "overwritten".to_string()
    } else if path == "/v1/catalog/register" {
        json!({"Node": "secret-node", "Address": "1.1.1.1",
               "Service": {"ID": "secret-svc", "Service": "secret-svc", "Port": 1}})
        .to_string()
    } else if path == "/v1/catalog/deregister" {
        json!({"Node": "secret-node"}).to_string()
    } else if path == "/v1/agent/service/register" {
        json!({"Name": "secret-local", "ID": "secret-local", "Port": 1}).to_string()
    } else if path == "/v1/agent/check/register" {
        json!({"Name": "c", "ID": "secret-check", "ServiceID": "secret-local", "TTL": "1m"})
            .to_string()
    } else if path == "/v1/txn" {
        json!([{"KV": {"Verb": "set", "Key": "secret/k", "Value": "b3Zlcg=="}},
               {"KV": {"Verb": "get-tree", "Key": "secret/"}}])
        .to_string()
    } else if path == "/v1/session/create" {
        json!({"Node": "secret-node", "NodeChecks": []}).to_string()
    } else if path.starts_with("/v1/query") {
        json!({"Name": "secret-q", "Service": {"Service": "secret-svc"}}).to_string()
    } else if path.starts_with("/v1/connect/intentions") {
        json!({"SourceName": "pub-svc", "DestinationName": "secret-svc", "Action": "deny"})
            .to_string()
    } else if path == "/v1/coordinate/update" {
        json!({"Node": "secret-node", "Coord": {"Vec": vec![0.0; 8], "Error": 1.5,
               "Adjustment": 0.0, "Height": 1.0e-5}})
        .to_string()
    } else if path == "/v1/snapshot" {
        "not a snapshot".to_string()
    } else if path.starts_with("/v1/agent/token/") {
        json!({"Token": UNKNOWN}).to_string()
    } else {
        "{}".to_string()
    };
    Some(body.into_bytes())
}

/// Routes whose answer is a stream that stays open (`/v1/agent/monitor`,
/// `/v1/agent/metrics/stream`): a granted request is not read past its status, a
/// refusal is read whole.
fn is_stream(path: &str) -> bool {
    path == "/v1/agent/monitor" || path == "/v1/agent/metrics/stream"
}

async fn request(
    agent: &TestAgent,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Answer {
    let mut url = agent.url(path);
    if let Some(token) = token {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("token=");
        url.push_str(token);
    }
    if is_stream(path) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let response = reqwest::Client::new()
            .get(&url)
            .send()
            .await
            .expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // Dropping a granted stream unread closes it.
        let body = if status == 200 {
            String::new()
        } else {
            response.text().await.expect("cannot read body")
        };
        return Answer {
            status,
            headers,
            body,
        };
    }
    call(method, &url, body).await
}

async fn as_management(agent: &TestAgent, method: &str, path: &str, body: Value) -> Answer {
    let body = match body {
        Value::Null => None,
        Value::String(text) => Some(text.into_bytes()),
        other => Some(other.to_string().into_bytes()),
    };
    let answer = request(agent, method, path, Some(MANAGEMENT), body).await;
    assert!(
        answer.status < 300,
        "{method} {path}: {} {}",
        answer.status,
        answer.body
    );
    answer
}

/// A policy with `rules` and a token carrying it; the token's secret.
async fn token_with(agent: &TestAgent, name: &str, rules: &str) -> String {
    let policy = as_management(
        agent,
        "PUT",
        "/v1/acl/policy",
        json!({"Name": name, "Rules": rules}),
    )
    .await
    .json();
    let token = as_management(
        agent,
        "PUT",
        "/v1/acl/token",
        json!({"Description": name, "Policies": [{"ID": policy["ID"]}]}),
    )
    .await
    .json();
    token["SecretID"].as_str().unwrap().to_string()
}

/// The hidden objects (all marked) and their public twins.
async fn seed(agent: &TestAgent) -> Seeded {
    for (node, marker) in [("secret-node", "LEAKNODE"), ("pub-node", "visible")] {
        let service = node.replace("node", "svc");
        as_management(
            agent,
            "PUT",
            "/v1/catalog/register",
            json!({"Node": node, "Address": "10.9.9.9", "NodeMeta": {"marker": marker},
                   "Service": {"ID": service, "Service": service, "Port": 80,
                               "Meta": {"marker": marker}},
                   "Check": {"CheckID": format!("{service}-check"), "Name": "alive",
                             "ServiceID": service, "Status": "passing", "Output": marker}}),
        )
        .await;
    }
    as_management(agent, "PUT", "/v1/kv/secret/k", json!("LEAKKV")).await;
    as_management(agent, "PUT", "/v1/kv/pub/k", json!("visible")).await;
    let session = as_management(
        agent,
        "PUT",
        "/v1/session/create",
        json!({"Node": "secret-node", "Name": "LEAKSESSION", "NodeChecks": []}),
    )
    .await
    .json()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    as_management(agent, "PUT", "/v1/event/fire/secret-evt", json!("LEAKEVT")).await;
    let query = as_management(
        agent,
        "POST",
        "/v1/query",
        json!({"Name": "secret-q", "Service": {"Service": "secret-svc", "Tags": ["LEAKQ"]}}),
    )
    .await
    .json()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    as_management(
        agent,
        "PUT",
        "/v1/agent/service/register",
        json!({"Name": "secret-local", "ID": "secret-local", "Port": 81,
               "Meta": {"marker": "LEAKLOCAL"},
               "Check": {"CheckID": "secret-check", "TTL": "10m", "Notes": "LEAKNOTE"}}),
    )
    .await;
    let intention = as_management(
        agent,
        "POST",
        "/v1/connect/intentions",
        json!({"SourceName": "pub-svc", "DestinationName": "secret-svc", "Action": "allow",
               "Description": "LEAKINTENTION"}),
    )
    .await
    .json()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    Seeded {
        session,
        query,
        intention,
    }
}

/// Everything seeded is still there, unchanged, for the management token.
async fn assert_intact(agent: &TestAgent, seeded: &Seeded) {
    let node = as_management(agent, "GET", "/v1/catalog/node/secret-node", Value::Null)
        .await
        .json();
    assert_eq!(node["Node"]["Meta"]["marker"], "LEAKNODE");
    assert_eq!(node["Services"]["secret-svc"]["Meta"]["marker"], "LEAKNODE");
    let kv = as_management(agent, "GET", "/v1/kv/secret/k?raw", Value::Null).await;
    assert_eq!(kv.body, "LEAKKV");
    let session = as_management(
        agent,
        "GET",
        &format!("/v1/session/info/{}", seeded.session),
        Value::Null,
    )
    .await
    .json();
    assert_eq!(session[0]["Name"], "LEAKSESSION");
    let query = as_management(
        agent,
        "GET",
        &format!("/v1/query/{}", seeded.query),
        Value::Null,
    )
    .await
    .json();
    assert_eq!(query[0]["Name"], "secret-q");
    let local = as_management(agent, "GET", "/v1/agent/service/secret-local", Value::Null)
        .await
        .json();
    assert_eq!(local["Meta"]["marker"], "LEAKLOCAL");
    let intention = as_management(
        agent,
        "GET",
        &format!("/v1/connect/intentions/{}", seeded.intention),
        Value::Null,
    )
    .await
    .json();
    assert_eq!(intention["Description"], "LEAKINTENTION");
}

/// A dev agent with this `acl` configuration (JSON), once the leader has created the
/// management token; the directory of its configuration file is removed on drop.
async fn start_acl_agent(config: Value) -> (TestAgent, proconsul_tests::TempDir) {
    let dir = proconsul_tests::TempDir::new("acl-config");
    let file = proconsul_tests::write_file(dir.path(), "acl.json", &config.to_string());
    let agent = TestAgent::start_with(&["-config-file", &file]);
    // The leader creates the built-ins and the management token once it leads.
    for _ in 0..100 {
        let answer = request(&agent, "GET", "/v1/acl/token/self", Some(MANAGEMENT), None).await;
        if answer.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (agent, dir)
}

/// Routes that stop or reshape the agent: run last, after every other request.
fn is_drastic(route: &Route) -> bool {
    [
        "/leave",
        "/force-leave",
        "/reload",
        "/raft/",
        "/snapshot",
        "/join",
    ]
    .iter()
    .any(|part| route.path.contains(part))
        && route.method != "GET"
}

#[tokio::test]
async fn no_token_sees_or_changes_what_it_is_not_granted() {
    let (mut agent, _config) = start_acl_agent(json!({"primary_datacenter": "dc1",
               "acl": {"enabled": true, "default_policy": "deny",
                       "tokens": {"initial_management": MANAGEMENT}}}))
    .await;
    let seeded = seed(&agent).await;

    let public = "service_prefix \"pub\" { policy = \"read\" }\n\
                  node_prefix \"pub\" { policy = \"read\" }\n\
                  key_prefix \"pub/\" { policy = \"read\" }\n\
                  session_prefix \"pub\" { policy = \"read\" }\n\
                  event_prefix \"pub\" { policy = \"read\" }\n\
                  query_prefix \"pub\" { policy = \"read\" }";
    let tokens: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        (
            "read on pub*",
            Some(token_with(&agent, "pub-read", public).await),
        ),
        (
            "write on pub/ keys",
            Some(
                token_with(
                    &agent,
                    "key-writer",
                    "key_prefix \"pub/\" { policy = \"write\" }",
                )
                .await,
            ),
        ),
        (
            "node pub* only",
            Some(
                token_with(
                    &agent,
                    "node-only",
                    "node_prefix \"pub\" { policy = \"write\" }",
                )
                .await,
            ),
        ),
        (
            "agent read",
            Some(
                token_with(
                    &agent,
                    "agent-read",
                    "agent_prefix \"\" { policy = \"read\" }",
                )
                .await,
            ),
        ),
    ];

    let routes = routes();
    assert!(
        routes.len() > 60,
        "the router's routes were not found: {routes:?}"
    );
    let (drastic, ordinary): (Vec<Route>, Vec<Route>) = routes.into_iter().partition(is_drastic);
    let mut checked = 0;
    for route in ordinary.iter().chain(&drastic) {
        let path = concrete(&route.path, &seeded);
        // A route this configuration does not serve (e.g. the ACL-disabled catch-all).
        let probe = request(&agent, &route.method, &path, Some(UNKNOWN), None).await;
        if probe.status == 404 && probe.body == "404 page not found" {
            continue;
        }
        let unknown = request(&agent, &route.method, &path, Some(UNKNOWN), body_for(route)).await;
        // Consul resolves no token for these: they check no permission.
        if !path.starts_with("/v1/status/")
            && path != "/v1/acl/bootstrap"
            && path != "/v1/agent/version"
        {
            assert_eq!(
                unknown.status, 403,
                "{} {path} with an unknown token: {}",
                route.method, unknown.body
            );
            assert!(
                unknown.body.contains("ACL not found"),
                "{} {path}: {}",
                route.method,
                unknown.body
            );
        }
        for (name, secret) in &tokens {
            let answer = request(
                &agent,
                &route.method,
                &path,
                secret.as_deref(),
                body_for(route),
            )
            .await;
            for marker in MARKERS {
                assert!(
                    !answer.body.contains(marker),
                    "{} {path} as {name} leaks {marker}: {} {}",
                    route.method,
                    answer.status,
                    answer.body
                );
            }
            // The machine's facts need operator:read, which none of these tokens has;
            // the build's version needs nothing.
            if path == "/v1/agent/host" {
                assert_eq!(answer.status, 403, "{path} as {name}: {}", answer.body);
            }
            if path == "/v1/agent/version" {
                assert_eq!(answer.status, 200, "{path} as {name}: {}", answer.body);
            }
            if is_stream(&path) {
                assert!(
                    answer.status != 200 || *name == "agent read",
                    "{} {path} as {name} was streamed",
                    route.method
                );
            }
            if route.method != "GET" {
                assert!(
                    answer.status >= 400,
                    "{} {path} as {name} was allowed: {} {}",
                    route.method,
                    answer.status,
                    answer.body
                );
            }
            checked += 1;
        }
        assert!(
            agent.is_running(),
            "the agent stopped after {} {path}",
            route.method
        );
    }
    assert_intact(&agent, &seeded).await;
    assert!(checked > 300, "only {checked} requests");
}

/// The public twin of each hidden object is visible to the token granted it, so the
/// matrix's silence is not an agent that answers nothing.
#[tokio::test]
async fn a_granted_token_sees_its_share_and_is_told_the_rest_was_filtered() {
    let (agent, _config) =
        start_acl_agent(json!({"acl": {"enabled": true, "default_policy": "deny",
                       "tokens": {"initial_management": MANAGEMENT}}}))
        .await;
    seed(&agent).await;
    let reader = token_with(
        &agent,
        "pub-read",
        "service_prefix \"pub\" { policy = \"read\" }\nnode_prefix \"pub\" { policy = \"read\" }\nkey_prefix \"pub/\" { policy = \"read\" }",
    )
    .await;
    let services = request(&agent, "GET", "/v1/catalog/services", Some(&reader), None).await;
    assert_eq!(services.status, 200);
    assert_eq!(services.json(), json!({"pub-svc": []}));
    assert_eq!(
        services
            .headers
            .get("x-consul-results-filtered-by-acls")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    assert_eq!(
        services
            .headers
            .get("x-consul-default-acl-policy")
            .map(|v| v.to_str().unwrap()),
        Some("deny")
    );
    // ACL filtering runs before ?filter (Consul PR 21950): a filter that matches only
    // hidden data finds nothing, and one that matches only visible data finds it; either
    // way the header says what ACLs removed, as if no filter had been given.
    for (path, field) in [
        ("/v1/catalog/services", "ServiceMeta.marker"),
        ("/v1/health/state/any", "Output"),
        ("/v1/catalog/nodes", "Meta.marker"),
    ] {
        for (marker, visible) in [("LEAKNODE", false), ("visible", true)] {
            let expression = format!("{field} == \"{marker}\"");
            let query = format!("{path}?filter={}", urlencode(&expression));
            let filtered = request(&agent, "GET", &query, Some(&reader), None).await;
            assert_eq!(filtered.status, 200, "{query}: {}", filtered.body);
            let found = match filtered.json() {
                Value::Object(map) => map.len(),
                Value::Array(list) => list.len(),
                other => panic!("{query}: {other}"),
            };
            assert_eq!(found > 0, visible, "{query}: {}", filtered.body);
            assert!(
                !filtered.body.contains("LEAK"),
                "{query}: {}",
                filtered.body
            );
            assert_eq!(
                filtered
                    .headers
                    .get("x-consul-results-filtered-by-acls")
                    .map(|v| v.to_str().unwrap()),
                Some("true"),
                "{query}"
            );
        }
    }
    let health = request(
        &agent,
        "GET",
        "/v1/health/service/pub-svc",
        Some(&reader),
        None,
    )
    .await
    .json();
    assert_eq!(health[0]["Service"]["Meta"]["marker"], "visible");
    let keys = request(&agent, "GET", "/v1/kv/?keys", Some(&reader), None)
        .await
        .json();
    assert_eq!(keys, json!(["pub/k"]));
    let hidden = request(&agent, "GET", "/v1/kv/secret/k", Some(&reader), None).await;
    assert_eq!(hidden.status, 403);
    assert!(
        hidden
            .body
            .starts_with("Permission denied: token with AccessorID '"),
        "{}",
        hidden.body
    );
    assert!(
        hidden
            .body
            .ends_with("lacks permission 'key:read' on \"secret/k\""),
        "{}",
        hidden.body
    );
    // Anonymous callers get the same filtering without being told.
    let anonymous = request(&agent, "GET", "/v1/catalog/services", None, None).await;
    assert_eq!(anonymous.json(), json!({}));
    assert!(
        anonymous
            .headers
            .get("x-consul-results-filtered-by-acls")
            .is_none()
    );
    // DNS answers with the DNS token: anonymous (nothing) until the agent is given one.
    for name in [
        "pub-svc.service.consul",
        "secret-svc.service.consul",
        "secret-node.node.consul",
    ] {
        let answer = dig(agent.dns_port, &[name, "A"]);
        assert!(answer.answer.is_empty(), "{}", answer.raw);
    }
    let set = request(
        &agent,
        "PUT",
        "/v1/agent/token/dns",
        Some(MANAGEMENT),
        Some(json!({"Token": reader}).to_string().into_bytes()),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let visible = dig(agent.dns_port, &["pub-svc.service.consul", "A"]);
    assert_eq!(visible.answer.len(), 1, "{}", visible.raw);
    for name in ["secret-svc.service.consul", "secret-node.node.consul"] {
        let answer = dig(agent.dns_port, &[name, "A"]);
        assert!(answer.answer.is_empty(), "{}", answer.raw);
        assert!(!answer.raw.contains("10.9.9.9"), "{}", answer.raw);
    }
    let denied = request(&agent, "PUT", "/v1/kv/pub/k", None, Some(b"x".to_vec())).await;
    assert_eq!(denied.status, 403);
    assert!(
        denied.body.starts_with(
            "Permission denied: anonymous token lacks permission 'key:write' on \"pub/k\""
        ),
        "{}",
        denied.body
    );
}

/// With `acl.enable_key_list_policy`, listing a prefix takes `key:list` on it; `read` alone
/// is refused.
#[tokio::test]
async fn key_list_policy_guards_recursive_reads() {
    let (agent, _config) =
        start_acl_agent(json!({"acl": {"enabled": true, "default_policy": "deny",
                       "enable_key_list_policy": true,
                       "tokens": {"initial_management": MANAGEMENT}}}))
        .await;
    as_management(&agent, "PUT", "/v1/kv/pub/k", json!("visible")).await;
    let reader = token_with(
        &agent,
        "reader",
        "key_prefix \"pub/\" { policy = \"read\" }",
    )
    .await;
    let lister = token_with(
        &agent,
        "lister",
        "key_prefix \"pub/\" { policy = \"list\" }",
    )
    .await;
    for query in ["/v1/kv/pub/?keys", "/v1/kv/pub/?recurse"] {
        let refused = request(&agent, "GET", query, Some(&reader), None).await;
        assert_eq!(refused.status, 403, "{query}: {}", refused.body);
        assert!(refused.body.contains("'key:list'"), "{}", refused.body);
        let listed = request(&agent, "GET", query, Some(&lister), None).await;
        assert_eq!(listed.status, 200, "{query}: {}", listed.body);
        assert!(listed.body.contains("pub/k"), "{}", listed.body);
    }
    let one = request(&agent, "GET", "/v1/kv/pub/k", Some(&reader), None).await;
    assert_eq!(one.status, 200, "{}", one.body);
}

/// CVE-2021-38698: a token that may write one service cannot register a proxy for
/// another, through the catalog, the agent or a transaction.
#[tokio::test]
async fn a_proxy_needs_write_on_the_service_it_fronts() {
    let (agent, _config) =
        start_acl_agent(json!({"acl": {"enabled": true, "default_policy": "deny",
                       "tokens": {"initial_management": MANAGEMENT}}}))
        .await;
    let web = token_with(
        &agent,
        "web-writer",
        "service_prefix \"web\" { policy = \"write\" }\nnode_prefix \"\" { policy = \"write\" }",
    )
    .await;
    let proxy = |destination: &str| {
        json!({"Kind": "connect-proxy", "ID": format!("{destination}-proxy"),
               "Service": "web-sidecar-proxy", "Port": 21000,
               "Proxy": {"DestinationServiceName": destination}})
    };
    let catalog = |destination: &str| {
        json!({"Node": "n1", "Address": "10.0.0.1", "Service": proxy(destination)}).to_string()
    };
    let refused = request(
        &agent,
        "PUT",
        "/v1/catalog/register",
        Some(&web),
        Some(catalog("db").into_bytes()),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("'service:write' on \"db\""),
        "{}",
        refused.body
    );
    let allowed = request(
        &agent,
        "PUT",
        "/v1/catalog/register",
        Some(&web),
        Some(catalog("web").into_bytes()),
    )
    .await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    let agent_refused = request(
        &agent,
        "PUT",
        "/v1/agent/service/register",
        Some(&web),
        Some(
            json!({"Kind": "connect-proxy", "ID": "db-proxy", "Name": "web-sidecar-proxy",
                   "Port": 21000, "Proxy": {"DestinationServiceName": "db"}})
            .to_string()
            .into_bytes(),
        ),
    )
    .await;
    assert_eq!(agent_refused.status, 403, "{}", agent_refused.body);
    let txn =
        json!([{"Service": {"Verb": "set", "Node": "n1", "Service": proxy("db")}}]).to_string();
    let txn_refused = request(&agent, "PUT", "/v1/txn", Some(&web), Some(txn.into_bytes())).await;
    assert_eq!(txn_refused.status, 409, "{}", txn_refused.body);
    assert!(
        txn_refused.body.contains("'service:write' on \\\"db\\\""),
        "{}",
        txn_refused.body
    );
    let services = as_management(&agent, "GET", "/v1/catalog/services", Value::Null)
        .await
        .json();
    assert_eq!(services, json!({"consul": [], "web-sidecar-proxy": []}));
}

/// Percent-encodes a query value (the characters a filter expression uses).
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
