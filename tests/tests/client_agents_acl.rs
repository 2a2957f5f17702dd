//! Client agents with ACLs, as Consul runs them in production: three servers and one
//! client, all with `acl.enabled` and `default_policy = "deny"`. The client resolves
//! tokens through the servers for its own endpoints, forwards everything else with the
//! caller's token (else its default token), writes its catalog entries with their
//! tokens and its node info with the agent token (the servers check them; refusals are
//! logged and retried), and follows its `down_policy` when no server answers
//! (`extend-cache`, `async-cache`, `allow`, `deny`).

use std::time::Duration;

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{
    AgentPorts, Answer, TempDir, TestAgent, call_with_token, eventually, write_file,
};
use serde_json::{Value, json};

const WITHIN: Duration = Duration::from_secs(30);

/// `method path` on `agent` with `token` (empty: none) and an optional JSON body.
async fn call(
    agent: &TestAgent,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Answer {
    let token = Some(token).filter(|token| !token.is_empty());
    let body = body.map(|body| body.to_string().into_bytes());
    call_with_token(method, &agent.url(path), token, body).await
}

/// `PUT /v1/agent/token/<kind>` on `agent`, made with `token`, setting `secret`.
async fn set_agent_token(agent: &TestAgent, kind: &str, token: &str, secret: &str) -> Answer {
    let body = json!({"Token": secret});
    call(
        agent,
        "PUT",
        &format!("/v1/agent/token/{kind}"),
        token,
        Some(body),
    )
    .await
}

/// Creates a policy with `rules` and a token carrying it, through `agent`; the token's
/// secret.
async fn token_with(agent: &TestAgent, root: &str, name: &str, rules: &str) -> String {
    let policy = call(
        agent,
        "PUT",
        "/v1/acl/policy",
        root,
        Some(json!({"Name": name, "Rules": rules})),
    )
    .await;
    assert_eq!(policy.status, 200, "{}", policy.body);
    let token = call(
        agent,
        "PUT",
        "/v1/acl/token",
        root,
        Some(json!({"Policies": [{"Name": name}]})),
    )
    .await;
    assert_eq!(token.status, 200, "{}", token.body);
    token.json()["SecretID"].as_str().unwrap().to_string()
}

/// The catalog's entry for `node` on server `server`, read with `root`.
async fn catalog_node(server: &TestAgent, root: &str, node: &str) -> Value {
    let answer = call(
        server,
        "GET",
        &format!("/v1/catalog/node/{node}"),
        root,
        None,
    )
    .await;
    serde_json::from_str(&answer.body).unwrap_or(Value::Null)
}

/// How many times the client logged that ACLs blocked its node's update.
fn node_blocks(client: &TestAgent) -> usize {
    client
        .log()
        .matches("Node info update blocked by ACLs")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_agent_with_acls_resolves_tokens_through_the_servers() {
    let files = TempDir::new("client-acl-files");
    let acl = json!({"enabled": true, "default_policy": "deny"});
    let server_config = write_file(
        files.path(),
        "server.json",
        &json!({"primary_datacenter": "dc1", "acl": acl}).to_string(),
    );
    let mut cluster = TestCluster::start(3, &["-config-file", &server_config]);
    cluster.wait_for_leader(WITHIN);
    let client_config = write_file(
        files.path(),
        "client.json",
        &json!({
            "node_meta": {"rack": "r1"},
            "acl": {"enabled": true, "default_policy": "deny",
                    "down_policy": "extend-cache", "token_ttl": "1s"},
        })
        .to_string(),
    );
    let data = TempDir::new("client-acl");
    let client = cluster.start_client(
        "client-1",
        &[0],
        data.path(),
        AgentPorts::free(),
        &["-config-file", &client_config, "-ae-interval=1h"],
    );

    // Bootstrapping goes through the client to the servers.
    let bootstrap = call(&client, "PUT", "/v1/acl/bootstrap", "", None).await;
    assert_eq!(bootstrap.status, 200, "{}", bootstrap.body);
    let root = bootstrap.json()["SecretID"].as_str().unwrap().to_string();
    let web = token_with(
        &client,
        &root,
        "web",
        r#"service "web" { policy = "write" }"#,
    )
    .await;
    let reader = token_with(
        &client,
        &root,
        "reader",
        r#"node_prefix "" { policy = "read" } key_prefix "" { policy = "read" }"#,
    )
    .await;
    let no_node = token_with(
        &client,
        &root,
        "no-node",
        r#"service "x" { policy = "read" }"#,
    )
    .await;
    let node_writer = token_with(
        &client,
        &root,
        "node-writer",
        r#"node "client-1" { policy = "write" }"#,
    )
    .await;

    // The client's own endpoints: a token without service:write is refused by the
    // client itself, with Consul's text naming the token; no token at all too.
    let registration = json!({"Name": "web", "ID": "web-1", "Port": 80});
    for token in [reader.as_str(), ""] {
        let refused = call(
            &client,
            "PUT",
            "/v1/agent/service/register",
            token,
            Some(registration.clone()),
        )
        .await;
        assert_eq!(refused.status, 403, "{token:?}: {}", refused.body);
        assert!(
            refused.body.contains("Permission denied"),
            "{}",
            refused.body
        );
    }
    assert!(
        call(&client, "GET", "/v1/agent/services", "", None)
            .await
            .json()
            .as_object()
            .unwrap()
            .is_empty()
    );
    // With service:write it is registered, and its write (made with that token) is
    // taken by the servers.
    let registered = call(
        &client,
        "PUT",
        "/v1/agent/service/register",
        &web,
        Some(registration),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    eventually(
        "web on client-1 in every server's catalog",
        WITHIN,
        || async {
            let mut everywhere = true;
            for i in cluster.running() {
                let answer = call(
                    cluster.agent(i),
                    "GET",
                    "/v1/catalog/service/web",
                    &root,
                    None,
                )
                .await;
                let rows: Vec<Value> = serde_json::from_str(&answer.body).unwrap_or_default();
                everywhere &= rows.iter().any(|row| row["Node"] == "client-1");
            }
            everywhere
        },
    )
    .await;

    // Forwarded requests carry the caller's token; the server authorizes them.
    let written = call(&client, "PUT", "/v1/kv/app/config", &root, Some(json!("v"))).await;
    assert_eq!(written.status, 200, "{}", written.body);
    let anonymous = call(&client, "GET", "/v1/kv/app/config", "", None).await;
    assert_eq!(anonymous.status, 403, "{}", anonymous.body);
    let read = call(&client, "GET", "/v1/kv/app/config", &reader, None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()[0]["Key"], "app/config");

    // agent/self and members follow the servers' rules: agent:read, node:read.
    assert_eq!(
        call(&client, "GET", "/v1/agent/self", "", None)
            .await
            .status,
        403
    );
    let me = call(&client, "GET", "/v1/agent/self", &root, None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["Config"]["Server"], false);
    let hidden = call(&client, "GET", "/v1/agent/members", "", None).await;
    assert_eq!(hidden.status, 200);
    assert_eq!(hidden.json(), json!([]));
    let members = call(&client, "GET", "/v1/agent/members", &reader, None).await;
    assert_eq!(
        members.json().as_array().unwrap().len(),
        4,
        "{}",
        members.body
    );
    // Setting the client's own tokens needs agent:write on it.
    let refused = set_agent_token(&client, "agent", &web, &no_node).await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // Anti-entropy writes the node's own entry with the agent token: without
    // node:write the servers refuse it (logged, retried), so the catalog lacks the
    // client's node_meta; with node:write it syncs.
    // Counted before the token is set: setting it starts a sync at once (the periodic
    // one is an hour away), whose refusal may be logged before the PUT's answer arrives.
    let before = node_blocks(&client);
    let set = set_agent_token(&client, "agent", &root, &no_node).await;
    assert_eq!(set.status, 200, "{}", set.body);
    eventually(
        "a refused node update after the new agent token",
        WITHIN,
        || async { node_blocks(&client) > before },
    )
    .await;
    let node = catalog_node(cluster.agent(0), &root, "client-1").await;
    assert_eq!(node["Node"]["Node"], "client-1", "{node}");
    assert!(node["Node"]["Meta"].get("rack").is_none(), "{node}");
    let set = set_agent_token(&client, "agent", &root, &node_writer).await;
    assert_eq!(set.status, 200, "{}", set.body);
    eventually("client-1's node_meta in the catalog", WITHIN, || async {
        catalog_node(cluster.agent(0), &root, "client-1").await["Node"]["Meta"]["rack"] == "r1"
    })
    .await;

    // A service whose registration token is deleted: once the catalog loses it,
    // anti-entropy's write with that token is refused by the servers and logged.
    let api = token_with(
        &client,
        &root,
        "api",
        r#"service "api" { policy = "write" }"#,
    )
    .await;
    let registration = json!({"Name": "api", "ID": "api-1", "Port": 81});
    let registered = call(
        &client,
        "PUT",
        "/v1/agent/service/register",
        &api,
        Some(registration),
    )
    .await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let accessor = call(&client, "GET", "/v1/acl/token/self", &api, None)
        .await
        .json()["AccessorID"]
        .as_str()
        .unwrap()
        .to_string();
    let deleted = call(
        &client,
        "DELETE",
        &format!("/v1/acl/token/{accessor}"),
        &root,
        None,
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let removal = json!({"Node": "client-1", "ServiceID": "api-1"});
    let removed = call(
        &client,
        "PUT",
        "/v1/catalog/deregister",
        &root,
        Some(removal),
    )
    .await;
    assert_eq!(removed.status, 200, "{}", removed.body);

    // A request without a token is made with the client's default token, on its own
    // endpoints and on the way to the servers (setting it also starts a sync).
    let set = set_agent_token(&client, "default", &root, &reader).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let read = call(&client, "GET", "/v1/kv/app/config", "", None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    let members = call(&client, "GET", "/v1/agent/members", "", None).await;
    assert_eq!(
        members.json().as_array().unwrap().len(),
        4,
        "{}",
        members.body
    );
    eventually("the refused re-registration of api-1", WITHIN, || async {
        client
            .log()
            .contains("Service registration blocked by ACLs")
    })
    .await;
    let api_rows = call(
        cluster.agent(0),
        "GET",
        "/v1/catalog/service/api",
        &root,
        None,
    )
    .await;
    assert_eq!(api_rows.json(), json!([]), "{}", api_rows.body);

    // down_policy extend-cache: with every server gone, a token the client resolved
    // before still authorizes its own endpoints past token_ttl; one it never saw does
    // not.
    let own = call(&client, "GET", "/v1/agent/service/web-1", &web, None).await;
    assert_eq!(own.status, 200, "{}", own.body);
    for i in cluster.running() {
        cluster.terminate(i);
    }
    // Past token_ttl (1s), so the cached entry is stale and the servers are asked.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cached = call(&client, "GET", "/v1/agent/service/web-1", &web, None).await;
    assert_eq!(cached.status, 200, "{}", cached.body);
    assert!(
        client.log().contains("using the cached token past its TTL"),
        "the stale entry was not used:\n{}",
        client.log()
    );
    let version = call(&client, "GET", "/v1/agent/version", "", None).await;
    assert_eq!(version.status, 200, "{}", version.body);
    let unknown = call(&client, "GET", "/v1/agent/self", "never-seen-secret", None).await;
    assert_eq!(unknown.status, 403, "{}", unknown.body);
    let services = call(&client, "GET", "/v1/agent/services", &web, None).await;
    assert_eq!(services.status, 200, "{}", services.body);
    assert!(services.json().get("web-1").is_some(), "{}", services.body);
}

/// `GET /v1/agent/self` on `client` with `token`: its status.
async fn agent_self_status(client: &TestAgent, token: &str) -> u16 {
    call(client, "GET", "/v1/agent/self", token, None)
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_down_policy_decides_a_clients_tokens_when_no_server_answers() {
    let files = TempDir::new("client-down-files");
    let acl = json!({"enabled": true, "default_policy": "deny"});
    let server_config = write_file(
        files.path(),
        "server.json",
        &json!({"primary_datacenter": "dc1", "acl": acl}).to_string(),
    );
    let mut cluster = TestCluster::start(1, &["-config-file", &server_config]);
    cluster.wait_for_leader(WITHIN);
    let data = TempDir::new("client-down");
    let clients: Vec<TestAgent> = ["allow", "deny", "async-cache"]
        .iter()
        .map(|policy| {
            let config = write_file(
                files.path(),
                &format!("{policy}.json"),
                &json!({"acl": {"enabled": true, "default_policy": "deny",
                                "down_policy": policy, "token_ttl": "1s"}})
                .to_string(),
            );
            cluster.start_client(
                &format!("client-{policy}"),
                &[0],
                &data.path().join(policy),
                AgentPorts::free(),
                &["-config-file", &config, "-ae-interval=1h"],
            )
        })
        .collect();
    let bootstrap = call(cluster.agent(0), "PUT", "/v1/acl/bootstrap", "", None).await;
    assert_eq!(bootstrap.status, 200, "{}", bootstrap.body);
    let root = bootstrap.json()["SecretID"].as_str().unwrap().to_string();
    let reader = token_with(
        cluster.agent(0),
        &root,
        "agent-reader",
        r#"agent_prefix "" { policy = "read" }"#,
    )
    .await;
    // With the server up, every client resolves the reader through it, whatever its
    // down policy; a secret nobody issued is refused.
    for client in &clients {
        eventually("the reader resolves on the client", WITHIN, || async {
            agent_self_status(client, &reader).await == 200
        })
        .await;
        assert_eq!(agent_self_status(client, "never-issued").await, 403);
    }

    cluster.terminate(0);
    // Past token_ttl (1s): every cached entry is stale and the servers are asked.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let [allow, deny, async_cache] = &clients[..] else {
        unreachable!()
    };
    // allow: everything is allowed, even a secret nobody issued.
    assert_eq!(agent_self_status(allow, "never-issued").await, 200);
    // deny: everything is refused, even the token resolved before.
    assert_eq!(agent_self_status(deny, &reader).await, 403);
    // async-cache: the stale entry answers at once (a refresh runs behind it, and
    // fails), again and again; a token never seen is refused.
    for _ in 0..3 {
        assert_eq!(agent_self_status(async_cache, &reader).await, 200);
    }
    assert_eq!(agent_self_status(async_cache, "never-issued").await, 403);
}

/// The names `dig` answers for `name` (A records) on `port`.
fn dns_addresses(port: u16, name: &str) -> Vec<String> {
    proconsul_tests::dig::dig(port, &[name, "A"]).answers("A")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_agent_answers_dns_as_its_own_dns_token_may_read() {
    let files = TempDir::new("client-acl-dns-files");
    let acl = json!({"enabled": true, "default_policy": "deny"});
    let config = write_file(
        files.path(),
        "acl.json",
        &json!({"primary_datacenter": "dc1", "acl": acl}).to_string(),
    );
    let cluster = TestCluster::start(1, &["-config-file", &config]);
    cluster.wait_for_leader(WITHIN);
    let data = TempDir::new("client-acl-dns");
    let client = cluster.start_client(
        "client-1",
        &[0],
        data.path(),
        AgentPorts::free(),
        &["-config-file", &config],
    );
    let server = cluster.agent(0);
    let bootstrap = call(server, "PUT", "/v1/acl/bootstrap", "", None).await;
    assert_eq!(bootstrap.status, 200, "{}", bootstrap.body);
    let root = bootstrap.json()["SecretID"].as_str().unwrap().to_string();
    for (service, address) in [("web", "10.0.0.5"), ("db", "10.0.0.6")] {
        let register = json!({"Node": format!("{service}-node"), "Address": address,
            "Service": {"Service": service, "Port": 80}});
        let answer = call(server, "PUT", "/v1/catalog/register", &root, Some(register)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    // Anonymous (no DNS token anywhere, default deny): nothing is answered.
    assert!(dns_addresses(client.dns_port, "web.service.consul").is_empty());

    // The client's DNS token reads `web` and every node: the client's answers follow it.
    let dns_token = token_with(
        server,
        &root,
        "dns-web",
        r#"service "web" { policy = "read" } node_prefix "" { policy = "read" }"#,
    )
    .await;
    let set = set_agent_token(&client, "dns", &root, &dns_token).await;
    assert_eq!(set.status, 200, "{}", set.body);
    eventually("the client answers web", WITHIN, || async {
        dns_addresses(client.dns_port, "web.service.consul") == ["10.0.0.5"]
    })
    .await;
    assert!(dns_addresses(client.dns_port, "db.service.consul").is_empty());
    // The server answers with its own (anonymous) DNS token: the client's was the one
    // used for the client's answers.
    assert!(dns_addresses(server.dns_port, "web.service.consul").is_empty());
}
