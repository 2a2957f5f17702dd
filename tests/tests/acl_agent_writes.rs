//! The agent's own catalog writes under ACLs, against a real agent with
//! `default_policy = "deny"`: a configuration file's service without a token stays out
//! of the catalog, loudly, until a default token allows it; a check whose token was
//! revoked keeps its last status in the catalog and the agent says why.

use std::time::{Duration, Instant};

use proconsul_tests::{Answer, TempDir, TestAgent, call_with_token, write_file};
use serde_json::{Value, json};

const ROOT: &str = "5d2c4ef6-0d8c-4a43-b9a0-5c1a7e0c1f01";

struct Agent {
    agent: TestAgent,
    _dir: TempDir,
}

impl Agent {
    /// A dev agent with the configuration below.
    fn start() -> Agent {
        let dir = TempDir::new("acl-writes");
        let file = Agent::config_file(&dir);
        let agent =
            TestAgent::start_with(&["-config-file", &file, "-dns-port=-1", "-ae-interval=300ms"]);
        Agent { agent, _dir: dir }
    }

    /// A durable server keeping its data in `data`, the same node on every start.
    fn start_server(data: &TempDir) -> Agent {
        let dir = TempDir::new("acl-writes");
        let file = Agent::config_file(&dir);
        let extra = ["-config-file", &file, "-dns-port=-1", "-ae-interval=300ms"];
        let agent = TestAgent::start_server(data.path(), "acl-writes", &extra);
        Agent { agent, _dir: dir }
    }

    /// ACLs on, deny by default, and one service from the file.
    fn config_file(dir: &TempDir) -> String {
        let config = json!({
            "primary_datacenter": "dc1",
            "acl": {"enabled": true, "default_policy": "deny",
                    "tokens": {"initial_management": ROOT}},
            "services": [{"name": "web", "port": 80}],
        });
        write_file(dir.path(), "agent.json", &config.to_string())
    }

    /// Registers `api` with a TTL check `api-ttl` through the agent, with `token`.
    async fn register_api(&self, token: &str) {
        let registration = json!({
            "Name": "api", "Port": 81,
            "Check": {"CheckID": "api-ttl", "Name": "api ttl", "TTL": "10m"},
        });
        let registered = self
            .call(
                "PUT",
                "/v1/agent/service/register",
                token,
                Some(registration),
            )
            .await;
        assert_eq!(registered.status, 200, "{}", registered.body);
    }

    /// The catalog's status of `api-ttl`.
    async fn catalog_api_status(&self) -> Value {
        self.root_json("/v1/health/checks/api").await[0]["Status"].clone()
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Answer {
        let body = body.map(|body| body.to_string().into_bytes());
        call_with_token(method, &self.agent.url(path), Some(token), body).await
    }

    async fn root_json(&self, path: &str) -> Value {
        let answer = self.call("GET", path, ROOT, None).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        answer.json()
    }

    /// A token allowed `service:write` on `service`; returns (AccessorID, SecretID).
    async fn service_writer(&self, service: &str) -> (String, String) {
        let rules = format!("service \"{service}\" {{ policy = \"write\" }}");
        let policy = self
            .call(
                "PUT",
                "/v1/acl/policy",
                ROOT,
                Some(json!({"Name": format!("{service}-writer"), "Rules": rules})),
            )
            .await;
        assert_eq!(policy.status, 200, "{}", policy.body);
        let token = self
            .call(
                "PUT",
                "/v1/acl/token",
                ROOT,
                Some(json!({"Policies": [{"Name": format!("{service}-writer")}]})),
            )
            .await;
        assert_eq!(token.status, 200, "{}", token.body);
        let token = token.json();
        (
            token["AccessorID"].as_str().unwrap().to_string(),
            token["SecretID"].as_str().unwrap().to_string(),
        )
    }

    /// Waits (up to a generous limit) until `done` holds of the agent.
    async fn wait_for(&self, what: &str, done: impl AsyncFn(&Agent) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(self).await {
            assert!(Instant::now() < deadline, "gave up waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn a_config_file_service_waits_for_a_token_that_allows_it() {
    let agent = Agent::start();
    agent
        .wait_for("the refusal in the log", async |agent| {
            agent
                .agent
                .log()
                .contains("Service registration blocked by ACLs")
        })
        .await;
    // Registered with the agent, refused by the catalog.
    let local = agent.root_json("/v1/agent/service/web").await;
    assert_eq!(local["Service"], "web");
    assert_eq!(agent.root_json("/v1/catalog/service/web").await, json!([]));

    // A default token with service:write on web lets anti-entropy write it.
    let (_, secret) = agent.service_writer("web").await;
    let set = agent
        .call(
            "PUT",
            "/v1/agent/token/default",
            ROOT,
            Some(json!({"Token": secret})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    agent
        .wait_for("web in the catalog", async |agent| {
            agent.root_json("/v1/catalog/service/web").await != json!([])
        })
        .await;
}

#[tokio::test]
async fn a_revoked_token_stops_its_checks_updates() {
    let agent = Agent::start();
    let (accessor, secret) = agent.service_writer("api").await;
    agent.register_api(&secret).await;
    assert_eq!(agent.catalog_api_status().await, "critical");

    // While the token lives, the check's updates reach the catalog.
    let pass = agent
        .call("PUT", "/v1/agent/check/pass/api-ttl", &secret, None)
        .await;
    assert_eq!(pass.status, 200, "{}", pass.body);
    assert_eq!(agent.catalog_api_status().await, "passing");

    let deleted = agent
        .call("DELETE", &format!("/v1/acl/token/{accessor}"), ROOT, None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);

    // The management token may change the check on the agent, but the catalog write is
    // made with the check's own token, which is gone: refused, and said so.
    let warn = agent
        .call("PUT", "/v1/agent/check/warn/api-ttl", ROOT, None)
        .await;
    assert_eq!(warn.status, 200, "{}", warn.body);
    let local = agent.root_json("/v1/agent/checks").await;
    assert_eq!(local["api-ttl"]["Status"], "warning");
    agent
        .wait_for("the refusal in the log", async |agent| {
            agent
                .agent
                .log()
                .contains("Check registration blocked by ACLs")
        })
        .await;
    assert_eq!(agent.catalog_api_status().await, "passing");
}

#[tokio::test]
async fn the_tokens_entries_were_registered_with_outlive_a_restart() {
    let data = TempDir::new("acl-writes-data");
    let secret = {
        let mut agent = Agent::start_server(&data);
        let (_, secret) = agent.service_writer("api").await;
        agent.register_api(&secret).await;
        // A graceful stop saves the agent's entries.
        assert!(agent.agent.terminate().success());
        secret
    };
    let agent = Agent::start_server(&data);
    let saved = data.path().join("local-state.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&saved).unwrap().permissions());
    assert_eq!(
        mode & 0o077,
        0,
        "the file holding tokens is readable by others"
    );
    // Changed with the management token, written with the token `api` was registered
    // with, which the restarted agent still knows (the default token would be refused).
    let pass = agent
        .call("PUT", "/v1/agent/check/pass/api-ttl", ROOT, None)
        .await;
    assert_eq!(pass.status, 200, "{}", pass.body);
    agent
        .wait_for("the check's update in the catalog", async |agent| {
            agent.catalog_api_status().await == "passing"
        })
        .await;
    let log = agent.agent.log();
    assert!(
        !log.contains("Check registration blocked"),
        "{secret}: {log}"
    );
}
