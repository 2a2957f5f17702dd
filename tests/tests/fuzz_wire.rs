//! Black-box fuzzing of what a server takes from the network: random HTTP requests to the
//! API (methods, paths, query parameters such as `index`, `wait`, `cas`, `filter`, and
//! bodies of KV, txn, session, catalog and agent registration: random bytes, random JSON
//! with Consul's field names, damaged valid bodies) and random bytes to every server-RPC
//! path. Whatever arrives, the agent must answer (an error is fine), never panic, keep
//! running, and keep its data: a key written before the storm is intact after it, and
//! the agent still takes writes.
//!
//! Seeded and bounded: `PROCONSUL_FUZZ_SEED` and `PROCONSUL_FUZZ_CASES` (default 600
//! requests) reproduce or lengthen a run; a failure prints the seed.

use std::time::Duration;

use futures::StreamExt;
use proconsul_tests::{TempDir, TestAgent, get, put};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// The key written before the storm; the storm's own keys live under `fuzz/`.
const CANARY_KEY: &str = "integrity-canary-7f3a";
const CANARY_VALUE: &str = "still-here";

/// API paths with the method each is mostly sent with; `{}` is replaced by a random
/// segment. Endpoints that legitimately end the agent or replace its data (`leave`,
/// snapshot restore, Raft peer removal, force-leave) are left out: the test judges
/// robustness, not whether an operator can stop a server.
const PATHS: &[(&str, &str)] = &[
    ("PUT", "/v1/kv/fuzz/{}"),
    ("DELETE", "/v1/kv/fuzz/{}"),
    ("GET", "/v1/kv/fuzz/"),
    ("PUT", "/v1/txn"),
    ("PUT", "/v1/session/create"),
    ("PUT", "/v1/session/renew/{}"),
    ("PUT", "/v1/session/destroy/{}"),
    ("GET", "/v1/session/info/{}"),
    ("GET", "/v1/session/list"),
    ("PUT", "/v1/catalog/register"),
    ("PUT", "/v1/catalog/deregister"),
    ("GET", "/v1/catalog/services"),
    ("GET", "/v1/catalog/service/{}"),
    ("GET", "/v1/catalog/node/{}"),
    ("GET", "/v1/catalog/nodes"),
    ("GET", "/v1/health/service/{}"),
    ("GET", "/v1/health/state/{}"),
    ("GET", "/v1/health/checks/{}"),
    ("GET", "/v1/health/node/{}"),
    ("PUT", "/v1/agent/service/register"),
    ("PUT", "/v1/agent/service/deregister/{}"),
    ("GET", "/v1/agent/service/{}"),
    ("PUT", "/v1/agent/check/register"),
    ("PUT", "/v1/agent/check/pass/{}"),
    ("PUT", "/v1/agent/check/update/{}"),
    ("GET", "/v1/agent/services"),
    ("GET", "/v1/agent/checks"),
    ("GET", "/v1/agent/members"),
    ("GET", "/v1/agent/self"),
    ("PUT", "/v1/agent/maintenance"),
    ("PUT", "/v1/agent/service/maintenance/{}"),
    ("GET", "/v1/agent/health/service/name/{}"),
    ("PUT", "/v1/event/fire/{}"),
    ("GET", "/v1/event/list"),
    ("POST", "/v1/query"),
    ("GET", "/v1/query/{}"),
    ("GET", "/v1/query/{}/execute"),
    ("PUT", "/v1/coordinate/update"),
    ("GET", "/v1/coordinate/nodes"),
    ("PUT", "/v1/acl/token"),
    ("PUT", "/v1/acl/policy"),
    ("PUT", "/v1/acl/role"),
    ("POST", "/v1/connect/intentions"),
    ("GET", "/v1/operator/raft/configuration"),
    ("GET", "/v1/operator/autopilot/health"),
    ("POST", "/v1/operator/keyring"),
    ("GET", "/v1/status/leader"),
    ("GET", "/v1/internal/ui/services"),
    ("GET", "/v1/agent/metrics"),
    ("GET", "/v1/{}"),
    ("GET", "/{}"),
];

