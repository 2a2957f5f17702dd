//! Authorization as Consul's documentation describes it: exact over prefix, longest
//! prefix, the default policy behind the rules, and the special checks.

use proconsul_acl::{
    Access, Accessor, Authorize, Authorizer, DefaultPolicy, GLOBAL_MANAGEMENT, Permission, Rules,
};

fn authorizer(rules: &str, default_policy: DefaultPolicy) -> Authorizer {
    Authorizer::from_rules(&Rules::parse(rules).unwrap(), default_policy)
}

#[test]
fn documented_key_example() {
    // "allow read-only access to any key name with the empty prefix rule, allow
    // read-write access to the "foo" key, and deny access to the "bar" key."
    let authz = authorizer(
        "key_prefix \"\" {\n  policy = \"read\"\n}\nkey \"foo\" {\n  policy = \"write\"\n}\nkey \"bar\" {\n  policy = \"deny\"\n}\n",
        DefaultPolicy::Deny,
    );
    assert!(authz.key_read("anything"));
    assert!(!authz.key_write("anything"));
    assert!(authz.key_write("foo"));
    assert!(!authz.key_read("bar"));
    // Exact rules cover one name only.
    assert!(authz.key_read("bar/baz"));
    assert!(!authz.key_write("foo/x"));
}

#[test]
fn documented_list_example() {
    let authz = authorizer(
        "key_prefix \"\" {\n policy = \"deny\"\n}\nkey_prefix \"bar\" {\n policy = \"list\"\n}\nkey_prefix \"baz\" {\n policy = \"read\"\n}\n",
        DefaultPolicy::Allow,
    );
    assert!(authz.key_read("baz"));
    assert!(!authz.key_list("baz"));
    assert!(authz.key_list("bar"));
    assert!(authz.key_read("bar/x"));
    assert!(!authz.key_write("bar/x"));
    assert!(!authz.key_read("other"));
}

#[test]
fn exact_beats_deny_prefix_and_longest_prefix_wins() {
    let authz = authorizer(
        "service_prefix \"\" { policy = \"deny\" }\nservice_prefix \"web\" { policy = \"read\" }\nservice_prefix \"web-admin\" { policy = \"deny\" }\nservice \"web-admin-ok\" { policy = \"write\" }",
        DefaultPolicy::Allow,
    );
    assert!(!authz.service_read("db"));
    assert!(authz.service_read("web"));
    assert!(authz.service_read("web-1"));
    assert!(!authz.service_read("web-admin"));
    assert!(authz.service_write("web-admin-ok"));
    assert!(!authz.service_read("web-admin-ok2"));
}

#[test]
fn no_rule_means_default_policy_which_never_grants_acl_or_snapshot() {
    let allow = authorizer(
        "key_prefix \"a/\" { policy = \"deny\" }",
        DefaultPolicy::Allow,
    );
    assert!(allow.key_write("b"));
    assert!(allow.operator_write());
    assert!(!allow.key_read("a/x"));
    assert!(!allow.acl_read());
    assert!(!allow.acl_write());
    assert!(!allow.snapshot());
    for authz in [Authorizer::allow_all(), allow.clone()] {
        assert!(authz.service_write("x"));
        assert!(!authz.acl_read());
        assert!(!authz.snapshot());
    }
    let deny = authorizer(
        "key_prefix \"a/\" { policy = \"write\" }",
        DefaultPolicy::Deny,
    );
    assert!(deny.key_write("a/x"));
    assert!(!deny.key_read("b"));
    assert!(!deny.service_read("x"));
    assert!(!Authorizer::deny_all().node_read("n"));
    let manage = Authorizer::manage_all();
    assert!(manage.acl_write() && manage.snapshot() && manage.key_write_prefix(""));
}

