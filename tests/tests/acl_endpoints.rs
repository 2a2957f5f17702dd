//! The ACL HTTP surface against a real agent started with an `acl { ... }` config file:
//! every `/v1/acl/*` endpoint's happy path and Consul's error texts and status codes,
//! `PUT /v1/agent/token/*` with persistence, bootstrap and its reset file, the leader's
//! initialization and token expiry, and 401 everywhere with ACLs disabled.

use std::time::Duration;

use proconsul_tests::{Answer, TempDir, TestAgent, call_with_token, write_file};
use serde_json::{Value, json};

/// The `initial_management` secret of the agents below (any string, as py-consul uses).
const ROOT: &str = "9f86d081884c7d659a2feaa0c55ad015";

/// An agent with ACLs enabled by a config file, and the directory holding the file.
struct AclAgent {
    agent: TestAgent,
    _dir: TempDir,
}

impl AclAgent {
    /// A dev agent with ACLs enabled, the initial management token [`ROOT`], and
    /// `extra` merged into the `acl` block.
    fn start(extra: Value) -> AclAgent {
        let mut acl = json!({"enabled": true, "tokens": {"initial_management": ROOT}});
        merge(&mut acl, extra);
        AclAgent::with_config(json!({"primary_datacenter": "dc1", "acl": acl}), &[])
    }

    fn with_config(config: Value, mode: &[&str]) -> AclAgent {
        let dir = TempDir::new("acl");
        let file = write_file(dir.path(), "acl.json", &config.to_string());
        let mut args: Vec<&str> = mode.to_vec();
        args.extend(["-config-file", &file, "-dns-port=-1"]);
        let agent = TestAgent::start_with(&args);
        AclAgent { agent, _dir: dir }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        request(
            &self.agent,
            method,
            path,
            token,
            body.map(|b| b.to_string()),
        )
        .await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call("GET", path, token, None).await
    }

    async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call("PUT", path, token, Some(body)).await
    }

    /// `GET` with the management token, which must succeed.
    async fn read(&self, path: &str) -> Value {
        let answer = self.get(path, Some(ROOT)).await;
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        answer.json()
    }

    /// `PUT` with the management token, which must succeed.
    async fn write(&self, path: &str, body: Value) -> Value {
        let answer = self.put(path, Some(ROOT), body).await;
        assert_eq!(answer.status, 200, "PUT {path}: {}", answer.body);
        answer.json()
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                merge(into.entry(key).or_insert(Value::Null), value);
            }
        }
        (slot, value) => *slot = value,
    }
}

/// One request with an optional `X-Consul-Token` and raw body.
async fn request(
    agent: &TestAgent,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Answer {
    call_with_token(
        method,
        &agent.url(path),
        token,
        body.map(String::into_bytes),
    )
    .await
}

fn assert_answer(answer: &Answer, status: u16, body: &str) {
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (status, body),
        "{answer:?}"
    );
}

const ANONYMOUS_LACKS_ACL_READ: &str = "Permission denied: anonymous token lacks permission 'acl:read'. The anonymous token is used implicitly when a request does not specify a token.";

#[tokio::test]
async fn with_acls_disabled_every_endpoint_is_401() {
    let agent = TestAgent::start_with(&["-dns-port=-1"]);
    for (method, path) in [
        ("PUT", "/v1/acl/bootstrap"),
        ("GET", "/v1/acl/replication"),
        ("GET", "/v1/acl/tokens"),
        ("GET", "/v1/acl/token/self"),
        ("PUT", "/v1/acl/policy"),
        ("GET", "/v1/acl/policy/name/global-management"),
        (
            "DELETE",
            "/v1/acl/role/00000000-0000-0000-0000-000000000009",
        ),
        ("GET", "/v1/acl/templated-policies"),
        ("POST", "/v1/acl/login"),
        ("PUT", "/v1/agent/token/default"),
    ] {
        let answer = request(&agent, method, path, Some(ROOT), Some("{}".into())).await;
        assert_answer(&answer, 401, "ACL support disabled");
    }
}

#[tokio::test]
async fn the_leader_creates_the_builtins_and_the_initial_management_token() {
    let acl = AclAgent::start(json!({}));
    let tokens = acl.read("/v1/acl/tokens").await;
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let root = tokens
        .iter()
        .find(|token| token["SecretID"] == ROOT)
        .expect("the initial management token");
    assert_eq!(root["Description"], "Initial Management Token");
    assert_eq!(
        root["Policies"],
        json!([{"ID": "00000000-0000-0000-0000-000000000001", "Name": "global-management"}])
    );
    assert_eq!(root["Local"], false);
    assert!(root.get("ExpirationTTL").is_none() && root.get("Roles").is_none());
    let anonymous = tokens
        .iter()
        .find(|token| token["AccessorID"] == "00000000-0000-0000-0000-000000000002")
        .expect("the anonymous token");
    assert_eq!(anonymous["SecretID"], "anonymous");
    assert_eq!(anonymous["Description"], "Anonymous Token");

    // Bootstrapped by initial_management already.
    let answer = acl.put("/v1/acl/bootstrap", None, json!({})).await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        answer
            .body
            .starts_with("Permission denied: ACL bootstrap no longer allowed (reset index: "),
        "{}",
        answer.body
    );
    let replication = acl.read("/v1/acl/replication").await;
    assert_eq!(replication["Enabled"], false);
    assert_eq!(replication["Running"], false);
    assert_eq!(replication["LastSuccess"], "0001-01-01T00:00:00Z");
}

