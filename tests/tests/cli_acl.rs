//! `proconsul acl ...` and the CLI's token options against a real dev agent with ACLs
//! enabled (`default_policy = "deny"`): bootstrap, policies from a rules file, tokens
//! (create, read in both formats, `-self`, clone, update, delete, list), roles and
//! `set-agent-token`, driven through the binary as an operator would.

use std::path::Path;
use std::process::Output;

use proconsul_tests::{TempDir, TestAgent, write_file as write};

const MANAGEMENT: &str = "6f3e1c52-8a1d-4c3e-9f0b-2d7a5e4c1b90";
const GLOBAL_MANAGEMENT_ID: &str = "00000000-0000-0000-0000-000000000001";

/// A dev agent with ACLs on, default deny, and `initial_management` when given.
fn acl_agent(dir: &Path, initial_management: Option<&str>) -> TestAgent {
    let tokens = initial_management
        .map(|secret| format!("tokens {{ initial_management = \"{secret}\" }}"))
        .unwrap_or_default();
    let config = format!(
        "primary_datacenter = \"dc1\"\nacl {{\n  enabled = true\n  default_policy = \"deny\"\n  {tokens}\n}}\n"
    );
    let file = write(dir, "acl.hcl", &config);
    TestAgent::start_with(&["-config-file", &file])
}

/// Runs the CLI with `token` in `CONSUL_HTTP_TOKEN` (none when `None`).
fn run(agent: &TestAgent, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = agent.cli_command(args);
    if let Some(token) = token {
        command.env("CONSUL_HTTP_TOKEN", token);
    }
    command
        .env_remove("CONSUL_HTTP_TOKEN_FILE")
        .output()
        .expect("cannot run proconsul")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must succeed and returns its stdout.
fn ok(agent: &TestAgent, args: &[&str]) -> String {
    let output = run(agent, Some(MANAGEMENT), args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    stdout(&output)
}

/// Runs a command that must fail and returns its stderr.
fn fails(agent: &TestAgent, token: Option<&str>, args: &[&str]) -> String {
    let output = run(agent, token, args);
    assert!(!output.status.success(), "{args:?} succeeded: {output:?}");
    stderr(&output)
}

/// The value of a `Label:   value` line of a text block.
fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{label}:")))
        .unwrap_or_else(|| panic!("no {label} in:\n{text}"))
        .trim()
        .to_string()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}):\n{text}"))
}

