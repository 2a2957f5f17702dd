//! ACLs across datacenters: dc1 is the primary datacenter, dc2 a secondary replicating
//! policies, roles and global tokens from it (`acl.enable_token_replication`), both with
//! `default_policy = "deny"`. A policy and token made in dc1 are enforced in dc2; ACL
//! writes made in dc2 land in dc1; `/v1/acl/replication` on dc2 reports Consul's status
//! with advancing indexes; a local token of dc2 stays there; with dc1 stopped (SIGSTOP),
//! dc2 keeps enforcing what it replicated, and once dc1 runs again (SIGCONT) replication
//! resumes.

use std::time::Duration;

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{Answer, TempDir, TestAgent, call_with_token, eventually, write_file};
use serde_json::{Value, json};

/// The management token (dc1's `initial_management`, dc2's replication token).
const ROOT: &str = "4b3c5f39-1d2e-4f6a-9b8c-7d6e5f4a3b2c";
const WITHIN: Duration = Duration::from_secs(60);
/// Gossip timers shortened so that failures are noticed within seconds.
const PROBE: &str = "-gossip-probe-interval=200ms";

/// `method path` on `agent` with `token` and an optional JSON body.
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

/// A policy named `name` with `rules`, created through `agent` with the management token.
async fn create_policy(agent: &TestAgent, name: &str, rules: &str) {
    let made = call(
        agent,
        "PUT",
        "/v1/acl/policy",
        ROOT,
        Some(json!({"Name": name, "Rules": rules})),
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
}

/// A token (`body`) created through `agent` with the management token; the token.
async fn create_token(agent: &TestAgent, body: Value) -> Value {
    let made = call(agent, "PUT", "/v1/acl/token", ROOT, Some(body)).await;
    assert_eq!(made.status, 200, "{}", made.body);
    made.json()
}

/// Whether `agent` knows the policy called `name`.
async fn has_policy(agent: &TestAgent, name: &str) -> bool {
    call(
        agent,
        "GET",
        &format!("/v1/acl/policy/name/{name}"),
        ROOT,
        None,
    )
    .await
    .status
        == 200
}

/// `GET /v1/acl/replication` on `agent`.
async fn replication(agent: &TestAgent) -> Value {
    call(agent, "GET", "/v1/acl/replication", ROOT, None)
        .await
        .json()
}

/// The two configuration files: dc1's (primary) and dc2's (secondary, replicating tokens
/// or not).
fn acl_configs(dir: &TempDir, token_replication: bool) -> (String, String) {
    let primary = write_file(
        dir.path(),
        "dc1.hcl",
        &format!(
            "primary_datacenter = \"dc1\"\nacl {{\n  enabled = true\n  default_policy = \"deny\"\n  \
             tokens {{\n    initial_management = \"{ROOT}\"\n    agent = \"{ROOT}\"\n  }}\n}}\n"
        ),
    );
    let secondary = write_file(
        dir.path(),
        "dc2.hcl",
        &format!(
            "primary_datacenter = \"dc1\"\nacl {{\n  enabled = true\n  default_policy = \"deny\"\n  \
             enable_token_replication = {token_replication}\n  tokens {{\n    replication = \"{ROOT}\"\n    \
             agent = \"{ROOT}\"\n  }}\n}}\n"
        ),
    );
    (primary, secondary)
}

struct Federation {
    dc1: TestAgent,
    dc2: TestAgent,
    _dirs: [TempDir; 3],
}

/// dc1 (primary) and dc2 (secondary, replicating tokens or not), one server each, joined
/// over the WAN pool.
fn federation(token_replication: bool) -> Federation {
    let dirs = [
        TempDir::new("acl-dc1"),
        TempDir::new("acl-dc2"),
        TempDir::new("acl-conf"),
    ];
    let (primary, secondary) = acl_configs(&dirs[2], token_replication);
    let dc1_config = format!("-config-file={primary}");
    let dc1 = TestAgent::start_server(
        dirs[0].path(),
        "server-a",
        &["-datacenter=dc1", PROBE, &dc1_config],
    );
    let join = format!("-retry-join-wan=127.0.0.1:{}", dc1.serf_wan_port);
    let dc2_config = format!("-config-file={secondary}");
    let dc2 = TestAgent::start_server(
        dirs[1].path(),
        "server-b",
        &[
            "-datacenter=dc2",
            PROBE,
            "-retry-interval=200ms",
            &join,
            &dc2_config,
        ],
    );
    Federation {
        dc1,
        dc2,
        _dirs: dirs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primarys_acls_are_enforced_in_the_secondary_and_survive_its_absence() {
    let Federation { dc1, dc2, _dirs } = federation(true);

    // Replication brings dc1's management token to dc2.
    eventually("the management token in dc2", WITHIN, || async {
        call(&dc2, "GET", "/v1/acl/token/self", ROOT, None)
            .await
            .status
            == 200
    })
    .await;
    let status = replication(&dc1).await;
    assert_eq!(
        status["Enabled"], false,
        "the primary does not replicate: {status}"
    );

    // A policy and a token made in dc1 ...
    create_policy(&dc1, "app-read", r#"key_prefix "app/" { policy = "read" }"#).await;
    let token = create_token(
        &dc1,
        json!({"Description": "reader", "Policies": [{"Name": "app-read"}]}),
    )
    .await;
    let reader = token["SecretID"].as_str().unwrap().to_string();
    assert_eq!(token["Local"], false);
    // ... are enforced in dc2, on dc2's own KV.
    let written = call(&dc2, "PUT", "/v1/kv/app/greeting", ROOT, None).await;
    assert_eq!(written.status, 200, "{}", written.body);
    eventually("the reader token allowed in dc2", WITHIN, || async {
        call(&dc2, "GET", "/v1/kv/app/greeting", &reader, None)
            .await
            .status
            == 200
    })
    .await;
    let denied = call(&dc2, "PUT", "/v1/kv/app/greeting", &reader, None).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    let denied = call(&dc2, "GET", "/v1/kv/other", &reader, None).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    let unknown = call(&dc2, "GET", "/v1/kv/app/greeting", "no-such-token", None).await;
    assert_eq!(unknown.status, 403, "{}", unknown.body);
    assert!(unknown.body.contains("ACL not found"), "{}", unknown.body);

    // A policy written in dc2 is written in dc1 (then replicated back).
    create_policy(&dc2, "from-dc2", r#"node_prefix "" { policy = "read" }"#).await;
    assert!(has_policy(&dc1, "from-dc2").await, "written in the primary");
    eventually("the policy back in dc2", WITHIN, || async {
        has_policy(&dc2, "from-dc2").await
    })
    .await;
    // So is a global token; a local token stays in dc2.
    let global = create_token(&dc2, json!({"Policies": [{"Name": "app-read"}]})).await;
    let global_id = global["AccessorID"].as_str().unwrap().to_string();
    let found = call(
        &dc1,
        "GET",
        &format!("/v1/acl/token/{global_id}"),
        ROOT,
        None,
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let local = create_token(
        &dc2,
        json!({"Local": true, "Policies": [{"Name": "app-read"}]}),
    )
    .await;
    let (local_id, local_secret) = (
        local["AccessorID"].as_str().unwrap().to_string(),
        local["SecretID"].as_str().unwrap().to_string(),
    );
    assert_eq!(local["Local"], true);
    let elsewhere = call(
        &dc1,
        "GET",
        &format!("/v1/acl/token/{local_id}"),
        ROOT,
        None,
    )
    .await;
    assert_ne!(elsewhere.status, 200, "{}", elsewhere.body);
    let used = call(&dc2, "GET", "/v1/kv/app/greeting", &local_secret, None).await;
    assert_eq!(used.status, 200, "{}", used.body);

    // The status, in Consul's shape, with indexes that advance.
    let status = replication(&dc2).await;
    assert_eq!(status["Enabled"], true, "{status}");
    assert_eq!(status["Running"], true, "{status}");
    assert_eq!(status["SourceDatacenter"], "dc1", "{status}");
    assert_eq!(status["ReplicationType"], "tokens", "{status}");
    assert!(
        status["ReplicatedTokenIndex"].as_u64().unwrap() > 0,
        "{status}"
    );
    assert!(status["ReplicatedRoleIndex"].is_u64(), "{status}");
    assert!(status["LastError"].is_string(), "{status}");
    assert!(status["LastErrorMessage"].is_string(), "{status}");
    assert_ne!(status["LastSuccess"], "0001-01-01T00:00:00Z", "{status}");
    let before = status["ReplicatedIndex"].as_u64().unwrap();
    assert!(before > 0, "{status}");
    create_policy(&dc1, "later", r#"node_prefix "" { policy = "read" }"#).await;
    eventually("the policy index to advance", WITHIN, || async {
        replication(&dc2).await["ReplicatedIndex"]
            .as_u64()
            .unwrap_or(0)
            > before
    })
    .await;
    assert!(has_policy(&dc2, "later").await);
    // Replication rounds since leave the local token alone.
    let used = call(&dc2, "GET", "/v1/kv/app/greeting", &local_secret, None).await;
    assert_eq!(used.status, 200, "{}", used.body);

    // dc1 stopped: dc2 still enforces what it replicated.
    dc1.signal("STOP");
    for _ in 0..5 {
        let allowed = call(&dc2, "GET", "/v1/kv/app/greeting", &reader, None).await;
        assert_eq!(allowed.status, 200, "{}", allowed.body);
        let denied = call(&dc2, "GET", "/v1/kv/other", &reader, None).await;
        assert_eq!(denied.status, 403, "{}", denied.body);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // dc1 running again: replication resumes.
    dc1.signal("CONT");
    create_policy(&dc1, "after-pause", r#"node_prefix "" { policy = "read" }"#).await;
    eventually("a new policy in dc2 after the pause", WITHIN, || async {
        has_policy(&dc2, "after-pause").await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_per_datacenter_replicate_through_the_secondarys_leader() {
    let conf = TempDir::new("acl-conf3");
    let (primary, secondary) = acl_configs(&conf, true);
    let dc1_config = format!("-config-file={primary}");
    let dc1 = TestCluster::start(3, &["-datacenter=dc1", PROBE, &dc1_config]);
    let join = format!("-retry-join-wan=127.0.0.1:{}", dc1.serf_wan_port(0));
    let dc2_config = format!("-config-file={secondary}");
    let mut dc2 = TestCluster::start(3, &["-datacenter=dc2", PROBE, &join, &dc2_config]);
    let leader = dc2.wait_for_leader(WITHIN);
    let follower = (leader + 1) % 3;

    // Written through dc1 and dc2 followers alike; enforced by every dc2 server.
    create_policy(
        dc2.agent(follower),
        "app-read",
        r#"key_prefix "app/" { policy = "read" }"#,
    )
    .await;
    let token = create_token(dc1.agent(1), json!({"Policies": [{"Name": "app-read"}]})).await;
    let reader = token["SecretID"].as_str().unwrap().to_string();
    eventually("the root token in dc2", WITHIN, || async {
        call(dc2.agent(follower), "PUT", "/v1/kv/app/k", ROOT, None)
            .await
            .status
            == 200
    })
    .await;
    for i in 0..3 {
        eventually("the reader token on every dc2 server", WITHIN, || async {
            call(dc2.agent(i), "GET", "/v1/kv/app/k", &reader, None)
                .await
                .status
                == 200
        })
        .await;
        let denied = call(dc2.agent(i), "GET", "/v1/kv/other", &reader, None).await;
        assert_eq!(denied.status, 403, "{}", denied.body);
    }
    // A follower reports the leader's status.
    let status = replication(dc2.agent(follower)).await;
    assert_eq!(status["Running"], true, "{status}");
    assert_eq!(status["SourceDatacenter"], "dc1", "{status}");

    // The leader gone, the next one replicates.
    dc2.kill(leader);
    create_policy(
        dc1.agent(0),
        "after-failover",
        r#"node_prefix "" { policy = "read" }"#,
    )
    .await;
    eventually("the policy in dc2 after a new leader", WITHIN, || async {
        has_policy(dc2.agent(follower), "after-failover").await
    })
    .await;
    eventually("a new leader's status", WITHIN, || async {
        replication(dc2.agent(follower)).await["Running"] == true
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_token_replication_the_secondary_asks_the_primary_for_tokens() {
    let Federation { dc1, dc2, _dirs } = federation(false);
    create_policy(&dc1, "app-read", r#"key_prefix "app/" { policy = "read" }"#).await;
    let token = create_token(&dc1, json!({"Policies": [{"Name": "app-read"}]})).await;
    let reader = token["SecretID"].as_str().unwrap().to_string();
    // The management token resolves through the primary as soon as dc2 routes there.
    eventually(
        "a write in dc2 with the primary's token",
        WITHIN,
        || async {
            call(&dc2, "PUT", "/v1/kv/app/greeting", ROOT, None)
                .await
                .status
                == 200
        },
    )
    .await;
    let allowed = call(&dc2, "GET", "/v1/kv/app/greeting", &reader, None).await;
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    let denied = call(&dc2, "GET", "/v1/kv/other", &reader, None).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    let unknown = call(&dc2, "GET", "/v1/kv/app/greeting", "no-such-token", None).await;
    assert_eq!(unknown.status, 403, "{}", unknown.body);
    // Policies are replicated, tokens are not.
    eventually("the policy in dc2", WITHIN, || async {
        has_policy(&dc2, "app-read").await
    })
    .await;
    let status = replication(&dc2).await;
    assert_eq!(status["ReplicationType"], "policies", "{status}");
    assert_eq!(status["ReplicatedTokenIndex"], 0, "{status}");
}