#[tokio::test]
async fn bootstrap_once_then_again_with_the_reset_file() {
    let data = TempDir::new("acl-bootstrap");
    let data_dir = data.path().join("data");
    let dir = TempDir::new("acl-config");
    let file = write_file(
        dir.path(),
        "acl.hcl",
        "acl {\n  enabled = true\n  default_policy = \"deny\"\n}\n",
    );
    let agent = TestAgent::start_server(
        &data_dir,
        "bootstrap-node",
        &["-config-file", &file, "-dns-port=-1"],
    );

    let answer = request(
        &agent,
        "PUT",
        "/v1/acl/bootstrap",
        None,
        Some("{\"Bogus\": 1}".into()),
    )
    .await;
    assert_answer(
        &answer,
        400,
        "Request decoding failed: json: unknown field \"Bogus\"",
    );

    let answer = request(&agent, "PUT", "/v1/acl/bootstrap", None, None).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        answer.body.starts_with("{\"ID\":\""),
        "ID comes first: {}",
        answer.body
    );
    let token = answer.json();
    assert_eq!(token["ID"], token["SecretID"]);
    assert_eq!(token["Description"], "Bootstrap Token (Global Management)");
    assert_eq!(token["Policies"][0]["Name"], "global-management");
    let secret = token["SecretID"].as_str().unwrap().to_string();
    let me = request(&agent, "GET", "/v1/acl/token/self", Some(&secret), None).await;
    assert_eq!(me.json()["AccessorID"], token["AccessorID"]);

    let answer = request(&agent, "PUT", "/v1/acl/bootstrap", None, None).await;
    assert_eq!(answer.status, 403, "{answer:?}");
    let index: u64 = answer
        .body
        .strip_prefix("Permission denied: ACL bootstrap no longer allowed (reset index: ")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|index| index.parse().ok())
        .unwrap_or_else(|| panic!("{}", answer.body));

    let reset = data_dir.join("acl-bootstrap-reset");
    std::fs::write(&reset, format!("{}", index + 7)).unwrap();
    let answer = request(&agent, "PUT", "/v1/acl/bootstrap", None, None).await;
    assert_answer(
        &answer,
        500,
        &format!(
            "Invalid bootstrap reset index (specified {}, reset index: {index})",
            index + 7
        ),
    );
    std::fs::write(&reset, format!("{index}\n")).unwrap();
    let secret = "6b1f3c2e-0d4a-4e8b-9c7d-5a6b7c8d9e0f";
    let answer = request(
        &agent,
        "PUT",
        "/v1/acl/bootstrap",
        None,
        Some(json!({"BootstrapSecret": secret}).to_string()),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["SecretID"], secret);
    assert!(!reset.exists(), "the reset file is consumed");
    let answer = request(&agent, "PUT", "/v1/acl/bootstrap", None, None).await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        !answer.body.contains(&format!("reset index: {index})")),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn tokens_create_read_update_clone_delete_and_list() {
    let acl = AclAgent::start(json!({}));

    // Without acl:read or acl:write: Consul's 403s naming the token.
    assert_answer(
        &acl.get("/v1/acl/tokens", None).await,
        403,
        ANONYMOUS_LACKS_ACL_READ,
    );
    let answer = acl.get("/v1/acl/tokens", Some("anonymous")).await;
    assert_eq!(answer.status, 403);
    let answer = acl.put("/v1/acl/token", None, json!({})).await;
    assert!(
        answer.body.contains("lacks permission 'acl:write'"),
        "{answer:?}"
    );
    assert_answer(
        &acl.get("/v1/acl/tokens", Some("no-such-secret")).await,
        403,
        "ACL not found",
    );

    // Create: client-chosen IDs keep their case; identities and templates echoed.
    let created = acl
        .write(
            "/v1/acl/token",
            json!({
                "AccessorID": "00000000-DEAD-BEEF-0000-000000000000",
                "SecretID": "DEADBEEF-0000-0000-0000-000000000000",
                "Description": "some token!",
                "NodeIdentities": [{"NodeName": "deaf", "Datacenter": "dc1"}],
                "ServiceIdentities": [{"ServiceName": "web", "Datacenters": ["dc1"]}],
                "TemplatedPolicies": [{"TemplateName": "builtin/service", "TemplateVariables": {"Name": "my-service"}}],
            }),
        )
        .await;
    assert_eq!(
        created["AccessorID"],
        "00000000-DEAD-BEEF-0000-000000000000"
    );
    assert_eq!(created["SecretID"], "DEADBEEF-0000-0000-0000-000000000000");
    assert_eq!(
        created["NodeIdentities"],
        json!([{"NodeName": "deaf", "Datacenter": "dc1"}])
    );
    assert_eq!(
        created["ServiceIdentities"],
        json!([{"ServiceName": "web", "Datacenters": ["dc1"]}])
    );
    assert_eq!(
        created["TemplatedPolicies"],
        json!([{"TemplateID": "00000000-0000-0000-0000-000000000003", "TemplateName": "builtin/service", "TemplateVariables": {"name": "my-service"}}])
    );
    assert!(created["Hash"].is_string() && created["CreateIndex"].as_u64() > Some(0));
    // Lower-case keys, generated IDs, a TTL turned into an expiration time.
    let generated = acl
        .write(
            "/v1/acl/token",
            json!({"description": "ttl", "expirationttl": "10m", "local": true}),
        )
        .await;
    assert_eq!(generated["Description"], "ttl");
    assert_eq!(generated["Local"], true);
    assert!(generated["ExpirationTime"].is_string(), "{generated}");
    assert!(generated.get("ExpirationTTL").is_none());
    let generated_id = generated["AccessorID"].as_str().unwrap().to_string();
    assert_eq!(generated_id.len(), 36);

    // Create errors: 400 for the body, 500 for what the server refuses.
    for (body, status, text) in [
        (
            json!({"Bogus": true}),
            400,
            "Token decoding failed: json: unknown field \"Bogus\"",
        ),
        (json!({"Description": 7}), 400, ""),
        (
            json!({"AccessorID": "00000000-DEAD-BEEF-0000-000000000000"}),
            500,
            "Invalid Token: AccessorID is already in use",
        ),
        (
            json!({"ExpirationTTL": "10s"}),
            500,
            "ExpirationTime cannot be less than 1m0s in the future (was 10s)",
        ),
        (
            json!({"Policies": [{"Name": "nope"}]}),
            500,
            "No such ACL policy with name \"nope\"",
        ),
        (
            json!({"NodeIdentities": [{"NodeName": "n"}]}),
            500,
            "Node identity is missing the datacenter field on this token",
        ),
    ] {
        let answer = acl.put("/v1/acl/token", Some(ROOT), body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {answer:?}");
        assert!(answer.body.starts_with(text), "{body}: {}", answer.body);
    }
    let answer = acl.call("PUT", "/v1/acl/token", Some(ROOT), None).await;
    assert_answer(&answer, 400, "Token decoding failed: EOF");

    // Read.
    let read = acl
        .read("/v1/acl/token/00000000-DEAD-BEEF-0000-000000000000")
        .await;
    assert_eq!(read["Description"], "some token!");
    let any_case = acl
        .get(
            "/v1/acl/token/00000000-dead-beef-0000-000000000000",
            Some(ROOT),
        )
        .await;
    assert_eq!(any_case.status, 200, "IDs match in any case");
    assert_answer(
        &acl.get(
            "/v1/acl/token/11111111-2222-3333-4444-555555555555",
            Some(ROOT),
        )
        .await,
        403,
        "ACL not found",
    );
    assert_answer(
        &acl.get("/v1/acl/token/unknown", Some(ROOT)).await,
        500,
        "failed acl token lookup: index error: UUID must be 36 characters",
    );
    let expanded = acl
        .read("/v1/acl/token/00000000-DEAD-BEEF-0000-000000000000?expanded")
        .await;
    assert_eq!(
        expanded["AccessorID"],
        "00000000-DEAD-BEEF-0000-000000000000"
    );
    let names: Vec<&str> = expanded["ExpandedPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|policy| policy["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "service, node and templated synthetic policies: {names:?}"
    );
    assert!(
        names
            .iter()
            .all(|name| name.starts_with("synthetic-policy-"))
    );
    assert_eq!(expanded["ExpandedRoles"], json!([]));
    assert_eq!(expanded["AgentACLDefaultPolicy"], "allow");
    assert_eq!(expanded["AgentACLDownPolicy"], "extend-cache");
    assert_eq!(expanded["ResolvedByAgent"], acl.agent.node_name);
    assert!(expanded["NamespaceDefaultPolicyIDs"].is_null());

    // Self: any valid secret reads its own token.
    let me = acl.read("/v1/acl/token/self").await;
    assert_eq!(
        (me["SecretID"].as_str(), me["Description"].as_str()),
        (Some(ROOT), Some("Initial Management Token"))
    );
    let mine = acl
        .get(
            "/v1/acl/token/self",
            Some("DEADBEEF-0000-0000-0000-000000000000"),
        )
        .await;
    assert_eq!(mine.json()["Description"], "some token!");
    assert_eq!(
        acl.get("/v1/acl/token/self", Some("anonymous"))
            .await
            .json()["AccessorID"],
        "00000000-0000-0000-0000-000000000002"
    );
    assert_answer(
        &acl.get("/v1/acl/token/self", None).await,
        404,
        "Supplied token does not exist",
    );
    assert_answer(
        &acl.get("/v1/acl/token/self", Some("nope")).await,
        403,
        "ACL not found",
    );

    // Update.
    let path = "/v1/acl/token/00000000-DEAD-BEEF-0000-000000000000";
    let answer = acl
        .put(
            path,
            Some(ROOT),
            json!({"AccessorID": "00000000-0000-0000-0000-00000000beef"}),
        )
        .await;
    assert_answer(
        &answer,
        400,
        "Token Accessor ID in URL and payload do not match",
    );
    let updated = acl
        .write(path, json!({"Description": "updated", "NodeIdentities": [{"NodeName": "test02", "Datacenter": "dc2"}]}))
        .await;
    assert_eq!(updated["Description"], "updated");
    assert_eq!(updated["SecretID"], "DEADBEEF-0000-0000-0000-000000000000");
    assert_eq!(
        updated["NodeIdentities"],
        json!([{"NodeName": "test02", "Datacenter": "dc2"}])
    );
    assert!(
        updated.get("ServiceIdentities").is_none(),
        "an update replaces: {updated}"
    );
    let answer = acl
        .put(
            "/v1/acl/token/11111111-2222-3333-4444-555555555555",
            Some(ROOT),
            json!({}),
        )
        .await;
    assert_answer(
        &answer,
        500,
        "Cannot find token \"11111111-2222-3333-4444-555555555555\"",
    );
    let answer = acl
        .put("/v1/acl/token/unknown", Some(ROOT), json!({}))
        .await;
    assert_answer(&answer, 500, "AccessorID is not a valid UUID");
    let answer = acl.put(path, Some(ROOT), json!({"Local": true})).await;
    assert_answer(
        &answer,
        500,
        "Cannot toggle local mode of 00000000-DEAD-BEEF-0000-000000000000",
    );

    // Clone.
    let clone = acl
        .write(&format!("{path}/clone"), json!({"Description": "cloned"}))
        .await;
    assert_eq!(clone["Description"], "cloned");
    assert_eq!(clone["NodeIdentities"], updated["NodeIdentities"]);
    assert_ne!(clone["AccessorID"], updated["AccessorID"]);
    assert_ne!(clone["SecretID"], updated["SecretID"]);
    assert_answer(
        &acl.put(
            "/v1/acl/token/11111111-2222-3333-4444-555555555555/clone",
            Some(ROOT),
            json!({}),
        )
        .await,
        403,
        "ACL not found",
    );
    assert_eq!(
        acl.put("/v1/acl/token/unknown/clone", Some(ROOT), json!({}))
            .await
            .status,
        500
    );

    // List filters.
    let policy = acl
        .write("/v1/acl/policy", json!({"Name": "filter-test"}))
        .await;
    let role = acl
        .write("/v1/acl/role", json!({"Name": "filter-role"}))
        .await;
    let linked = acl
        .write(
            "/v1/acl/token",
            json!({"Policies": [{"ID": policy["ID"]}], "Roles": [{"Name": "filter-role"}], "ServiceIdentities": [{"ServiceName": "api"}]}),
        )
        .await;
    assert_eq!(
        linked["Policies"],
        json!([{"ID": policy["ID"], "Name": "filter-test"}])
    );
    assert_eq!(
        linked["Roles"],
        json!([{"ID": role["ID"], "Name": "filter-role"}])
    );
    for query in [
        format!("policy={}", policy["ID"].as_str().unwrap()),
        format!("role={}", role["ID"].as_str().unwrap()),
        "servicename=api".to_string(),
    ] {
        let listed = acl.read(&format!("/v1/acl/tokens?{query}")).await;
        let ids: Vec<&Value> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["AccessorID"])
            .collect();
        assert_eq!(ids, [&linked["AccessorID"]], "{query}");
    }
    assert_eq!(
        acl.read("/v1/acl/tokens?policy=00000000-0000-0000-0000-000000000099")
            .await,
        json!([])
    );
    assert_eq!(acl.read("/v1/acl/tokens?authmethod=nope").await, json!([]));
    assert_answer(
        &acl.get("/v1/acl/tokens?servicename=s&authmethod=a", Some(ROOT))
            .await,
        500,
        "can only filter by one of policy, role, serviceName, or methodName at a time",
    );
    let all = acl.read("/v1/acl/tokens").await;
    assert_eq!(all.as_array().unwrap().len(), 6);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|token| token.get("ExpirationTTL").is_none())
    );

    // A token that may read ACLs but not write them sees secrets hidden.
    let reader_policy = acl
        .write(
            "/v1/acl/policy",
            json!({"Name": "acl-reader", "Rules": "acl = \"read\""}),
        )
        .await;
    let reader = acl
        .write(
            "/v1/acl/token",
            json!({"Policies": [{"ID": reader_policy["ID"]}]}),
        )
        .await;
    let reader_secret = reader["SecretID"].as_str().unwrap();
    let listed = acl.get("/v1/acl/tokens", Some(reader_secret)).await.json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|token| token["SecretID"] == "<hidden>"),
        "{listed}"
    );
    let one = acl.get(path, Some(reader_secret)).await.json();
    assert_eq!(one["SecretID"], "<hidden>");
    let answer = acl
        .put("/v1/acl/token", Some(reader_secret), json!({}))
        .await;
    assert_answer(
        &answer,
        403,
        &format!(
            "Permission denied: token with AccessorID '{}' lacks permission 'acl:write'",
            reader["AccessorID"].as_str().unwrap()
        ),
    );

    // Delete.
    let delete = |path: String, token: &'static str| {
        let acl = &acl;
        async move { acl.call("DELETE", &path, Some(token), None).await }
    };
    assert_answer(
        &delete(
            "/v1/acl/token/00000000-0000-0000-0000-000000000002".into(),
            ROOT,
        )
        .await,
        500,
        "Delete operation not permitted on the anonymous token",
    );
    let root_accessor = me["AccessorID"].as_str().unwrap().to_string();
    assert_answer(
        &delete(format!("/v1/acl/token/{root_accessor}"), ROOT).await,
        500,
        "Deletion of the request's authorization token is not permitted",
    );
    assert_answer(
        &delete("/v1/acl/token/bad".into(), ROOT).await,
        500,
        "Accessor ID is missing or an invalid UUID",
    );
    assert_answer(
        &delete(
            "/v1/acl/token/11111111-2222-3333-4444-555555555555".into(),
            ROOT,
        )
        .await,
        200,
        "true",
    );
    assert_answer(&delete(path.to_string(), ROOT).await, 200, "true");
    assert_answer(&acl.get(path, Some(ROOT)).await, 403, "ACL not found");
    assert_answer(
        &acl.get(
            "/v1/acl/token/self",
            Some("DEADBEEF-0000-0000-0000-000000000000"),
        )
        .await,
        403,
        "ACL not found",
    );
}