#[test]
fn tokens_policies_and_roles_through_the_cli() {
    let scratch = TempDir::new("cli-acl");
    let dir = scratch.path();
    let agent = acl_agent(dir, Some(MANAGEMENT));

    // The initial management token exists, so bootstrapping is refused; without a token
    // nothing is readable under default deny.
    let error = fails(&agent, None, &["acl", "bootstrap"]);
    assert!(error.starts_with("Failed ACL bootstrapping: "), "{error}");
    let error = fails(&agent, None, &["acl", "token", "list"]);
    assert!(error.contains("403"), "{error}");

    // -self reads the token the command sends.
    let me = ok(&agent, &["acl", "token", "read", "-self"]);
    assert_eq!(field(&me, "SecretID"), MANAGEMENT);
    assert_eq!(field(&me, "Description"), "Initial Management Token");
    assert!(
        me.contains(&format!(
            "Policies:\n   {GLOBAL_MANAGEMENT_ID} - global-management\n"
        )),
        "{me}"
    );

    // A policy from a rules file.
    let rules = "key_prefix \"app/\" {\n  policy = \"write\"\n}\nnode_prefix \"\" {\n  policy = \"read\"\n}";
    let rules_file = write(dir, "rules.hcl", rules);
    let created = ok(
        &agent,
        &[
            "acl",
            "policy",
            "create",
            "-name",
            "kv-app",
            "-description",
            "app keys",
            "-rules",
            &format!("@{rules_file}"),
        ],
    );
    let policy_id = field(&created, "ID");
    assert_eq!(field(&created, "Name"), "kv-app");
    assert!(
        created.ends_with(&format!("Rules:\n{rules}\n")),
        "{created}"
    );
    let read = json(&ok(
        &agent,
        &["acl", "policy", "read", "-name", "kv-app", "-format=json"],
    ));
    assert_eq!(read["ID"], policy_id.as_str());
    assert_eq!(read["Rules"], rules);
    let by_prefix = ok(&agent, &["acl", "policy", "read", "-id", &policy_id[..8]]);
    assert_eq!(field(&by_prefix, "Name"), "kv-app");
    let list = ok(&agent, &["acl", "policy", "list"]);
    assert!(list.contains("kv-app:\n   ID:           "), "{list}");
    assert!(list.contains("global-management:\n"), "{list}");
    let updated = ok(
        &agent,
        &[
            "acl",
            "policy",
            "update",
            "-id",
            &policy_id,
            "-description",
            "app/ keys",
        ],
    );
    assert!(
        updated.starts_with("Policy updated successfully\n"),
        "{updated}"
    );
    assert_eq!(field(&updated, "Description"), "app/ keys");
    assert!(
        updated.contains("key_prefix \"app/\""),
        "rules kept: {updated}"
    );

    // A token with that policy, read back in both formats.
    let created = ok(
        &agent,
        &[
            "acl",
            "token",
            "create",
            "-description",
            "app token",
            "-policy-name",
            "kv-app",
        ],
    );
    let accessor = field(&created, "AccessorID");
    let secret = field(&created, "SecretID");
    assert_eq!(field(&created, "Local"), "false");
    assert!(
        created.contains(&format!("Policies:\n   {policy_id} - kv-app\n")),
        "{created}"
    );
    let pretty = ok(&agent, &["acl", "token", "read", "-id", &accessor[..8]]);
    assert_eq!(field(&pretty, "AccessorID"), accessor);
    assert!(pretty.contains("Create Time:      "), "{pretty}");
    let text = ok(
        &agent,
        &["acl", "token", "read", "-id", &accessor, "-format", "json"],
    );
    assert!(text.starts_with("{\n    \"CreateIndex\": "), "{text}");
    let token = json(&text);
    assert_eq!(token["AccessorID"], accessor.as_str());
    assert_eq!(token["SecretID"], secret.as_str());
    assert_eq!(token["Policies"][0]["Name"], "kv-app");
    let expanded = ok(
        &agent,
        &["acl", "token", "read", "-id", &accessor, "-expanded"],
    );
    assert!(expanded.contains("Policy Name: kv-app"), "{expanded}");
    assert!(expanded.contains("key_prefix \"app/\""), "{expanded}");

    // The new token works, wherever the CLI finds it: -token, -token-file,
    // CONSUL_HTTP_TOKEN_FILE; and it is refused what its policy does not grant.
    let output = run(
        &agent,
        None,
        &["kv", "put", "-token", &secret, "app/x", "1"],
    );
    assert!(output.status.success(), "{output:?}");
    let token_file = write(dir, "token", &format!("{secret}\n"));
    let output = run(
        &agent,
        Some("not-this-one"),
        &["kv", "get", "-token-file", &token_file, "app/x"],
    );
    assert_eq!(stdout(&output), "1\n", "{output:?}");
    let output = agent
        .cli_command(&["kv", "get", "app/x"])
        .env("CONSUL_HTTP_TOKEN_FILE", &token_file)
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "1\n", "{output:?}");
    let error = fails(&agent, Some(&secret), &["kv", "put", "other", "1"]);
    assert!(error.contains("403"), "{error}");
    let own = run(&agent, Some(&secret), &["acl", "token", "read", "-self"]);
    assert!(own.status.success(), "{own:?}");
    assert_eq!(field(&stdout(&own), "AccessorID"), accessor);
    let error = fails(&agent, Some(&secret), &["acl", "token", "list"]);
    assert!(error.contains("403"), "{error}");

    // Clone, update, list, delete.
    let cloned = ok(
        &agent,
        &[
            "acl",
            "token",
            "clone",
            "-id",
            &accessor,
            "-description",
            "cloned",
        ],
    );
    assert!(
        cloned.starts_with("Token cloned successfully.\n"),
        "{cloned}"
    );
    let clone = field(&cloned, "AccessorID");
    assert_ne!(clone, accessor);
    assert_eq!(field(&cloned, "Description"), "cloned");
    assert!(cloned.contains(" - kv-app\n"), "{cloned}");
    let updated = ok(
        &agent,
        &[
            "acl",
            "token",
            "update",
            "-id",
            &clone,
            "-description",
            "updated",
            "-service-identity",
            "web",
            "-node-identity",
            "n1:dc1",
        ],
    );
    assert!(
        updated.starts_with("Token updated successfully.\n"),
        "{updated}"
    );
    assert_eq!(field(&updated, "Description"), "updated");
    assert!(updated.contains(" - kv-app\n"), "policies kept: {updated}");
    assert!(
        updated.contains("Service Identities:\n   web (Datacenters: all)\n"),
        "{updated}"
    );
    assert!(
        updated.contains("Node Identities:\n   n1 (Datacenter: dc1)\n"),
        "{updated}"
    );
    let list = ok(&agent, &["acl", "token", "list"]);
    for expected in [
        &accessor[..],
        &clone,
        "Initial Management Token",
        "Anonymous Token",
    ] {
        assert!(list.contains(expected), "{expected}: {list}");
    }
    let list = json(&ok(&agent, &["acl", "token", "list", "-format=json"]));
    assert!(list.as_array().unwrap().len() >= 4, "{list}");
    let deleted = ok(&agent, &["acl", "token", "delete", "-id", &clone]);
    assert_eq!(deleted, format!("Token \"{clone}\" deleted successfully\n"));
    let error = fails(
        &agent,
        Some(MANAGEMENT),
        &["acl", "token", "read", "-id", &clone],
    );
    assert!(error.starts_with("Error reading token"), "{error}");

    // Identities and templates on create.
    let templated = ok(
        &agent,
        &[
            "acl",
            "token",
            "create",
            "-templated-policy",
            "builtin/service",
            "-var",
            "name:api",
            "-expires-ttl",
            "10m",
        ],
    );
    assert!(
        templated.contains("Templated Policies:\n   builtin/service\n      Name: api\n"),
        "{templated}"
    );
    assert!(templated.contains("Expiration Time:  "), "{templated}");

    // Roles.
    let created = ok(
        &agent,
        &[
            "acl",
            "role",
            "create",
            "-name",
            "ops",
            "-description",
            "operators",
            "-policy-name",
            "kv-app",
            "-node-identity",
            "n1:dc1",
        ],
    );
    let role_id = field(&created, "ID");
    assert_eq!(field(&created, "Name"), "ops");
    assert!(
        created.contains(&format!("Policies:\n   {policy_id} - kv-app\n")),
        "{created}"
    );
    let read = json(&ok(
        &agent,
        &["acl", "role", "read", "-name", "ops", "-format=json"],
    ));
    assert_eq!(read["ID"], role_id.as_str());
    let updated = ok(
        &agent,
        &[
            "acl",
            "role",
            "update",
            "-id",
            &role_id[..8],
            "-service-identity",
            "web",
        ],
    );
    assert!(
        updated.starts_with("Role updated successfully\n"),
        "{updated}"
    );
    assert!(updated.contains(" - kv-app\n"), "merged: {updated}");
    assert!(updated.contains("   web (Datacenters: all)\n"), "{updated}");
    let list = ok(&agent, &["acl", "role", "list"]);
    assert!(list.starts_with("ops:\n   ID:           "), "{list}");
    let with_role = ok(&agent, &["acl", "token", "create", "-role-name", "ops"]);
    assert!(
        with_role.contains(&format!("Roles:\n   {role_id} - ops\n")),
        "{with_role}"
    );
    let role_token = field(&with_role, "AccessorID");
    ok(&agent, &["acl", "token", "delete", "-id", &role_token]);
    let deleted = ok(&agent, &["acl", "role", "delete", "-name", "ops"]);
    assert_eq!(
        deleted,
        format!("Role \"{role_id}\" deleted successfully\n")
    );

    // The agent's own tokens.
    let set = ok(&agent, &["acl", "set-agent-token", "agent", MANAGEMENT]);
    assert_eq!(set, "ACL token \"agent\" set successfully\n");
    let error = fails(
        &agent,
        Some(&secret),
        &["acl", "set-agent-token", "default", "x"],
    );
    assert!(
        error.starts_with("Failed to set ACL token \"default\": Unexpected response code: 403"),
        "{error}"
    );

    // The policy goes last: the token still links to it.
    ok(&agent, &["acl", "token", "delete", "-id", &accessor]);
    let deleted = ok(&agent, &["acl", "policy", "delete", "-name", "kv-app"]);
    assert_eq!(
        deleted,
        format!("Policy \"{policy_id}\" deleted successfully\n")
    );
}

#[test]
fn bootstrap_once_then_use_the_token() {
    let scratch = TempDir::new("cli-acl-bootstrap");
    let agent = acl_agent(scratch.path(), None);
    let output = run(&agent, None, &["acl", "bootstrap", "-format=json"]);
    assert!(output.status.success(), "{output:?}");
    let token = json(&stdout(&output));
    assert_eq!(token["Description"], "Bootstrap Token (Global Management)");
    assert_eq!(token["Policies"][0]["ID"], GLOBAL_MANAGEMENT_ID);
    let secret = token["SecretID"].as_str().unwrap().to_string();

    let error = fails(&agent, None, &["acl", "bootstrap"]);
    assert!(
        error.starts_with("Failed ACL bootstrapping: Unexpected response code: 403"),
        "{error}"
    );
    let output = run(&agent, Some(&secret), &["acl", "policy", "list"]);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("global-management:\n"));
}