/// Query parameters Consul's endpoints read.
const PARAMS: &[&str] = &[
    "index",
    "wait",
    "cas",
    "flags",
    "recurse",
    "keys",
    "separator",
    "raw",
    "acquire",
    "release",
    "filter",
    "dc",
    "stale",
    "consistent",
    "cached",
    "near",
    "node-meta",
    "tag",
    "passing",
    "ns",
    "token",
    "ttl",
    "note",
    "enable",
    "reason",
    "replace-existing-checks",
    "format",
    "limit",
    "name",
    "pretty",
];

/// Values that have broken parsers elsewhere: empty, signs, overflow, units, encodings.
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "abc",
    "10ms",
    "1h",
    "-5s",
    "1.5s",
    "1e9",
    "9223372036854775807ns",
    "%00",
    "%ff%fe",
    "true",
    "false",
    "%F0%9F%98%80",
    "Service%20%3D%3D%20web",
    "Tags%20contains%20%22a%22%20and%20(",
    "a:b",
    "../..",
    "%2e%2e%2f",
];

/// Field names Consul's request bodies use, to build JSON that gets past the first
/// decoding step.
const FIELDS: &[&str] = &[
    "Name",
    "ID",
    "Node",
    "Address",
    "Service",
    "Services",
    "Check",
    "Checks",
    "TTL",
    "Interval",
    "Timeout",
    "HTTP",
    "TCP",
    "Args",
    "Key",
    "Value",
    "Verb",
    "KV",
    "Index",
    "Session",
    "Flags",
    "Behavior",
    "LockDelay",
    "Tags",
    "Port",
    "Meta",
    "NodeMeta",
    "Datacenter",
    "Coord",
    "Vec",
    "Height",
    "Error",
    "Adjustment",
    "Policies",
    "Rules",
    "ServiceID",
    "CheckID",
    "Status",
    "Output",
    "Definition",
    "Weights",
    "Passing",
    "TaggedAddresses",
    "Failover",
    "NearestN",
    "Template",
    "Type",
    "Regexp",
    "SkipNodeUpdate",
    "DeregisterCriticalServiceAfter",
    "Token",
    "SecretID",
    "AccessorID",
    "Local",
    "ExpirationTTL",
    "SourceName",
    "DestinationName",
    "Action",
    "Payload",
    "NodeChecks",
];

/// A valid body for each kind of write, damaged by the mutator.
fn valid_bodies() -> Vec<Value> {
    vec![
        json!([{"KV": {"Verb": "set", "Key": "fuzz/t", "Value": "dg=="}},
               {"KV": {"Verb": "cas", "Key": "fuzz/t", "Index": 3, "Value": "dg=="}},
               {"KV": {"Verb": "get-tree", "Key": "fuzz/"}}]),
        json!({"Name": "s", "TTL": "15s", "Behavior": "delete", "LockDelay": "0s",
               "Checks": ["serfHealth"]}),
        json!({"Node": "fuzz-node", "Address": "10.0.0.1",
               "Service": {"Service": "web", "Port": 80, "Tags": ["a"]},
               "Check": {"CheckID": "c", "Name": "c", "Status": "passing"}}),
        json!({"Name": "fuzz-web", "Port": 8080, "Tags": ["x"], "Meta": {"k": "v"},
               "Check": {"TTL": "30s", "DeregisterCriticalServiceAfter": "1m"}}),
        json!({"Name": "fuzz-check", "TTL": "10s", "Status": "warning"}),
        json!({"Node": "fuzz-node", "Coord": {"Vec": [0.1, 0, 0, 0, 0, 0, 0, 0],
               "Error": 1.5, "Adjustment": 0, "Height": 1e-5}}),
        json!({"Name": "q", "Service": {"Service": "web", "Failover": {"NearestN": 2}},
               "DNS": {"TTL": "10s"}}),
        json!({"Name": "p", "Rules": "key_prefix \"\" { policy = \"read\" }"}),
    ]
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => json!(rng.random::<i64>() >> rng.random_range(0..64)),
        3 => json!(rng.random::<f64>() * 1e6),
        4 => Value::String((*VALUES.choose(rng).unwrap()).to_string()),
        5 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut object = Map::new();
            for _ in 0..rng.random_range(0..6) {
                let field = (*FIELDS.choose(rng).unwrap()).to_string();
                object.insert(field, random_json(rng, depth - 1));
            }
            Value::Object(object)
        }
    }
}