#[tokio::test]
async fn policies_create_read_update_delete_and_list() {
    let acl = AclAgent::start(json!({}));
    // py-consul's lower-case keys, JSON rules inside a string, kept verbatim.
    let rules = json!({"key_prefix": {"": {"policy": "read"}}}).to_string();
    let created = acl
        .write(
            "/v1/acl/policy",
            json!({"name": "test-policy", "description": "original", "rules": rules}),
        )
        .await;
    let id = created["ID"].as_str().unwrap().to_string();
    assert_eq!(created["Name"], "test-policy");
    assert_eq!(created["Rules"], rules);
    assert!(created.get("Datacenters").is_none(), "omitempty: {created}");

    for (body, status, text) in [
        (
            json!({"ID": id, "Name": "x"}),
            400,
            "Cannot specify the ID when creating a new policy".to_string(),
        ),
        (
            json!({"Name": "x", "Bogus": 1}),
            400,
            "Policy decoding failed: json: unknown field \"Bogus\"".to_string(),
        ),
        (
            json!({"Name": "test-policy"}),
            500,
            "Invalid Policy: A policy with name \"test-policy\" already exists".to_string(),
        ),
        (
            json!({"Name": "bad name"}),
            500,
            "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"
                .to_string(),
        ),
        (
            json!({"Name": "x", "Rules": "acl = \"maybe\""}),
            500,
            "Invalid acl policy: \"maybe\"".to_string(),
        ),
        (
            json!({"Name": "x", "Rules": "key_prefix \"\" { policy = \"rad\" }"}),
            500,
            "Invalid key_prefix policy: ".to_string(),
        ),
        (
            json!({"Name": "x", "Rules": "key_prefix {"}),
            500,
            "Failed to parse ACL rules: ".to_string(),
        ),
    ] {
        let answer = acl.put("/v1/acl/policy", Some(ROOT), body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {answer:?}");
        assert!(answer.body.starts_with(&text), "{body}: {}", answer.body);
    }

    let path = format!("/v1/acl/policy/{id}");
    assert_eq!(acl.read(&path).await, created);
    assert_eq!(acl.read("/v1/acl/policy/name/test-policy").await, created);
    let builtin = acl
        .read("/v1/acl/policy/name/builtin/global-read-only")
        .await;
    assert_eq!(builtin["ID"], "00000000-0000-0000-0000-000000000002");
    assert_answer(
        &acl.get(
            "/v1/acl/policy/11111111-2222-3333-4444-555555555555",
            Some(ROOT),
        )
        .await,
        404,
        "Requested policy does not exist: ACL not found",
    );
    assert_answer(
        &acl.get("/v1/acl/policy/name/nope", Some(ROOT)).await,
        404,
        "Requested policy does not exist: ACL not found",
    );
    assert_eq!(
        acl.get("/v1/acl/policy/unknown", Some(ROOT)).await.status,
        500
    );
    assert_eq!(acl.get(&path, None).await.status, 403);

    let updated = acl
        .write(&path, json!({"ID": id, "Name": "test-policy", "Description": "updated", "Rules": "key \"x\" { policy = \"write\" }", "Datacenters": ["dc1"]}))
        .await;
    assert_eq!(updated["Description"], "updated");
    assert_eq!(updated["Datacenters"], json!(["dc1"]));
    assert!(updated["ModifyIndex"].as_u64() > created["ModifyIndex"].as_u64());
    assert_answer(
        &acl.put(
            &path,
            Some(ROOT),
            json!({"ID": "00000000-0000-0000-0000-000000000001"}),
        )
        .await,
        400,
        "Policy ID in URL and payload do not match",
    );
    let answer = acl
        .put(
            "/v1/acl/policy/00000000-0000-0000-0000-000000000001",
            Some(ROOT),
            json!({"Name": "global-management", "Rules": "acl = \"read\""}),
        )
        .await;
    assert_answer(
        &answer,
        500,
        "Changing the Rules for the builtin global-management policy is not permitted",
    );

    let stubs = acl.read("/v1/acl/policies").await;
    let stubs = stubs.as_array().unwrap();
    assert_eq!(stubs.len(), 3);
    assert!(stubs.iter().all(|stub| stub.get("Rules").is_none()));
    let management = stubs
        .iter()
        .find(|stub| stub["Name"] == "global-management")
        .unwrap();
    assert_eq!(management["ID"], "00000000-0000-0000-0000-000000000001");
    assert!(
        management["Datacenters"].is_null(),
        "list stubs always write Datacenters"
    );

    let delete = |path: String| {
        let acl = &acl;
        async move { acl.call("DELETE", &path, Some(ROOT), None).await }
    };
    assert_answer(
        &delete("/v1/acl/policy/00000000-0000-0000-0000-000000000001".into()).await,
        500,
        "Deletion of the builtin global-management policy is not permitted",
    );
    assert_answer(&delete(path.clone()).await, 200, "true");
    assert_answer(
        &delete(path.clone()).await,
        404,
        "Cannot find policy to delete",
    );
    assert_eq!(acl.get(&path, Some(ROOT)).await.status, 404);
}

#[tokio::test]
async fn roles_create_read_update_delete_and_list() {
    let acl = AclAgent::start(json!({}));
    let policy = acl
        .write("/v1/acl/policy", json!({"Name": "role-policy"}))
        .await;
    let role = acl
        .write(
            "/v1/acl/role",
            json!({
                "Name": "test-role", "Description": "a test role",
                "Policies": [{"Name": "role-policy"}],
                "ServiceIdentities": [{"ServiceName": "web"}],
                "NodeIdentities": [{"NodeName": "node-1", "Datacenter": "dc1"}],
            }),
        )
        .await;
    let id = role["ID"].as_str().unwrap().to_string();
    assert_eq!(
        role["Policies"],
        json!([{"ID": policy["ID"], "Name": "role-policy"}])
    );
    assert_eq!(role["ServiceIdentities"], json!([{"ServiceName": "web"}]));
    assert!(role.get("TemplatedPolicies").is_none());

    let path = format!("/v1/acl/role/{id}");
    assert_eq!(acl.read(&path).await["Name"], "test-role");
    assert_eq!(
        acl.read("/v1/acl/role/name/test-role").await["ID"],
        id.as_str()
    );
    let listed = acl
        .read(&format!(
            "/v1/acl/roles?policy={}",
            policy["ID"].as_str().unwrap()
        ))
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        acl.read("/v1/acl/roles?policy=00000000-0000-0000-0000-000000000099")
            .await,
        json!([])
    );

    for (body, status, text) in [
        (
            json!({"ID": id, "Name": "x"}),
            400,
            "Role ID in URL and payload do not match",
        ),
        (
            json!({"Name": "x", "Extra": 1}),
            400,
            "Role decoding failed: json: unknown field \"Extra\"",
        ),
        (
            json!({"Name": "test-role"}),
            500,
            "Invalid Role: A Role with Name \"test-role\" already exists",
        ),
        (
            json!({"Name": "x", "Policies": [{"ID": "00000000-0000-0000-0000-000000000099"}]}),
            500,
            "No such ACL policy with ID \"00000000-0000-0000-0000-000000000099\"",
        ),
    ] {
        let answer = acl.put("/v1/acl/role", Some(ROOT), body.clone()).await;
        assert_answer(&answer, status, text);
    }
    let updated = acl
        .write(
            &path,
            json!({"Name": "test-role", "Description": "updated"}),
        )
        .await;
    assert_eq!(updated["Description"], "updated");
    assert!(updated.get("Policies").is_none(), "{updated}");
    assert_answer(
        &acl.get(
            "/v1/acl/role/11111111-2222-3333-4444-555555555555",
            Some(ROOT),
        )
        .await,
        404,
        "Requested role does not exist: ACL not found",
    );
    assert_answer(
        &acl.call("DELETE", &path, Some(ROOT), None).await,
        200,
        "true",
    );
    assert_answer(
        &acl.call("DELETE", &path, Some(ROOT), None).await,
        404,
        "Cannot find role to delete",
    );
    assert_eq!(acl.get(&path, Some(ROOT)).await.status, 404);
    assert_answer(
        &acl.get("/v1/acl/roles", None).await,
        403,
        ANONYMOUS_LACKS_ACL_READ,
    );
}

