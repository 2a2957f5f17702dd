//! Synthetic policies (identities, templates) and built-ins: exact texts, IDs, and how
//! a token's pieces merge for one datacenter.

use proconsul_acl::{
    Accessor, Authorize, BUILTIN_POLICIES, DefaultPolicy, Disposition, LabelledResource, Matching,
    NodeIdentity, Rules, ServiceIdentity, TEMPLATES, TemplateError, TemplatedPolicy, TokenRules,
    synthetic_policy_id, template,
};

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn service_identity_policy_is_consuls() {
    let policy = ServiceIdentity {
        service_name: "web".into(),
        datacenters: vec!["dc1".into()],
    }
    .synthetic_policy();
    let rules = "\nservice \"web\" {\n\tpolicy = \"write\"\n}\nservice \"web-sidecar-proxy\" {\n\tpolicy = \"write\"\n}\nservice_prefix \"\" {\n\tpolicy = \"read\"\n}\nnode_prefix \"\" {\n\tpolicy = \"read\"\n}";
    assert_eq!(policy.rules, rules);
    assert_eq!(
        policy.id,
        format!("{}6c62272e07bb014262b821756295c58d", hex(rules))
    );
    assert!(policy.id.starts_with("0a7365727669636520"));
    assert_eq!(policy.name, format!("synthetic-policy-{}", policy.id));
    assert_eq!(
        policy.description,
        "synthetic policy for service identity \"web\""
    );
    assert_eq!(policy.datacenters, vec!["dc1".to_string()]);
}

#[test]
fn node_identity_policy_is_consuls() {
    let policy = NodeIdentity {
        node_name: "n1".into(),
        datacenter: "dc1".into(),
    }
    .synthetic_policy();
    assert_eq!(
        policy.rules,
        "\nnode \"n1\" {\n\tpolicy = \"write\"\n}\nservice_prefix \"\" {\n\tpolicy = \"read\"\n}"
    );
    assert_eq!(policy.id, synthetic_policy_id(&policy.rules));
}

#[test]
fn builtin_service_template_renders_like_a_service_identity() {
    let templated = TemplatedPolicy {
        template_name: "builtin/service".into(),
        name: Some("my-service".into()),
        datacenters: vec![],
    }
    .synthetic_policy()
    .unwrap();
    let identity = ServiceIdentity {
        service_name: "my-service".into(),
        datacenters: vec![],
    }
    .synthetic_policy();
    assert_eq!(templated.rules, identity.rules);
    assert_eq!(templated.id, identity.id);
    assert!(templated.rules.contains("service \"my-service\""));
    assert_eq!(
        templated.description,
        "synthetic policy generated from templated policy: builtin/service"
    );
}

#[test]
fn every_template_and_builtin_parses() {
    for template in TEMPLATES {
        let rules = template.render(Some("x")).unwrap();
        Rules::parse(&rules).unwrap_or_else(|err| panic!("{}: {err}", template.name));
        assert!(
            template.schema.is_empty()
                || serde_json::from_str::<serde_json::Value>(template.schema).is_ok()
        );
    }
    for policy in BUILTIN_POLICIES {
        Rules::parse(policy.rules).unwrap_or_else(|err| panic!("{}: {err}", policy.name));
    }
    let ids: Vec<_> = TEMPLATES.iter().map(|t| t.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "IDs are unique and ordered"
    );
}

#[test]
fn template_variables_are_validated_with_consul_texts() {
    let service = template("builtin/service").unwrap();
    assert_eq!(service.render(None), Err(TemplateError::MissingName));
    assert_eq!(
        service.render(Some("Web")).unwrap_err().to_string(),
        "service identity \"Web\" has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed"
    );
    assert_eq!(
        template("builtin/node")
            .unwrap()
            .render(Some("a b"))
            .unwrap_err()
            .to_string(),
        "node identity \"a b\"  has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed"
    );
    assert_eq!(
        template("builtin/api-gateway").unwrap().render(Some("")),
        Err(TemplateError::EmptyName)
    );
    // Templates without variables ignore a name.
    let dns = template("builtin/dns").unwrap();
    assert_eq!(dns.render(None).unwrap(), dns.render(Some("x")).unwrap());
    assert_eq!(
        TemplatedPolicy {
            template_name: "builtin/nope".into(),
            name: None,
            datacenters: vec![],
        }
        .synthetic_policy()
        .unwrap_err()
        .to_string(),
        "acl templated policy does not exist: builtin/nope"
    );
}

#[test]
fn token_rules_merge_what_applies_in_this_datacenter() {
    let mut token = TokenRules::new("dc1");
    let deny_web = Rules::parse("service \"web\" { policy = \"deny\" }").unwrap();
    token.add_policy(&deny_web, &["dc2".into()]);
    token
        .add_service_identity(&ServiceIdentity {
            service_name: "web".into(),
            datacenters: vec![],
        })
        .unwrap()
        .add_node_identity(&NodeIdentity {
            node_name: "n2".into(),
            datacenter: "dc2".into(),
        })
        .unwrap()
        .add_templated_policy(&TemplatedPolicy {
            template_name: "builtin/node".into(),
            name: Some("n1".into()),
            datacenters: vec!["dc1".into()],
        })
        .unwrap();
    let authz = token.authorizer(DefaultPolicy::Deny, Accessor::Unknown);
    assert!(
        authz.service_write("web"),
        "the dc2-only deny does not apply in dc1"
    );
    assert!(authz.service_write("web-sidecar-proxy"));
    assert!(authz.service_read("db") && !authz.service_write("db"));
    assert!(authz.node_write("n1"), "builtin/node for dc1");
    assert!(!authz.node_write("n2"), "the node identity is for dc2");
    assert_eq!(
        token
            .rules()
            .get(LabelledResource::Node, Matching::Prefix, "")
            .map(|g| g.policy),
        Some(Disposition::Read)
    );

    // A policy for this datacenter takes part, and its deny wins.
    token.add_policy(&deny_web, &["dc1".into()]);
    let authz = token.authorizer(DefaultPolicy::Deny, Accessor::Unknown);
    assert!(!authz.service_read("web"));
}
