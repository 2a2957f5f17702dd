//! The rule language on the examples of Consul's ACL rule reference, in both syntaxes,
//! and Consul's error texts.

use proconsul_acl::{
    Disposition, Grant, LabelledResource, Matching, RuleError, Rules, ScalarResource, parse_rules,
};

/// Parses the HCL and JSON forms of one documented example and checks they agree.
fn both(hcl: &str, json: &str) -> Rules {
    let from_hcl = Rules::parse(hcl).unwrap_or_else(|err| panic!("{hcl}: {err}"));
    let from_json = Rules::parse(json).unwrap_or_else(|err| panic!("{json}: {err}"));
    assert_eq!(from_hcl, from_json, "HCL and JSON forms differ");
    from_hcl
}

fn policy(
    rules: &Rules,
    resource: LabelledResource,
    matching: Matching,
    label: &str,
) -> Option<Disposition> {
    rules
        .get(resource, matching, label)
        .map(|grant| grant.policy)
}

#[test]
fn documented_agent_rules() {
    let rules = both(
        "agent \"foo\" {\n  policy = \"write\"\n}\nagent_prefix \"\" {\n  policy = \"read\"\n}\nagent_prefix \"bar\" {\n  policy = \"deny\"\n}\n",
        r#"{"agent": {"foo": {"policy": "write"}}, "agent_prefix": {"": {"policy": "read"}, "bar": {"policy": "deny"}}}"#,
    );
    use LabelledResource::Agent;
    assert_eq!(
        policy(&rules, Agent, Matching::Exact, "foo"),
        Some(Disposition::Write)
    );
    assert_eq!(
        policy(&rules, Agent, Matching::Prefix, ""),
        Some(Disposition::Read)
    );
    assert_eq!(
        policy(&rules, Agent, Matching::Prefix, "bar"),
        Some(Disposition::Deny)
    );
}

#[test]
fn documented_scalar_rules() {
    for (hcl, json, resource, disposition) in [
        (
            "acl = \"write\"",
            r#"{"acl": "write"}"#,
            ScalarResource::Acl,
            Disposition::Write,
        ),
        (
            "keyring = \"write\"",
            r#"{"keyring": "write"}"#,
            ScalarResource::Keyring,
            Disposition::Write,
        ),
        (
            "mesh = \"write\"",
            r#"{"mesh": "write"}"#,
            ScalarResource::Mesh,
            Disposition::Write,
        ),
        (
            "operator = \"read\"",
            r#"{"operator": "read"}"#,
            ScalarResource::Operator,
            Disposition::Read,
        ),
        (
            "peering = \"write\"",
            r#"{"peering": "write"}"#,
            ScalarResource::Peering,
            Disposition::Write,
        ),
    ] {
        assert_eq!(both(hcl, json).scalar(resource), Some(disposition), "{hcl}");
    }
}

#[test]
fn documented_key_rules_with_list() {
    let rules = both(
        "key_prefix \"\" {\n policy = \"deny\"\n}\n\nkey_prefix \"bar\" {\n policy = \"list\"\n}\n\nkey_prefix \"baz\" {\n policy = \"read\"\n}\n",
        r#"{"key_prefix": {"": {"policy": "deny"}, "bar": {"policy": "list"}, "baz": {"policy": "read"}}}"#,
    );
    use LabelledResource::Key;
    assert_eq!(
        policy(&rules, Key, Matching::Prefix, "bar"),
        Some(Disposition::List)
    );
    assert_eq!(
        policy(&rules, Key, Matching::Prefix, ""),
        Some(Disposition::Deny)
    );
}

#[test]
fn documented_node_service_session_event_query_identity_rules() {
    let cases = [
        (LabelledResource::Node, "node"),
        (LabelledResource::Service, "service"),
        (LabelledResource::Session, "session"),
        (LabelledResource::Identity, "identity"),
    ];
    for (resource, word) in cases {
        let rules = both(
            &format!(
                "{word}_prefix \"\" {{\n  policy = \"read\"\n}}\n{word} \"app\" {{\n  policy = \"write\"\n}}\n{word} \"admin\" {{\n  policy = \"deny\"\n}}\n"
            ),
            &format!(
                r#"{{"{word}_prefix": {{"": {{"policy": "read"}}}}, "{word}": {{"app": {{"policy": "write"}}, "admin": {{"policy": "deny"}}}}}}"#
            ),
        );
        assert_eq!(
            policy(&rules, resource, Matching::Prefix, ""),
            Some(Disposition::Read)
        );
        assert_eq!(
            policy(&rules, resource, Matching::Exact, "app"),
            Some(Disposition::Write)
        );
        assert_eq!(
            policy(&rules, resource, Matching::Exact, "admin"),
            Some(Disposition::Deny)
        );
    }
    let events = both(
        "event_prefix \"\" {\n  policy = \"read\"\n}\nevent \"deploy\" {\n  policy = \"write\"\n}\n",
        r#"{"event_prefix": {"": {"policy": "read"}}, "event": {"deploy": {"policy": "write"}}}"#,
    );
    assert_eq!(
        policy(&events, LabelledResource::Event, Matching::Exact, "deploy"),
        Some(Disposition::Write)
    );
    let queries = both(
        "query_prefix \"\" {\n  policy = \"read\"\n}\nquery \"foo\" {\n  policy = \"write\"\n}\n",
        r#"{"query_prefix": {"": {"policy": "read"}}, "query": {"foo": {"policy": "write"}}}"#,
    );
    assert_eq!(
        policy(&queries, LabelledResource::Query, Matching::Exact, "foo"),
        Some(Disposition::Write)
    );
}

