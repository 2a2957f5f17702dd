//! Network coordinates against a real agent: `PUT /v1/coordinate/update` batched into
//! the catalog, read back in Consul's shapes, blocking queries on the coordinates
//! table, `?near` ordering of catalog, health and prepared-query answers, the `rtt`
//! command, refusals of bad bodies, and ACLs (`node:read` filtering, `node:write` for
//! updates).

use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{Answer, TempDir, TestAgent, call_with_token, get, put, write_file};
use serde_json::{Value, json};

/// Batches every 100 ms and the agent's own report within half a second, so that
/// nothing waits for Consul's 5 s and 15 s.
const FAST: [&str; 2] = [
    "-coordinate-update-period=100ms",
    "-sync-coordinate-interval-min=200ms",
];

/// A coordinate `x` seconds along the first axis, as a client sends it.
fn coordinate(x: f64) -> Value {
    json!({"Vec": [x, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
           "Error": 0.25, "Adjustment": 0.0, "Height": 1.0e-5})
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// Registers `node` with a `web` instance and a passing check on it.
async fn register(agent: &TestAgent, node: &str) {
    let body = json!({"Node": node, "Address": "10.1.1.1",
        "Service": {"ID": "web", "Service": "web", "Port": 80},
        "Check": {"CheckID": "web-check", "Name": "web", "ServiceID": "web",
                  "Status": "passing"}});
    let answer = put(&agent.url("/v1/catalog/register"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

async fn update(agent: &TestAgent, node: &str, x: f64) {
    let body = json!({"Node": node, "Segment": "", "Coord": coordinate(x)});
    let answer = put(&agent.url("/v1/coordinate/update"), body.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, "");
}

/// Polls `path` until `done` holds for its JSON answer (generous deadline).
async fn wait_for(agent: &TestAgent, path: &str, done: impl Fn(&Value) -> bool) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = get(&agent.url(path)).await;
        if answer.status == 200 && done(&answer.json()) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never got there: {} {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The coordinate stored for `node` in a `/v1/coordinate/nodes` answer.
fn stored<'a>(list: &'a Value, node: &str) -> Option<&'a Value> {
    list.as_array()?
        .iter()
        .find(|entry| entry["Node"] == node)
        .map(|entry| &entry["Coord"])
}

/// The `field` (a node name) of each item of a JSON list.
fn nodes_of(list: &Value, field: &[&str]) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| {
            field
                .iter()
                .fold(item, |value, key| &value[*key])
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Four nodes running `web`: n1, n2 and n3 at 1, 5 and 20 ms along one axis, n4
/// without a coordinate; the agent reports its own at the origin. Waits until all are
/// stored.
async fn seeded_agent() -> TestAgent {
    let agent = TestAgent::start_with(&FAST);
    for node in ["n1", "n2", "n3", "n4"] {
        register(&agent, node).await;
    }
    for (node, x) in [("n1", 0.001), ("n2", 0.005), ("n3", 0.020)] {
        update(&agent, node, x).await;
    }
    let me = agent.node_name.clone();
    wait_for(&agent, "/v1/coordinate/nodes", |list| {
        ["n1", "n2", "n3", me.as_str()]
            .iter()
            .all(|node| stored(list, node).is_some())
    })
    .await;
    agent
}

#[tokio::test]
async fn updates_are_stored_and_read_back_in_consul_s_shapes() {
    let agent = seeded_agent().await;
    let me = agent.node_name.clone();
    let list = get(&agent.url("/v1/coordinate/nodes")).await;
    assert_eq!(list.status, 200);
    assert!(list.index() > 1);
    let entries = list.json();
    // By node name; n4 has none, so it has no entry.
    let mut expected = vec!["n1".to_string(), "n2".into(), "n3".into(), me.clone()];
    expected.sort();
    assert_eq!(nodes_of(&entries, &["Node"]), expected);
    for entry in entries.as_array().unwrap() {
        assert_eq!(keys(entry), ["Coord", "Node", "Segment"], "{entry}");
        assert_eq!(
            keys(&entry["Coord"]),
            ["Adjustment", "Error", "Height", "Vec"]
        );
        assert_eq!(entry["Segment"], "");
    }
    assert_eq!(stored(&entries, "n2").unwrap(), &coordinate(0.005));
    // The agent's own, where a fresh Vivaldi client starts, as /v1/agent/self shows it.
    let origin = json!({"Vec": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                        "Error": 1.5, "Adjustment": 0.0, "Height": 1.0e-5});
    assert_eq!(stored(&entries, &me).unwrap(), &origin);
    let myself = get(&agent.url("/v1/agent/self")).await.json();
    assert_eq!(myself["Coord"], origin);

    let one = get(&agent.url("/v1/coordinate/node/n3")).await;
    assert_eq!(one.status, 200);
    assert_eq!(
        one.json(),
        json!([{"Node": "n3", "Segment": "", "Coord": coordinate(0.020)}])
    );
    for missing in ["n4", "nobody"] {
        let answer = get(&agent.url(&format!("/v1/coordinate/node/{missing}"))).await;
        assert_eq!(answer.status, 404, "{missing}: {}", answer.body);
        assert_eq!(answer.body, "");
    }
    let segment = get(&agent.url("/v1/coordinate/nodes?segment=alpha")).await;
    assert_eq!(segment.json(), json!([]));
    let filtered = get(&agent.url("/v1/coordinate/nodes?filter=Node%20%3D%3D%20%22n1%22")).await;
    assert_eq!(nodes_of(&filtered.json(), &["Node"]), ["n1"]);

    // This datacenter's servers: the agent alone.
    let datacenters = get(&agent.url("/v1/coordinate/datacenters")).await.json();
    assert_eq!(
        datacenters,
        json!([{"Datacenter": "dc1", "AreaID": "wan",
                "Coordinates": [{"Node": me, "Segment": "", "Coord": origin}]}])
    );

    // A node the catalog does not know is accepted and skipped when the batch is
    // written; the update queued after it shows that batch was written.
    update(&agent, "ghost", 0.5).await;
    update(&agent, "n1", 0.002).await;
    let entries = wait_for(&agent, "/v1/coordinate/nodes", |list| {
        stored(list, "n1") == Some(&coordinate(0.002))
    })
    .await
    .json();
    assert!(stored(&entries, "ghost").is_none());

    // A deregistered node takes its coordinate with it.
    let gone = put(
        &agent.url("/v1/catalog/deregister"),
        json!({"Node": "n3"}).to_string(),
    )
    .await;
    assert_eq!(gone.status, 200);
    let after = get(&agent.url("/v1/coordinate/nodes")).await.json();
    assert!(stored(&after, "n3").is_none(), "{after}");
    assert_eq!(get(&agent.url("/v1/coordinate/node/n3")).await.status, 404);
}

#[tokio::test]
async fn a_blocking_query_wakes_when_a_coordinate_changes() {
    let agent = seeded_agent().await;
    let first = get(&agent.url("/v1/coordinate/nodes")).await;
    let index = first.index();
    let url = agent.url(&format!("/v1/coordinate/nodes?index={index}&wait=60s"));
    let waiting = tokio::spawn(async move { get(&url).await });
    // The same coordinate again changes nothing and does not wake it.
    update(&agent, "n2", 0.005).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "woken by an unchanged coordinate");
    update(&agent, "n2", 0.007).await;
    let woken = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the blocking query never woke")
        .unwrap();
    assert!(woken.index() > index);
    assert_eq!(stored(&woken.json(), "n2").unwrap(), &coordinate(0.007));
    // On one node too.
    let one = get(&agent.url("/v1/coordinate/node/n2")).await;
    let url = agent.url(&format!(
        "/v1/coordinate/node/n2?index={}&wait=60s",
        one.index()
    ));
    let waiting = tokio::spawn(async move { get(&url).await });
    update(&agent, "n2", 0.006).await;
    let woken = tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the blocking query never woke")
        .unwrap();
    assert_eq!(woken.json()[0]["Coord"], coordinate(0.006));
}

/// The node names, in answer order, of `path`'s list (the node at `field` of each item;
/// `Nodes` of a prepared query's execution).
async fn order(agent: &TestAgent, path: &str, field: &[&str]) -> Vec<String> {
    let answer = get(&agent.url(path)).await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    let json = answer.json();
    let list = if path.contains("/execute") {
        &json["Nodes"]
    } else {
        &json
    };
    nodes_of(list, field)
}

#[tokio::test]
async fn near_sorts_answers_by_estimated_rtt() {
    let agent = seeded_agent().await;
    let me = agent.node_name.as_str();
    let (node, entry_node) = (&["Node"][..], &["Node", "Node"][..]);
    // From n3 (20 ms): n2 is 15 ms away, n1 19, the agent 20; n4 has no coordinate.
    // `_agent` is the answering agent's node, at the origin.
    for (path, field, expected) in [
        (
            "/v1/catalog/nodes?near=n3",
            node,
            vec!["n3", "n2", "n1", me, "n4"],
        ),
        (
            "/v1/catalog/service/web?near=n1",
            node,
            vec!["n1", "n2", "n3", "n4"],
        ),
        (
            "/v1/health/service/web?near=_agent",
            entry_node,
            vec!["n1", "n2", "n3", "n4"],
        ),
        (
            "/v1/health/service/web?near=n3&passing",
            entry_node,
            vec!["n3", "n2", "n1", "n4"],
        ),
        (
            "/v1/health/checks/web?near=n2",
            node,
            vec!["n2", "n1", "n3", "n4"],
        ),
        (
            "/v1/health/state/passing?near=n3",
            node,
            vec!["n3", "n2", "n1", me, "n4"],
        ),
    ] {
        assert_eq!(order(&agent, path, field).await, expected, "{path}");
    }
    // An unknown node, or one without a coordinate, leaves the order as it was.
    let plain = order(&agent, "/v1/catalog/nodes", node).await;
    for near in ["nobody", "n4"] {
        let path = format!("/v1/catalog/nodes?near={near}");
        assert_eq!(order(&agent, &path, node).await, plain, "{path}");
    }
    // Prepared queries: the query's Near, or ?near over it.
    let query = json!({"Name": "web", "Service": {"Service": "web", "Near": "n3"}});
    let body = Some(query.to_string().into_bytes());
    let created = call_with_token("POST", &agent.url("/v1/query"), None, body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    for (path, expected) in [
        ("/v1/query/web/execute", ["n3", "n2", "n1", "n4"]),
        ("/v1/query/web/execute?near=n1", ["n1", "n2", "n3", "n4"]),
    ] {
        assert_eq!(order(&agent, path, entry_node).await, expected, "{path}");
    }
}

#[tokio::test]
async fn rtt_prints_consul_s_estimate() {
    let agent = seeded_agent().await;
    let me = agent.node_name.clone();
    let run = |args: &[&str]| {
        let output = agent.cli(args);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // 19 ms apart plus two heights of 10 us.
    assert_eq!(
        run(&["rtt", "n1", "n3"]),
        (
            Some(0),
            "Estimated n1 <-> n3 rtt: 19.020 ms (using LAN coordinates)\n".to_string(),
            String::new()
        )
    );
    // The second node defaults to the agent's, at the origin.
    assert_eq!(
        run(&["rtt", "n2"]).1,
        format!("Estimated n2 <-> {me} rtt: 5.020 ms (using LAN coordinates)\n")
    );
    let (code, _, stderr) = run(&["rtt", "n4", "n1"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr, "Could not find a coordinate for node \"n4\"\n");
    let (code, _, stderr) = run(&["rtt", "n1", "nobody"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr, "Could not find a coordinate for node \"nobody\"\n");
    let (code, _, stderr) = run(&["rtt"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("One or two node names must be specified"),
        "{stderr}"
    );
    // WAN: the datacenter's servers, named node.dc.
    assert_eq!(
        run(&["rtt", "-wan", &format!("{me}.dc1")]).1,
        format!("Estimated {me}.dc1 <-> {me}.dc1 rtt: 0.020 ms (using WAN coordinates)\n")
    );
    let (code, _, stderr) = run(&["rtt", "-wan", "n1"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "Node names must be specified as <node name>.<datacenter> with -wan\n"
    );
}

#[tokio::test]
async fn bad_updates_are_refused_with_consul_s_errors() {
    let agent = TestAgent::start_with(&FAST);
    register(&agent, "n1").await;
    let url = agent.url("/v1/coordinate/update");
    for (body, status, text) in [
        ("{", 400, "Request decode failed"),
        (
            r#"{"Node":"n1","Coord":{"Vec":"x"}}"#,
            400,
            "Request decode failed",
        ),
        (
            r#"{"Node":"n1","Coord":{"Error":1e999}}"#,
            400,
            "Request decode failed",
        ),
        (r#"{"Node":"n1"}"#, 500, "invalid coordinate"),
        (
            r#"{"Node":"n1","Coord":{"Vec":[]}}"#,
            500,
            "invalid coordinate",
        ),
        (
            r#"{"Node":"n1","Coord":{"Vec":[0,0,0],"Error":1.5,"Height":0.00001}}"#,
            500,
            "incompatible coordinate",
        ),
    ] {
        let answer = put(&url, body).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert!(answer.body.starts_with(text), "{body}: {}", answer.body);
    }
    // Fields match as Go matches them: any case, unknown ones ignored.
    let lenient = r#"{"node":"n1","coord":{"vec":[0.003,0,0,0,0,0,0,0],"error":0.5,"HEIGHT":0.0001,"extra":1}}"#;
    assert_eq!(put(&url, lenient).await.status, 200);
    let stored = wait_for(&agent, "/v1/coordinate/node/n1", |_| true)
        .await
        .json();
    assert_eq!(stored[0]["Coord"]["Height"], 0.0001);
    assert!(agent.log().contains("invalid coordinate"));
}

/// An agent with ACLs on (`default_policy = "deny"`).
struct AclAgent {
    agent: TestAgent,
    _dir: TempDir,
}

const ROOT: &str = "7c0ffee0-0000-4000-8000-00000000c00d";

impl AclAgent {
    async fn start() -> AclAgent {
        let dir = TempDir::new("coordinates-acl");
        let config = json!({"primary_datacenter": "dc1",
            "acl": {"enabled": true, "default_policy": "deny",
                    "tokens": {"initial_management": ROOT}}});
        let file = write_file(dir.path(), "acl.json", &config.to_string());
        let mut args = vec!["-config-file", &file];
        args.extend(FAST);
        let agent = TestAgent::start_with(&args);
        let acl = AclAgent { agent, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while acl
            .call("GET", "/v1/acl/token/self", Some(ROOT), None)
            .await
            .status
            != 200
        {
            assert!(Instant::now() < deadline, "no management token");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        acl
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let body = body.map(|body| body.to_string().into_bytes());
        call_with_token(method, &self.agent.url(path), token, body).await
    }

    async fn token(&self, rules: &str) -> String {
        let policy = self
            .call(
                "PUT",
                "/v1/acl/policy",
                Some(ROOT),
                Some(json!({"Name": rules.replace(['"', ' ', '{', '}', '='], ""), "Rules": rules})),
            )
            .await;
        assert_eq!(policy.status, 200, "{}", policy.body);
        let token = self
            .call(
                "PUT",
                "/v1/acl/token",
                Some(ROOT),
                Some(json!({"Policies": [{"ID": policy.json()["ID"]}]})),
            )
            .await;
        assert_eq!(token.status, 200, "{}", token.body);
        token.json()["SecretID"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn acls_filter_reads_by_node_read_and_guard_updates_with_node_write() {
    let acl = AclAgent::start().await;
    for node in ["pub-n", "secret-n"] {
        let body = json!({"Node": node, "Address": "10.2.2.2"});
        let registered = acl
            .call("PUT", "/v1/catalog/register", Some(ROOT), Some(body))
            .await;
        assert_eq!(registered.status, 200, "{}", registered.body);
        let body = json!({"Node": node, "Coord": coordinate(0.004)});
        let updated = acl
            .call("PUT", "/v1/coordinate/update", Some(ROOT), Some(body))
            .await;
        assert_eq!(updated.status, 200, "{}", updated.body);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = acl
            .call("GET", "/v1/coordinate/nodes", Some(ROOT), None)
            .await
            .json();
        if stored(&all, "pub-n").is_some() && stored(&all, "secret-n").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "never stored: {all}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reader = acl.token("node_prefix \"pub\" { policy = \"read\" }").await;
    let listed = acl
        .call("GET", "/v1/coordinate/nodes", Some(&reader), None)
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(nodes_of(&listed.json(), &["Node"]), ["pub-n"]);
    assert_eq!(
        listed
            .headers
            .get("x-consul-results-filtered-by-acls")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let anonymous = acl.call("GET", "/v1/coordinate/nodes", None, None).await;
    assert_eq!(anonymous.json(), json!([]));
    let one = acl
        .call("GET", "/v1/coordinate/node/pub-n", Some(&reader), None)
        .await;
    assert_eq!(one.status, 200);
    let hidden = acl
        .call("GET", "/v1/coordinate/node/secret-n", Some(&reader), None)
        .await;
    assert_eq!(hidden.status, 403, "{}", hidden.body);
    assert!(
        hidden
            .body
            .ends_with("lacks permission 'node:read' on \"secret-n\""),
        "{}",
        hidden.body
    );
    // ?near from a node the token cannot read sorts nothing it could not see anyway.
    let nodes = acl
        .call(
            "GET",
            "/v1/catalog/nodes?near=secret-n",
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(nodes_of(&nodes.json(), &["Node"]), ["pub-n"]);

    let writer = acl
        .token("node_prefix \"pub\" { policy = \"write\" }")
        .await;
    let body = json!({"Node": "pub-n", "Coord": coordinate(0.009)});
    let allowed = acl
        .call("PUT", "/v1/coordinate/update", Some(&writer), Some(body))
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    for token in [Some(writer.as_str()), Some(reader.as_str()), None] {
        let body = json!({"Node": "secret-n", "Coord": coordinate(0.5)});
        let refused = acl
            .call("PUT", "/v1/coordinate/update", token, Some(body))
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(
            refused
                .body
                .contains("lacks permission 'node:write' on \"secret-n\""),
            "{}",
            refused.body
        );
    }
    // The allowed update lands; the refused ones never do.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = acl
            .call("GET", "/v1/coordinate/nodes", Some(ROOT), None)
            .await
            .json();
        if stored(&all, "pub-n") == Some(&coordinate(0.009)) {
            assert_eq!(stored(&all, "secret-n"), Some(&coordinate(0.004)));
            break;
        }
        assert!(Instant::now() < deadline, "never stored: {all}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A server knows its own coordinate from the start, as Consul's WAN pool does: the
/// datacenters answer lists it without waiting for its first report to the catalog
/// (15 to 30 s after the start; py-consul's test relies on it).
#[tokio::test]
async fn a_server_lists_its_own_coordinate_at_once() {
    let agent = TestAgent::start();
    let datacenters = get(&agent.url("/v1/coordinate/datacenters")).await.json();
    assert_eq!(datacenters[0]["Datacenter"], "dc1");
    assert_eq!(datacenters[0]["AreaID"], "wan");
    assert_eq!(
        datacenters[0]["Coordinates"][0]["Node"],
        agent.node_name.as_str()
    );
}

/// Stored coordinates survive a server killed with SIGKILL: through the Raft log, and
/// through a snapshot (a threshold low enough that the writes below cross it).
#[tokio::test]
async fn coordinates_survive_a_restart_through_the_log_and_snapshots() {
    let data = TempDir::new("coordinates-durable");
    let mut args = vec!["-raft-snapshot-threshold=5"];
    args.extend(FAST);
    {
        let agent = TestAgent::start_server(data.path(), "coord-server", &args);
        for (i, node) in ["d1", "d2", "d3"].into_iter().enumerate() {
            register(&agent, node).await;
            update(&agent, node, 0.001 * (i + 1) as f64).await;
            // One batch per node, so that several log entries carry coordinates.
            wait_for(&agent, &format!("/v1/coordinate/node/{node}"), |_| true).await;
        }
        let snapshot = data.path().join("raft/snapshot.bin");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !snapshot.exists() {
            assert!(Instant::now() < deadline, "no snapshot was taken");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Dropping the agent kills it with SIGKILL.
    }
    let agent = TestAgent::start_server(data.path(), "coord-server", &args);
    let entries = get(&agent.url("/v1/coordinate/nodes")).await.json();
    for (i, node) in ["d1", "d2", "d3"].into_iter().enumerate() {
        assert_eq!(
            stored(&entries, node),
            Some(&coordinate(0.001 * (i + 1) as f64)),
            "{entries}"
        );
    }
}

/// In a cluster, gossip's probe round trips move every server's coordinate off the
/// origin (the peer's coordinate rides on each ack), and each server's report reaches
/// the catalog, where `rtt` reads it.
#[tokio::test]
async fn gossip_round_trips_move_the_servers_coordinates() {
    let cluster = TestCluster::start(3, &FAST);
    let names: Vec<String> = (0..3).map(|i| cluster.name(i).to_string()).collect();
    let agent = cluster.agent(0);
    let moved = |coord: &Value| {
        coord["Vec"]
            .as_array()
            .is_some_and(|vec| vec.iter().any(|x| x.as_f64() != Some(0.0)))
    };
    wait_for(agent, "/v1/coordinate/nodes", |list| {
        names
            .iter()
            .all(|name| stored(list, name).is_some_and(moved))
    })
    .await;
    let myself = get(&agent.url("/v1/agent/self")).await.json();
    assert!(moved(&myself["Coord"]), "{}", myself["Coord"]);
    let output = agent.cli(&["rtt", &names[1], &names[2]]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    let prefix = format!("Estimated {} <-> {} rtt: ", names[1], names[2]);
    assert!(
        stdout.starts_with(&prefix) && stdout.ends_with(" ms (using LAN coordinates)\n"),
        "{stdout}"
    );
}