#[test]
fn acl_rule_grants_acl_and_snapshot() {
    let management = authorizer(GLOBAL_MANAGEMENT.rules, DefaultPolicy::Deny);
    assert!(management.acl_write());
    assert!(management.snapshot());
    assert!(management.key_write_prefix(""));
    assert!(management.intention_write("*"));
    assert!(management.service_read_all());
    let read_only = Authorizer::global_read_only(DefaultPolicy::Deny);
    assert!(read_only.acl_read());
    assert!(!read_only.acl_write());
    assert!(!read_only.snapshot());
    assert!(read_only.key_read("x") && read_only.node_read("n") && read_only.keyring_read());
    assert!(!read_only.key_write("x"));
    assert!(read_only.intention_read("web"));
    assert!(!read_only.intention_write("web"));
}

#[test]
fn intentions_derive_from_service_policy_after_merging() {
    // Unwritten intentions: read for a read/write service rule, deny for a deny rule.
    let authz = authorizer(
        "service \"web\" { policy = \"write\" }\nservice \"db\" { policy = \"deny\" }\nservice_prefix \"\" { policy = \"read\" }",
        DefaultPolicy::Allow,
    );
    assert!(authz.intention_read("web"));
    assert!(!authz.intention_write("web"));
    assert!(!authz.intention_read("db"));
    assert!(authz.intention_read("other"));
    // Written intentions are independent of the service policy.
    let authz = authorizer(
        "service_prefix \"\" {\n  policy = \"read\"\n  intentions = \"write\"\n}",
        DefaultPolicy::Deny,
    );
    assert!(authz.intention_write("anything"));
    assert!(!authz.service_write("anything"));
}

#[test]
fn intentions_star_is_any_for_read_and_all_for_write() {
    let some = authorizer(
        "service \"web\" {\n  policy = \"read\"\n}",
        DefaultPolicy::Deny,
    );
    assert!(some.intention_read("*"));
    assert!(!some.intention_write("*"));
    let all = authorizer(
        "service_prefix \"\" {\n  policy = \"write\"\n  intentions = \"write\"\n}",
        DefaultPolicy::Deny,
    );
    assert!(all.intention_write("*"));
    let all_but_one = authorizer(
        "service_prefix \"\" {\n  policy = \"write\"\n  intentions = \"write\"\n}\nservice \"db\" {\n  policy = \"read\"\n}",
        DefaultPolicy::Allow,
    );
    assert!(!all_but_one.intention_write("*"));
    // With no service rule at all, the default policy decides.
    let none = authorizer("", DefaultPolicy::Allow);
    assert!(none.intention_write("*"));
    assert!(none.intention_default_allow());
    assert!(!authorizer("", DefaultPolicy::Deny).intention_default_allow());
}

#[test]
fn read_all_and_write_any() {
    let authz = authorizer(
        "service_prefix \"\" { policy = \"read\" }\nservice \"secret\" { policy = \"deny\" }\nnode_prefix \"\" { policy = \"read\" }\nservice \"web\" { policy = \"write\" }",
        DefaultPolicy::Deny,
    );
    assert!(!authz.service_read_all());
    assert!(authz.node_read_all());
    assert!(authz.service_write_any());
    let none = authorizer("node \"n1\" { policy = \"read\" }", DefaultPolicy::Deny);
    assert!(!none.node_read_all());
    assert!(!none.service_write_any());
}

#[test]
fn mesh_and_peering_fall_back_to_operator() {
    let authz = authorizer(
        "operator = \"write\"\npeering = \"read\"",
        DefaultPolicy::Deny,
    );
    assert!(authz.mesh_write());
    assert!(authz.peering_read());
    assert!(!authz.peering_write());
    let authz = authorizer("mesh = \"deny\"", DefaultPolicy::Allow);
    assert!(!authz.mesh_read());
    assert!(authz.operator_read());
}

