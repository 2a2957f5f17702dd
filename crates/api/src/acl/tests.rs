//! The ACL objects encode as Consul's server does: `omitempty` per struct tag, `null`
//! versus `[]`, the lower-case template variable key, base64 hashes and RFC 3339 times.

use serde_json::{Value, json};

use super::*;
use crate::go_json::{self, Shape};
use crate::go_time::GoTime;

fn shaped<T: serde::Serialize>(value: &T) -> Value {
    go_json::to_value(value, Shape::Catalog).unwrap()
}

#[test]
fn a_bare_token_leaves_out_what_consul_omits() {
    let token = AclToken {
        accessor_id: ANONYMOUS_TOKEN_ACCESSOR_ID.into(),
        secret_id: ANONYMOUS_TOKEN_SECRET_ID.into(),
        description: ANONYMOUS_TOKEN_DESCRIPTION.into(),
        hash: Some(vec![1, 2, 3]),
        create_index: 5,
        modify_index: 5,
        ..AclToken::default()
    };
    assert_eq!(
        shaped(&token),
        json!({
            "AccessorID": "00000000-0000-0000-0000-000000000002",
            "SecretID": "anonymous",
            "Description": "Anonymous Token",
            "Local": false,
            "CreateTime": "0001-01-01T00:00:00Z",
            "Hash": "AQID",
            "CreateIndex": 5,
            "ModifyIndex": 5
        })
    );
}

#[test]
fn a_full_token_writes_its_links_identities_and_expiry() {
    let token = AclToken {
        accessor_id: "00000000-DEAD-BEEF-0000-000000000000".into(),
        policies: vec![AclLink {
            id: GLOBAL_MANAGEMENT_POLICY_ID.into(),
            name: GLOBAL_MANAGEMENT_POLICY_NAME.into(),
        }],
        service_identities: vec![
            AclServiceIdentity {
                service_name: "web".into(),
                datacenters: vec!["dc1".into()],
            },
            AclServiceIdentity {
                service_name: "db".into(),
                datacenters: vec![],
            },
        ],
        node_identities: vec![AclNodeIdentity {
            node_name: "deaf".into(),
            datacenter: "dc1".into(),
        }],
        templated_policies: vec![AclTemplatedPolicy {
            template_id: "00000000-0000-0000-0000-000000000003".into(),
            template_name: "builtin/service".into(),
            template_variables: Some(AclTemplatedPolicyVariables {
                name: "my-service".into(),
            }),
            datacenters: vec![],
        }],
        expiration_time: Some(GoTime::from_unix_nanos(1_500_000_000)),
        ..AclToken::default()
    };
    let value = shaped(&token);
    assert_eq!(
        value["Policies"],
        json!([{"ID": GLOBAL_MANAGEMENT_POLICY_ID, "Name": "global-management"}])
    );
    assert_eq!(
        value["ServiceIdentities"],
        json!([{"ServiceName": "web", "Datacenters": ["dc1"]}, {"ServiceName": "db"}])
    );
    assert_eq!(
        value["NodeIdentities"],
        json!([{"NodeName": "deaf", "Datacenter": "dc1"}])
    );
    assert_eq!(
        value["TemplatedPolicies"],
        json!([{"TemplateID": "00000000-0000-0000-0000-000000000003", "TemplateName": "builtin/service", "TemplateVariables": {"name": "my-service"}}])
    );
    assert_eq!(value["ExpirationTime"], json!("1970-01-01T00:00:01.5Z"));
    assert!(value.get("Roles").is_none());
    assert!(value.get("ExpirationTTL").is_none());
    assert_eq!(
        value["AccessorID"],
        json!("00000000-DEAD-BEEF-0000-000000000000")
    );
    let stub = shaped(&token.stub());
    assert_eq!(stub["NodeIdentities"], value["NodeIdentities"]);
    assert!(stub.get("ExpirationTTL").is_none());
}

#[test]
fn template_variables_accept_any_case_and_write_lower_case() {
    let body = r#"{"TemplateName":"builtin/service","TemplateVariables":{"Name":"api"}}"#;
    let strict: AclTemplatedPolicy = serde_json::from_str(body).unwrap();
    let lenient: AclTemplatedPolicy =
        crate::decode::decode_lenient(serde_json::from_str(body).unwrap()).unwrap();
    assert_eq!(strict, lenient);
    assert_eq!(strict.template_variables.unwrap().name, "api");
}