#[test]
fn documented_service_rule_with_intentions() {
    let rules = both(
        "service \"app\" {\n  policy = \"write\"\n  intentions = \"read\"\n}\n",
        r#"{"service": {"app": {"policy": "write", "intentions": "read"}}}"#,
    );
    assert_eq!(
        rules.get(LabelledResource::Service, Matching::Exact, "app"),
        Some(Grant {
            policy: Disposition::Write,
            intentions: Some(Disposition::Read)
        })
    );
}

#[test]
fn enterprise_only_rules_are_ignored_like_consul_ce() {
    let parsed = parse_rules(
        "partition \"example\" {\n  mesh = \"write\"\n  node \"my-node\" {\n    policy = \"write\"\n  }\n}\nnamespace_prefix \"\" {\n  policy = \"write\"\n}\nkey \"foo\" {\n  policy = \"write\"\n  sentinel {\n    code = \"main = rule { true }\"\n    enforcementlevel = \"hard-mandatory\"\n  }\n}\n",
    )
    .unwrap();
    assert_eq!(parsed.ignored, vec!["partition", "namespace_prefix"]);
    assert_eq!(
        policy(&parsed.rules, LabelledResource::Key, Matching::Exact, "foo"),
        Some(Disposition::Write)
    );
    assert_eq!(parsed.rules.scalar(ScalarResource::Mesh), None);
    assert_eq!(
        policy(
            &parsed.rules,
            LabelledResource::Node,
            Matching::Exact,
            "my-node"
        ),
        None
    );
}

#[test]
fn empty_and_whitespace_rules_are_empty() {
    assert!(Rules::parse("").unwrap().is_empty());
    assert!(Rules::parse("  \n# nothing\n").unwrap().is_empty());
    assert!(Rules::parse("{}").unwrap().is_empty());
    assert!(Rules::parse("acl = \"\"").unwrap().is_empty());
}

#[test]
fn dispositions_are_case_insensitive() {
    let rules = Rules::parse("key \"a\" { policy = \"WRITE\" }\noperator = \"Read\"").unwrap();
    assert_eq!(
        policy(&rules, LabelledResource::Key, Matching::Exact, "a"),
        Some(Disposition::Write)
    );
    assert_eq!(
        rules.scalar(ScalarResource::Operator),
        Some(Disposition::Read)
    );
}