#[test]
fn key_write_prefix_needs_write_on_everything_under_it() {
    let authz = authorizer(
        "key_prefix \"\" { policy = \"write\" }\nkey \"app/locked\" { policy = \"read\" }\nkey_prefix \"tmp/\" { policy = \"write\" }",
        DefaultPolicy::Allow,
    );
    assert!(authz.key_write_prefix("tmp/"));
    assert!(authz.key_write_prefix("tmp/x/"));
    assert!(!authz.key_write_prefix("app/"));
    assert!(!authz.key_write_prefix(""));
    assert!(authz.key_write("app/other"));
    // No rule covers the prefix and none under it refuses: the default policy decides.
    let authz = authorizer(
        "key_prefix \"other/\" { policy = \"write\" }",
        DefaultPolicy::Allow,
    );
    assert!(authz.key_write_prefix("app/"));
    let authz = authorizer(
        "key_prefix \"other/\" { policy = \"write\" }",
        DefaultPolicy::Deny,
    );
    assert!(!authz.key_write_prefix("app/"));
}

#[test]
fn every_resource_has_its_checks() {
    let authz = authorizer(
        "agent \"n1\" { policy = \"write\" }\nevent_prefix \"dep\" { policy = \"write\" }\nidentity \"app\" { policy = \"read\" }\nquery_prefix \"\" { policy = \"read\" }\nsession \"n1\" { policy = \"write\" }\nkeyring = \"read\"\nnode \"n1\" { policy = \"write\" }",
        DefaultPolicy::Deny,
    );
    assert!(authz.agent_read("n1") && authz.agent_write("n1") && !authz.agent_read("n2"));
    assert!(authz.event_write("deploy") && authz.event_read("dep") && !authz.event_read("other"));
    assert!(authz.identity_read("app") && !authz.identity_write("app"));
    assert!(authz.query_read("q") && !authz.query_write("q"));
    assert!(authz.session_write("n1") && !authz.session_read("n2"));
    assert!(authz.keyring_read() && !authz.keyring_write());
    assert!(authz.node_write("n1") && !authz.node_read("n2"));
}

#[test]
fn agent_recovery_token() {
    let authz = Authorizer::agent_recovery("node-1");
    assert!(authz.agent_write("node-1"));
    assert!(!authz.agent_read("node-2"));
    assert!(authz.node_read("anything"));
    assert!(!authz.node_write("node-1"));
    assert!(!authz.service_read("web"));
}

#[test]
fn require_renders_consul_denials() {
    let authz = authorizer(
        "service_prefix \"\" { policy = \"read\" }",
        DefaultPolicy::Deny,
    )
    .with_accessor(Accessor::from_accessor_id(
        "6a1253d2-1785-24fd-91c2-f8e78c745511",
    ));
    assert_eq!(
        authz.require(Permission::service(Access::Read, "web")),
        Ok(())
    );
    assert_eq!(
        authz
            .require(Permission::service(Access::Write, "web"))
            .unwrap_err()
            .to_string(),
        "Permission denied: token with AccessorID '6a1253d2-1785-24fd-91c2-f8e78c745511' lacks permission 'service:write' on \"web\""
    );
    assert_eq!(
        authz
            .require(Permission::key_write_prefix("app/"))
            .unwrap_err()
            .to_string(),
        "Permission denied: token with AccessorID '6a1253d2-1785-24fd-91c2-f8e78c745511' lacks permission 'key:write' on \"app/\""
    );
    let anonymous = Authorizer::deny_all().with_accessor(Accessor::Anonymous);
    assert_eq!(
        anonymous
            .require(Permission::key(Access::Read, "foo"))
            .unwrap_err()
            .to_string(),
        "Permission denied: anonymous token lacks permission 'key:read' on \"foo\". The anonymous token is used implicitly when a request does not specify a token."
    );
    assert_eq!(
        anonymous
            .require(Permission::snapshot())
            .unwrap_err()
            .to_string(),
        "Permission denied: anonymous token lacks permission 'acl:write'. The anonymous token is used implicitly when a request does not specify a token."
    );
}