#[test]
fn expiration_ttl_takes_go_durations_and_nanoseconds() {
    let text: AclToken =
        crate::decode::decode_lenient(json!({"ExpirationTTL": "10m", "description": "x"})).unwrap();
    assert_eq!(text.expiration_ttl, "10m");
    assert_eq!(text.description, "x");
    let number: AclToken =
        crate::decode::decode_lenient(json!({"ExpirationTTL": 600_000_000_000u64})).unwrap();
    assert_eq!(number.expiration_ttl, "600000000000ns");
}

#[test]
fn policy_and_its_stub_differ_on_datacenters() {
    let policy = AclPolicy {
        id: GLOBAL_MANAGEMENT_POLICY_ID.into(),
        name: GLOBAL_MANAGEMENT_POLICY_NAME.into(),
        description: GLOBAL_MANAGEMENT_POLICY_DESCRIPTION.into(),
        rules: GLOBAL_MANAGEMENT_POLICY_RULES.into(),
        hash: Some(vec![0xff]),
        ..AclPolicy::default()
    };
    let full = shaped(&policy);
    assert!(full.get("Datacenters").is_none());
    assert_eq!(full["Rules"], json!(GLOBAL_MANAGEMENT_POLICY_RULES));
    let stub = shaped(&policy.stub());
    assert_eq!(stub["Datacenters"], Value::Null);
    assert!(stub.get("Rules").is_none());
    let with_dcs = AclPolicy {
        datacenters: vec!["dc1".into()],
        ..policy
    };
    assert_eq!(shaped(&with_dcs)["Datacenters"], json!(["dc1"]));
    assert_eq!(shaped(&with_dcs.stub())["Datacenters"], json!(["dc1"]));
}

#[test]
fn role_auth_method_and_binding_rule_shapes() {
    let role = AclRole {
        id: "r".into(),
        name: "test-role".into(),
        ..AclRole::default()
    };
    let value = shaped(&role);
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "CreateIndex",
            "Description",
            "Hash",
            "ID",
            "ModifyIndex",
            "Name"
        ]
    );
    let config = json!({"JWTValidationPubKeys": ["k"], "BoundIssuer": "test-issuer"});
    let method = AclAuthMethod {
        name: "jwt".into(),
        kind: "jwt".into(),
        config: Some(JsonObject::new(&config)),
        ..AclAuthMethod::default()
    };
    assert_eq!(
        shaped(&method),
        json!({"Name": "jwt", "Type": "jwt", "Config": config, "CreateIndex": 0, "ModifyIndex": 0})
    );
    let binary = postcard::to_stdvec(&method).unwrap();
    assert_eq!(
        postcard::from_bytes::<AclAuthMethod>(&binary).unwrap(),
        method
    );
    let bare = AclAuthMethod::default();
    assert_eq!(shaped(&bare)["Config"], Value::Null);
    let rule = AclBindingRule {
        id: "b".into(),
        auth_method: "jwt".into(),
        bind_type: "service".into(),
        bind_name: "web".into(),
        selector: r#"value.iss=="test-issuer""#.into(),
        ..AclBindingRule::default()
    };
    let value = shaped(&rule);
    assert!(value.get("BindVars").is_none());
    assert_eq!(value["Selector"], json!(r#"value.iss=="test-issuer""#));
}

#[test]
fn tokens_round_trip_through_json_and_postcard() {
    let token = AclToken {
        accessor_id: "a".into(),
        secret_id: "s".into(),
        roles: vec![AclLink {
            id: "r".into(),
            name: String::new(),
        }],
        local: true,
        expiration_time: Some(GoTime::from_unix_millis(86_400_123)),
        create_time: GoTime::from_unix_millis(86_000_000),
        hash: Some(vec![9; 32]),
        ..AclToken::default()
    };
    let json = serde_json::to_string(&token).unwrap();
    assert_eq!(serde_json::from_str::<AclToken>(&json).unwrap(), token);
    let binary = postcard::to_stdvec(&token).unwrap();
    assert_eq!(postcard::from_bytes::<AclToken>(&binary).unwrap(), token);
}

#[test]
fn reserved_ids_and_templates() {
    assert!(acl_id_reserved(GLOBAL_MANAGEMENT_POLICY_ID));
    assert!(!acl_id_reserved("00000000-DEAD-BEEF-0000-000000000000"));
    assert_eq!(
        builtin_templated_policy("builtin/dns").map(|t| t.id),
        Some("00000000-0000-0000-0000-000000000005")
    );
    assert!(builtin_templated_policy("builtin/nope").is_none());
}