#[test]
fn repeated_rules_merge_by_precedence() {
    let rules = Rules::parse(
        "key \"a\" { policy = \"write\" }\nkey \"a\" { policy = \"deny\" }\nkey \"a\" { policy = \"read\" }",
    )
    .unwrap();
    assert_eq!(
        policy(&rules, LabelledResource::Key, Matching::Exact, "a"),
        Some(Disposition::Deny)
    );
    // JSON with a repeated key: both count (HCL v1 behaviour), not just the last one.
    let rules =
        Rules::parse(r#"{"key": {"a": {"policy": "deny"}, "a": {"policy": "write"}}}"#).unwrap();
    assert_eq!(
        policy(&rules, LabelledResource::Key, Matching::Exact, "a"),
        Some(Disposition::Deny)
    );
    let rules =
        Rules::parse(r#"{"key_prefix": [{"": {"policy": "read"}}, {"": {"policy": "write"}}]}"#)
            .unwrap();
    assert_eq!(
        policy(&rules, LabelledResource::Key, Matching::Prefix, ""),
        Some(Disposition::Write)
    );
}

#[test]
fn invalid_dispositions_use_consul_texts() {
    let cases = [
        ("acl = \"nope\"", "Invalid acl policy: \"nope\""),
        ("acl = \"list\"", "Invalid acl policy: \"list\""),
        ("operator = \"nope\"", "Invalid operator policy: \"nope\""),
        ("keyring = \"nope\"", "Invalid keyring policy: \"nope\""),
        ("mesh = \"nope\"", "Invalid mesh policy: \"nope\""),
        ("peering = \"nope\"", "Invalid peering policy: \"nope\""),
        (
            "agent \"foo\" { policy = \"nope\" }",
            "Invalid agent policy: &acl.AgentRule{Node:\"foo\", Policy:\"nope\"}",
        ),
        (
            "agent_prefix \"foo\" { policy = \"nope\" }",
            "Invalid agent_prefix policy: ",
        ),
        (
            "key \"foo\" { policy = \"nope\" }",
            "Invalid key policy: &acl.KeyRule{Prefix:\"foo\", Policy:\"nope\", EnterpriseRule:acl.EnterpriseRule{}}",
        ),
        (
            "key_prefix \"foo\" { policy = \"nope\" }",
            "Invalid key_prefix policy: ",
        ),
        (
            "node \"foo\" { policy = \"list\" }",
            "Invalid node policy: ",
        ),
        (
            "node_prefix \"foo\" { policy = \"nope\" }",
            "Invalid node_prefix policy: ",
        ),
        (
            "service \"foo\" { policy = \"nope\" }",
            "Invalid service policy: ",
        ),
        (
            "service_prefix \"foo\" { policy = \"nope\" }",
            "Invalid service_prefix policy: ",
        ),
        (
            "session \"foo\" { policy = \"nope\" }",
            "Invalid session policy: ",
        ),
        (
            "session_prefix \"foo\" { policy = \"nope\" }",
            "Invalid session_prefix policy: ",
        ),
        (
            "event \"foo\" { policy = \"nope\" }",
            "Invalid event policy: ",
        ),
        (
            "event_prefix \"foo\" { policy = \"nope\" }",
            "Invalid event_prefix policy: ",
        ),
        (
            "query \"foo\" { policy = \"nope\" }",
            "Invalid query policy: ",
        ),
        (
            "query_prefix \"foo\" { policy = \"nope\" }",
            "Invalid query_prefix policy: ",
        ),
        (
            "identity \"foo\" { policy = \"nope\" }",
            "Invalid identity policy: ",
        ),
        // A block without a policy (or with a misspelt field) has an empty policy.
        (
            "service \"\" {\n  service = \"write\"\n}",
            "Invalid service policy: &acl.ServiceRule{Name:\"\", Policy:\"\"",
        ),
        (
            "service \"foo\" {\n  policy = \"write\"\n  intentions = \"foo\"\n}",
            "Invalid service intentions policy: ",
        ),
        (
            "service_prefix \"foo\" {\n  policy = \"write\"\n  intentions = \"list\"\n}",
            "Invalid service_prefix intentions policy: ",
        ),
        (
            r#"{"key": {"foo": {"policy": "nope"}}}"#,
            "Invalid key policy: ",
        ),
        (r#"{ "acl": "list" }"#, "Invalid acl policy: "),
    ];
    for (rules, expected) in cases {
        let err = Rules::parse(rules).expect_err(rules).to_string();
        assert!(err.starts_with(expected), "{rules}: {err}");
    }
}

#[test]
fn syntax_errors_use_consul_prefix() {
    for rules in [
        "key \"foo\" {",
        "acl = ",
        "{\"acl\": ",
        "key = \"read\"",
        "acl { policy = \"read\" }",
        "key \"a\" { policy = [\"read\"] }",
        "acl = \"read\"\nacl = \"write\"",
    ] {
        let err = Rules::parse(rules).expect_err(rules);
        assert!(matches!(err, RuleError::Syntax(_)), "{rules}: {err:?}");
        assert!(
            err.to_string().starts_with("Failed to parse ACL rules: "),
            "{err}"
        );
    }
}

/// HCL v1 forms that HCL2 parsers refuse: Consul accepts them, so do we.
#[test]
fn hcl_v1_forms_parse() {
    let expected =
        Rules::parse(r#"{"service": {"app": {"policy": "write", "intentions": "read"}}}"#).unwrap();
    for rules in [
        "service \"app\" { policy = \"write\" intentions = \"read\" }",
        "service \"app\" {\n  policy = \"write\",\n  intentions = \"read\"\n}",
        "\"service\" \"app\" { \"policy\" = \"write\", \"intentions\" = \"read\" }",
        "service = { app = { policy = \"write\" intentions = \"read\" } }",
    ] {
        assert_eq!(Rules::parse(rules).unwrap(), expected, "{rules}");
    }
}

/// The Sentinel example of Consul's rule reference (Enterprise: the block is ignored in
/// CE, but its heredoc must parse).
#[test]
fn sentinel_heredoc_parses() {
    let rules = Rules::parse(
        "key \"foo\" {\n  policy = \"write\"\n  sentinel {\n      code = <<EOF\nimport \"strings\"\nmain = rule { strings.has_suffix(value, \"bar\") }\nEOF\n      enforcementlevel = \"hard-mandatory\"\n  }\n}\n",
    )
    .unwrap();
    assert_eq!(
        policy(&rules, LabelledResource::Key, Matching::Exact, "foo"),
        Some(Disposition::Write)
    );
}

/// A text the fuzzer found to take seconds in hcl-rs (exponential backtracking) is
/// refused at once.
#[test]
fn expression_soup_is_refused_quickly() {
    let text = "ke=jnz/nnz/{\nn.nnnnnnz/n.j+{key_pnnz/n.j+{key_pk=jznnnnz/n.j+{key_pk=y_pz/n.j+{key_GGGGG =  \"read\"\n}\n".repeat(8);
    let start = std::time::Instant::now();
    assert!(Rules::parse(&text).is_err());
    assert!(start.elapsed() < std::time::Duration::from_millis(100));
}