#[tokio::test]
async fn templated_policies_list_read_and_preview() {
    let acl = AclAgent::start(json!({}));
    let all = acl.read("/v1/acl/templated-policies").await;
    let service = &all["builtin/service"];
    assert_eq!(service["TemplateName"], "builtin/service");
    assert!(service["Template"].as_str().unwrap().contains("{{.Name}}"));
    assert!(service["Schema"].as_str().unwrap().contains("\"required\""));
    for name in [
        "builtin/node",
        "builtin/dns",
        "builtin/nomad-server",
        "builtin/api-gateway",
        "builtin/nomad-client",
    ] {
        assert_eq!(all[name]["TemplateName"], name, "{all}");
    }
    let node = acl.read("/v1/acl/templated-policy/name/builtin/node").await;
    assert_eq!(node["TemplateName"], "builtin/node");
    assert_answer(
        &acl.get("/v1/acl/templated-policy/name/builtin/nope", Some(ROOT))
            .await,
        400,
        "Invalid templated policy Name: builtin/nope",
    );

    let preview = |name: &'static str, body: &'static str| {
        let acl = &acl;
        async move {
            acl.call(
                "POST",
                &format!("/v1/acl/templated-policy/preview/{name}"),
                Some(ROOT),
                Some(serde_json::from_str(body).unwrap()),
            )
            .await
        }
    };
    let answer = preview("builtin/service", r#"{"Name": "my-service"}"#).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let policy = answer.json();
    assert!(
        policy["Name"]
            .as_str()
            .unwrap()
            .starts_with("synthetic-policy-")
    );
    assert!(
        policy["ID"]
            .as_str()
            .unwrap()
            .starts_with("0a7365727669636520")
    );
    assert!(
        policy["Rules"]
            .as_str()
            .unwrap()
            .contains("service \"my-service\"")
    );
    assert_eq!(
        policy["Description"],
        "synthetic policy generated from templated policy: builtin/service"
    );
    assert_eq!(
        (
            policy["CreateIndex"].as_u64(),
            policy["ModifyIndex"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(preview("builtin/dns", "{}").await.status, 200);
    assert_answer(
        &preview("builtin/service", "{}").await,
        400,
        "validation error for templated policy: builtin/service: name is required",
    );
    assert_answer(
        &preview("builtin/service", r#"{"Name": "web", "Other": 1}"#).await,
        400,
        "Failed to decode request body: json: unknown field \"Other\"",
    );
    assert_eq!(preview("builtin/nope", "{}").await.status, 400);
    let answer = acl
        .call(
            "POST",
            "/v1/acl/templated-policy/preview/builtin/dns",
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(answer.status, 403, "{answer:?}");
}

#[tokio::test]
async fn auth_methods_binding_rules_login_and_logout() {
    let acl = AclAgent::start(json!({}));
    let config = json!({"JWTValidationPubKeys": ["-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"], "BoundIssuer": "test-issuer"});
    let method = acl
        .write("/v1/acl/auth-method", json!({"Name": "test-jwt", "Type": "jwt", "Description": "a test auth method", "Config": config, "MaxTokenTTL": "5m"}))
        .await;
    assert_eq!(method["Type"], "jwt");
    assert_eq!(method["MaxTokenTTL"], "5m0s");
    assert!(method.get("DisplayName").is_none() && method.get("TokenLocality").is_none());
    let read = acl.read("/v1/acl/auth-method/test-jwt").await;
    assert_eq!(read["Config"]["BoundIssuer"], "test-issuer");
    let listed = acl.read("/v1/acl/auth-methods").await;
    assert_eq!(listed[0]["Name"], "test-jwt");
    assert_eq!(listed[0]["MaxTokenTTL"], "5m0s");
    assert!(listed[0].get("Config").is_none());
    let updated = acl
        .write(
            "/v1/acl/auth-method/test-jwt",
            json!({"Type": "jwt", "Description": "updated", "Config": config}),
        )
        .await;
    assert_eq!(updated["Description"], "updated");
    assert_answer(
        &acl.put(
            "/v1/acl/auth-method/test-jwt",
            Some(ROOT),
            json!({"Name": "other", "Type": "jwt"}),
        )
        .await,
        400,
        "AuthMethod Name in URL and payload do not match",
    );
    assert_answer(
        &acl.put(
            "/v1/acl/auth-method/test-jwt",
            Some(ROOT),
            json!({"Type": "kubernetes"}),
        )
        .await,
        500,
        "the Type field is immutable",
    );
    assert_answer(
        &acl.put(
            "/v1/acl/auth-method",
            Some(ROOT),
            json!({"Name": "m", "Type": "jwt", "TokenNameFormat": "x"}),
        )
        .await,
        400,
        "AuthMethod decoding failed: json: unknown field \"TokenNameFormat\"",
    );

    let rule = acl
        .write(
            "/v1/acl/binding-rule",
            json!({"AuthMethod": "test-jwt", "BindType": "service", "BindName": "jwt-bound-service", "Description": "a test binding rule", "Selector": "value.iss==\"test-issuer\""}),
        )
        .await;
    let rule_id = rule["ID"].as_str().unwrap().to_string();
    assert_eq!(rule["AuthMethod"], "test-jwt");
    let rule_path = format!("/v1/acl/binding-rule/{rule_id}");
    assert_eq!(acl.read(&rule_path).await["BindName"], "jwt-bound-service");
    assert_eq!(
        acl.read("/v1/acl/binding-rules?authmethod=test-jwt").await[0]["ID"],
        rule_id.as_str()
    );
    assert_eq!(
        acl.read("/v1/acl/binding-rules?authmethod=other").await,
        json!([])
    );
    let updated = acl
        .write(&rule_path, json!({"AuthMethod": "test-jwt", "BindType": "service", "BindName": "jwt-bound-service", "Description": "updated"}))
        .await;
    assert_eq!(updated["Description"], "updated");
    for (body, status, text) in [
        (
            json!({"ID": rule_id, "AuthMethod": "test-jwt"}),
            400,
            "BindingRule ID in URL and payload do not match",
        ),
        (
            json!({"AuthMethod": "nope", "BindType": "service", "BindName": "x"}),
            500,
            "Invalid Binding Rule: unknown auth method \"nope\"",
        ),
        (
            json!({"AuthMethod": "test-jwt", "BindType": "bogus", "BindName": "x"}),
            500,
            "Invalid Binding Rule: unknown BindType \"bogus\"",
        ),
    ] {
        assert_answer(
            &acl.put("/v1/acl/binding-rule", Some(ROOT), body).await,
            status,
            text,
        );
    }
    assert_answer(
        &acl.get(
            "/v1/acl/binding-rule/11111111-2222-3333-4444-555555555555",
            Some(ROOT),
        )
        .await,
        404,
        "Requested binding rule does not exist: ACL not found",
    );
    assert_answer(
        &acl.call("DELETE", &rule_path, Some(ROOT), None).await,
        200,
        "true",
    );
    assert_answer(
        &acl.call("DELETE", &rule_path, Some(ROOT), None).await,
        404,
        "Cannot find binding rule to delete",
    );

    // Login and logout answer as Consul does for an unknown method and a token that did
    // not come from a login.
    let login = |body: Value| {
        let acl = &acl;
        async move { acl.call("POST", "/v1/acl/login", None, Some(body)).await }
    };
    assert_answer(
        &login(json!({"AuthMethod": "does-not-exist", "BearerToken": "fake-token"})).await,
        403,
        "ACL not found: auth method \"does-not-exist\" not found",
    );
    assert_eq!(
        login(json!({"AuthMethod": "test-jwt", "BearerToken": "fake-token"}))
            .await
            .status,
        500
    );
    assert_answer(
        &login(json!({"AuthMethod": "x", "Bogus": 1})).await,
        400,
        "Failed to decode request body: json: unknown field \"Bogus\"",
    );
    assert_answer(
        &acl.call("POST", "/v1/acl/logout", None, None).await,
        401,
        "Supplied token does not exist",
    );
    assert_answer(
        &acl.call("POST", "/v1/acl/logout", Some(ROOT), None).await,
        403,
        "Permission denied",
    );
    assert_answer(
        &acl.call(
            "POST",
            "/v1/acl/logout",
            Some("00000000-0000-0000-0000-0000000000ff"),
            None,
        )
        .await,
        403,
        "ACL not found",
    );

    assert_answer(
        &acl.call("DELETE", "/v1/acl/auth-method/test-jwt", Some(ROOT), None)
            .await,
        200,
        "true",
    );
    assert_answer(
        &acl.call("DELETE", "/v1/acl/auth-method/test-jwt", Some(ROOT), None)
            .await,
        404,
        "Cannot find auth method to delete",
    );
    assert_answer(
        &acl.get("/v1/acl/auth-method/test-jwt", Some(ROOT)).await,
        404,
        "Requested auth method does not exist: ACL not found",
    );
    assert_eq!(acl.read("/v1/acl/auth-methods").await, json!([]));
}

#[tokio::test]
async fn agent_tokens_are_set_persisted_and_win_over_the_config() {
    let data = TempDir::new("acl-tokens");
    let data_dir = data.path().join("data");
    let dir = TempDir::new("acl-tokens-config");
    let config = json!({"acl": {"enabled": true, "default_policy": "deny", "enable_token_persistence": true,
        "tokens": {"initial_management": ROOT, "agent_recovery": "recovery-secret"}}});
    let file = write_file(dir.path(), "acl.json", &config.to_string());
    let args = ["-config-file", file.as_str(), "-dns-port=-1"];
    let mut agent = TestAgent::start_server(&data_dir, "tokens-node", &args);

    let set = |token: Option<&'static str>, kind: &'static str, body: &str| {
        let agent = &agent;
        let body = body.to_string();
        async move {
            request(
                agent,
                "PUT",
                &format!("/v1/agent/token/{kind}"),
                token,
                Some(body),
            )
            .await
        }
    };
    assert_answer(
        &set(None, "default", r#"{"Token": "x"}"#).await,
        403,
        "Permission denied: anonymous token lacks permission 'agent:write' on \"tokens-node\". The anonymous token is used implicitly when a request does not specify a token.",
    );
    for kind in [
        "agent",
        "agent_recovery",
        "replication",
        "config_file_service_registration",
        "dns",
        "acl_token",
        "acl_agent_token",
        "acl_agent_master_token",
        "agent_master",
        "acl_replication_token",
        "dns_token",
    ] {
        assert_answer(
            &set(Some(ROOT), kind, r#"{"Token": "some-secret"}"#).await,
            200,
            "",
        );
    }
    assert_answer(
        &set(Some(ROOT), "nope", r#"{"Token": "x"}"#).await,
        404,
        "Token \"nope\" is unknown",
    );
    let answer = set(Some(ROOT), "dns", "{").await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.starts_with("Request decode failed: "),
        "{}",
        answer.body
    );
    // The recovery token (now "some-secret", set above) has agent:write on this agent.
    assert_answer(
        &set(
            Some("some-secret"),
            "agent_recovery",
            r#"{"Token": "recovery-2"}"#,
        )
        .await,
        200,
        "",
    );
    let default = json!({"token": ROOT}).to_string();
    assert_answer(&set(Some(ROOT), "default", &default).await, 200, "");

    let saved: Value =
        serde_json::from_slice(&std::fs::read(data_dir.join("acl-tokens.json")).unwrap()).unwrap();
    assert_eq!(saved["default"], ROOT);
    assert_eq!(saved["agent_recovery"], "recovery-2");
    assert_eq!(saved["dns"], "some-secret");
    // Requests without a token now act with the default token.
    assert_eq!(
        request(&agent, "GET", "/v1/acl/tokens", None, None)
            .await
            .status,
        200
    );

    // After a restart the persisted tokens win over the config file's.
    assert!(agent.terminate().success());
    drop(agent);
    agent = TestAgent::start_server(&data_dir, "tokens-node", &args);
    assert_eq!(
        request(&agent, "GET", "/v1/acl/tokens", None, None)
            .await
            .status,
        200
    );
    assert_answer(
        &request(
            &agent,
            "PUT",
            "/v1/agent/token/dns",
            Some("recovery-2"),
            Some(r#"{"Token": "d"}"#.into()),
        )
        .await,
        200,
        "",
    );
    assert_eq!(
        request(
            &agent,
            "PUT",
            "/v1/agent/token/dns",
            Some("recovery-secret"),
            Some("{}".into())
        )
        .await
        .status,
        403,
        "the config file's recovery token was replaced"
    );
}

#[tokio::test]
async fn the_leader_removes_tokens_when_they_expire() {
    let acl = AclAgent::start(json!({}));
    let token = acl
        .write(
            "/v1/acl/token",
            json!({"Description": "short-lived", "ExpirationTTL": "1m"}),
        )
        .await;
    let accessor = token["AccessorID"].as_str().unwrap().to_string();
    let secret = token["SecretID"].as_str().unwrap().to_string();
    assert_eq!(
        acl.get("/v1/acl/token/self", Some(&secret)).await.status,
        200
    );
    let listed = acl.get("/v1/acl/tokens", Some(ROOT)).await;
    assert_eq!(listed.json().as_array().unwrap().len(), 3);
    // A blocking list wakes when the leader's expiry is committed.
    let started = std::time::Instant::now();
    let mut index = listed.index();
    loop {
        let answer = acl
            .get(
                &format!("/v1/acl/tokens?index={index}&wait=30s"),
                Some(ROOT),
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        if answer.index() != index {
            let listed = answer.json();
            let ids: Vec<&Value> = listed
                .as_array()
                .unwrap()
                .iter()
                .map(|t| &t["AccessorID"])
                .collect();
            assert!(!ids.contains(&&json!(accessor)), "{ids:?}");
            break;
        }
        index = answer.index();
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the token was not removed"
        );
    }
    assert!(
        started.elapsed() >= Duration::from_secs(50),
        "removed too early: {:?}",
        started.elapsed()
    );
    assert_answer(
        &acl.get("/v1/acl/token/self", Some(&secret)).await,
        403,
        "ACL not found",
    );
    assert!(
        acl.agent.log().contains("acl: removed expired tokens"),
        "{}",
        acl.agent.log()
    );
}