/// `bytes` with a few bytes replaced, inserted or removed.
fn damaged(rng: &mut StdRng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.random_range(1..6) {
        let at = rng.random_range(0..=bytes.len());
        match rng.random_range(0..3) {
            0 if at < bytes.len() => bytes[at] = rng.random(),
            1 => bytes.insert(at, rng.random()),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

fn random_body(rng: &mut StdRng) -> Option<Vec<u8>> {
    match rng.random_range(0..5) {
        0 => None,
        1 => Some(
            (0..rng.random_range(0..300))
                .map(|_| rng.random())
                .collect(),
        ),
        2 => Some(random_json(rng, 3).to_string().into_bytes()),
        _ => {
            let valid = valid_bodies().choose(rng).unwrap().to_string().into_bytes();
            Some(damaged(rng, valid))
        }
    }
}

/// A random segment for `{}` in a path, percent-encoded where it must be.
fn random_segment(rng: &mut StdRng) -> String {
    match rng.random_range(0..4) {
        0 => "web".to_string(),
        1 => (*VALUES.choose(rng).unwrap()).to_string(),
        2 => "a".repeat(rng.random_range(1..3000)),
        _ => format!("{:08x}-0000-0000-0000-000000000000", rng.random::<u32>()),
    }
}

struct FuzzRequest {
    method: &'static str,
    path: String,
    body: Option<Vec<u8>>,
}

fn random_request(rng: &mut StdRng) -> FuzzRequest {
    let (usual, template) = *PATHS.choose(rng).unwrap();
    let method = if rng.random_bool(0.85) {
        usual
    } else {
        *["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]
            .choose(rng)
            .unwrap()
    };
    let mut path = template.replace("{}", &random_segment(rng));
    for i in 0..rng.random_range(0..5) {
        path.push(if i == 0 { '?' } else { '&' });
        path.push_str(PARAMS.choose(rng).unwrap());
        if rng.random_bool(0.8) {
            path.push('=');
            path.push_str(VALUES.choose(rng).unwrap());
        }
    }
    FuzzRequest {
        method,
        path,
        body: random_body(rng),
    }
}

fn seed_and_cases() -> (u64, usize) {
    let seed = std::env::var("PROCONSUL_FUZZ_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5eed_f022);
    let cases = std::env::var("PROCONSUL_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(600);
    (seed, cases)
}

/// Sends `request`; `None` when the agent did not answer in time (a blocking query that
/// a random `index` made wait) or the connection failed (judged by the checks after).
async fn send(client: &reqwest::Client, base: &str, request: FuzzRequest) -> Option<(u16, String)> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
    let mut builder = client.request(method, format!("{base}{}", request.path));
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let response = builder.send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.unwrap_or_default()))
}

fn assert_no_panic(agent: &TestAgent, seed: u64) {
    let log = agent.log();
    assert!(
        !log.contains("panicked"),
        "the agent panicked (reproduce with PROCONSUL_FUZZ_SEED={seed}):\n{log}"
    );
}

/// The canary is intact and the agent still takes a write and has a leader.
async fn assert_intact(agent: &TestAgent, seed: u64) {
    let canary = get(&agent.url(&format!("/v1/kv/{CANARY_KEY}?raw"))).await;
    assert_eq!(
        (canary.status, canary.body.as_str()),
        (200, CANARY_VALUE),
        "the canary changed (PROCONSUL_FUZZ_SEED={seed})"
    );
    let write = put(&agent.url("/v1/kv/after-the-storm"), "ok").await;
    assert_eq!(
        write.status, 200,
        "{} (PROCONSUL_FUZZ_SEED={seed})",
        write.body
    );
    let leader = get(&agent.url("/v1/status/leader")).await;
    assert!(leader.body.contains(':'), "no leader: {}", leader.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_api_requests_never_panic_or_damage_the_data() {
    let (seed, cases) = seed_and_cases();
    let data = TempDir::new("fuzz-api");
    let mut agent = TestAgent::start_server(data.path(), "fuzz-server", &[]);
    let canary = put(&agent.url(&format!("/v1/kv/{CANARY_KEY}")), CANARY_VALUE).await;
    assert_eq!(canary.status, 200, "{}", canary.body);

    let mut rng = StdRng::seed_from_u64(seed);
    let requests: Vec<FuzzRequest> = (0..cases).map(|_| random_request(&mut rng)).collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let base = agent.url("");
    let answers: Vec<Option<(u16, String)>> = futures::stream::iter(requests)
        .map(|request| send(&client, &base, request))
        .buffered(8)
        .collect()
        .await;

    let answered = answers.iter().flatten().count();
    let mut statuses = std::collections::BTreeMap::new();
    for (status, _) in answers.iter().flatten() {
        *statuses.entry(*status).or_insert(0) += 1;
    }
    eprintln!("seed {seed}: {answered} of {cases} answered; statuses {statuses:?}");
    if std::env::var_os("FUZZ_SHOW").is_some() {
        for (status, body) in answers
            .iter()
            .flatten()
            .filter(|(s, _)| *s == 500 || *s == 401)
        {
            eprintln!("{status}: {}", body.chars().take(150).collect::<String>());
        }
    }
    for (status, body) in answers.iter().flatten() {
        assert!(
            (200..600).contains(status),
            "status {status} (PROCONSUL_FUZZ_SEED={seed})"
        );
        assert!(
            !(*status >= 500 && body.contains("internal error")),
            "a handler failed unexpectedly: {body} (PROCONSUL_FUZZ_SEED={seed})"
        );
    }
    // Most requests must be answered (only blocking queries with a random index wait).
    assert!(answered * 10 >= cases * 8, "{answered} of {cases} answered");
    assert!(
        agent.is_running(),
        "the agent died (PROCONSUL_FUZZ_SEED={seed})"
    );
    assert_no_panic(&agent, seed);
    assert_intact(&agent, seed).await;
}

/// Server RPC's paths (`crates/consensus/src/rpc/messages.rs`).
const RPC_PATHS: &[&str] = &[
    "/raft/append-entries",
    "/raft/vote",
    "/raft/pre-vote",
    "/raft/snapshot",
    "/raft/transfer-leader",
    "/cluster/hello",
    "/cluster/write",
    "/cluster/read-index",
    "/cluster/add-server",
    "/cluster/remove-server",
    "/cluster/transfer-leadership",
    "/cluster/autopilot-health",
    "/agent/http",
    "/agent/write",
    "/agent/node",
    "/agent/dns",
    "/agent/acl-token",
    "/nowhere",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_server_rpc_messages_never_panic_or_damage_the_data() {
    let (seed, cases) = seed_and_cases();
    let data = TempDir::new("fuzz-rpc");
    let mut agent = TestAgent::start_server(data.path(), "fuzz-rpc-server", &[]);
    let canary = put(&agent.url(&format!("/v1/kv/{CANARY_KEY}")), CANARY_VALUE).await;
    assert_eq!(canary.status, 200, "{}", canary.body);

    let mut rng = StdRng::seed_from_u64(seed);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{}", agent.server_port);
    let requests: Vec<FuzzRequest> = (0..cases / 2)
        .map(|_| FuzzRequest {
            method: ["POST", "POST", "POST", "GET", "PUT"]
                .choose(&mut rng)
                .unwrap(),
            path: (*RPC_PATHS.choose(&mut rng).unwrap()).to_string(),
            body: Some(
                (0..rng.random_range(0..400))
                    .map(|_| rng.random())
                    .collect(),
            ),
        })
        .collect();
    let answers: Vec<Option<(u16, String)>> = futures::stream::iter(requests)
        .map(|request| send(&client, &base, request))
        .buffered(8)
        .collect()
        .await;
    assert!(
        answers.iter().flatten().count() > 0,
        "server RPC answered nothing"
    );
    assert!(
        agent.is_running(),
        "the agent died (PROCONSUL_FUZZ_SEED={seed})"
    );
    assert_no_panic(&agent, seed);
    assert_intact(&agent, seed).await;
}
