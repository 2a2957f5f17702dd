//! `-format=json`: what `consul acl ...` prints is its Go client's structs (`api.ACLToken`,
//! `api.ACLPolicy`, ...) through `json.MarshalIndent(v, "", "    ")`, whose key order
//! (indexes first for tokens) and `omitempty` tags differ from the server's answers.
//! These views hold that order and those tags; times and hashes are already text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use proconsul_api::acl::{
    AclLink, AclNodeIdentity, AclPolicy, AclPolicyListStub, AclRole, AclServiceIdentity,
    AclTemplatedPolicy, AclToken, AclTokenListStub,
};
use proconsul_api::client::AclTokenExpanded;
use proconsul_api::go_time::GoTime;
use serde::Serialize;

/// `value` as Go's `MarshalIndent` with four spaces writes it, HTML-safe escapes included.
pub fn indented<T: Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // The views hold only strings, numbers, booleans and lists: this cannot fail.
    value
        .serialize(&mut serializer)
        .expect("JSON views always serialize");
    go_escape(&String::from_utf8_lossy(&out))
}

/// Go's encoder escapes `<`, `>`, `&`, U+2028 and U+2029 in strings; those characters
/// can only occur inside strings in JSON text, so replacing them everywhere is exact.
fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn time(time: GoTime) -> String {
    time.to_rfc3339()
}

fn hash(hash: &Option<Vec<u8>>) -> Option<String> {
    hash.as_ref()
        .filter(|bytes| !bytes.is_empty())
        .map(|bytes| BASE64.encode(bytes))
}

/// `api.ACLLink` (policy and role links).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LinkView<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    name: &'a str,
}

fn links(links: &[AclLink]) -> Vec<LinkView<'_>> {
    links
        .iter()
        .map(|link| LinkView {
            id: &link.id,
            name: &link.name,
        })
        .collect()
}

/// `api.ACLServiceIdentity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceIdentityView<'a> {
    service_name: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    datacenters: &'a [String],
}

fn service_identities(identities: &[AclServiceIdentity]) -> Vec<ServiceIdentityView<'_>> {
    identities
        .iter()
        .map(|identity| ServiceIdentityView {
            service_name: &identity.service_name,
            datacenters: &identity.datacenters,
        })
        .collect()
}

/// `api.ACLNodeIdentity`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeIdentityView<'a> {
    node_name: &'a str,
    datacenter: &'a str,
}

fn node_identities(identities: &[AclNodeIdentity]) -> Vec<NodeIdentityView<'_>> {
    identities
        .iter()
        .map(|identity| NodeIdentityView {
            node_name: &identity.node_name,
            datacenter: &identity.datacenter,
        })
        .collect()
}

/// `api.ACLTemplatedPolicy`, whose variables keep Go's field name `Name`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TemplatedPolicyView<'a> {
    template_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template_variables: Option<VariablesView<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    datacenters: &'a [String],
}

/// `api.ACLTemplatedPolicyVariables`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VariablesView<'a> {
    name: &'a str,
}

fn templated_policies(policies: &[AclTemplatedPolicy]) -> Vec<TemplatedPolicyView<'_>> {
    policies
        .iter()
        .map(|policy| TemplatedPolicyView {
            template_name: &policy.template_name,
            template_variables: policy
                .template_variables
                .as_ref()
                .map(|variables| VariablesView {
                    name: &variables.name,
                }),
            datacenters: &policy.datacenters,
        })
        .collect()
}

/// `api.ACLToken` and `api.ACLTokenListEntry`, which share their keys and order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenView<'a> {
    create_index: u64,
    modify_index: u64,
    #[serde(rename = "AccessorID")]
    accessor_id: &'a str,
    #[serde(rename = "SecretID")]
    secret_id: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policies: Vec<LinkView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<LinkView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    service_identities: Vec<ServiceIdentityView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_identities: Vec<NodeIdentityView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    templated_policies: Vec<TemplatedPolicyView<'a>>,
    local: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    auth_method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_time: Option<String>,
    create_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
}

impl<'a> From<&'a AclToken> for TokenView<'a> {
    fn from(token: &'a AclToken) -> TokenView<'a> {
        TokenView {
            create_index: token.create_index,
            modify_index: token.modify_index,
            accessor_id: &token.accessor_id,
            secret_id: &token.secret_id,
            description: &token.description,
            policies: links(&token.policies),
            roles: links(&token.roles),
            service_identities: service_identities(&token.service_identities),
            node_identities: node_identities(&token.node_identities),
            templated_policies: templated_policies(&token.templated_policies),
            local: token.local,
            auth_method: &token.auth_method,
            expiration_time: token.expiration_time.map(time),
            create_time: time(token.create_time),
            hash: hash(&token.hash),
        }
    }
}

impl<'a> From<&'a AclTokenListStub> for TokenView<'a> {
    fn from(token: &'a AclTokenListStub) -> TokenView<'a> {
        TokenView {
            create_index: token.create_index,
            modify_index: token.modify_index,
            accessor_id: &token.accessor_id,
            secret_id: &token.secret_id,
            description: &token.description,
            policies: links(&token.policies),
            roles: links(&token.roles),
            service_identities: service_identities(&token.service_identities),
            node_identities: node_identities(&token.node_identities),
            templated_policies: templated_policies(&token.templated_policies),
            local: token.local,
            auth_method: &token.auth_method,
            expiration_time: token.expiration_time.map(time),
            create_time: time(token.create_time),
            hash: hash(&token.hash),
        }
    }
}

/// `api.ACLTokenExpanded`: its own fields, then the embedded token's, as Go writes an
/// embedded struct.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenExpandedView<'a> {
    expanded_policies: Vec<PolicyView<'a>>,
    expanded_roles: Vec<RoleView<'a>>,
    #[serde(rename = "NamespaceDefaultPolicyIDs")]
    namespace_default_policy_ids: Option<Vec<String>>,
    #[serde(rename = "NamespaceDefaultRoleIDs")]
    namespace_default_role_ids: Option<Vec<String>>,
    #[serde(rename = "AgentACLDefaultPolicy")]
    agent_acl_default_policy: &'a str,
    #[serde(rename = "AgentACLDownPolicy")]
    agent_acl_down_policy: &'a str,
    resolved_by_agent: &'a str,
    #[serde(flatten)]
    token: TokenView<'a>,
}

impl<'a> From<&'a AclTokenExpanded> for TokenExpandedView<'a> {
    fn from(expanded: &'a AclTokenExpanded) -> TokenExpandedView<'a> {
        TokenExpandedView {
            expanded_policies: expanded.expanded_policies.iter().map(Into::into).collect(),
            expanded_roles: expanded.expanded_roles.iter().map(Into::into).collect(),
            namespace_default_policy_ids: None,
            namespace_default_role_ids: None,
            agent_acl_default_policy: &expanded.agent_acl_default_policy,
            agent_acl_down_policy: &expanded.agent_acl_down_policy,
            resolved_by_agent: &expanded.resolved_by_agent,
            token: (&expanded.token).into(),
        }
    }
}

/// `api.ACLPolicy`: `Datacenters` and `Hash` carry no `omitempty` (`null` when empty).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyView<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    name: &'a str,
    description: &'a str,
    rules: &'a str,
    datacenters: Option<&'a [String]>,
    hash: Option<String>,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a AclPolicy> for PolicyView<'a> {
    fn from(policy: &'a AclPolicy) -> PolicyView<'a> {
        PolicyView {
            id: &policy.id,
            name: &policy.name,
            description: &policy.description,
            rules: &policy.rules,
            datacenters: (!policy.datacenters.is_empty()).then_some(&policy.datacenters[..]),
            hash: hash(&policy.hash),
            create_index: policy.create_index,
            modify_index: policy.modify_index,
        }
    }
}

/// `api.ACLPolicyListEntry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyListView<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    name: &'a str,
    description: &'a str,
    datacenters: Option<&'a [String]>,
    hash: Option<String>,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a AclPolicyListStub> for PolicyListView<'a> {
    fn from(policy: &'a AclPolicyListStub) -> PolicyListView<'a> {
        PolicyListView {
            id: &policy.id,
            name: &policy.name,
            description: &policy.description,
            datacenters: policy
                .datacenters
                .as_deref()
                .filter(|datacenters| !datacenters.is_empty()),
            hash: hash(&policy.hash),
            create_index: policy.create_index,
            modify_index: policy.modify_index,
        }
    }
}

/// `api.ACLRole`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleView<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    name: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policies: Vec<LinkView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    service_identities: Vec<ServiceIdentityView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_identities: Vec<NodeIdentityView<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    templated_policies: Vec<TemplatedPolicyView<'a>>,
    hash: Option<String>,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a AclRole> for RoleView<'a> {
    fn from(role: &'a AclRole) -> RoleView<'a> {
        RoleView {
            id: &role.id,
            name: &role.name,
            description: &role.description,
            policies: links(&role.policies),
            service_identities: service_identities(&role.service_identities),
            node_identities: node_identities(&role.node_identities),
            templated_policies: templated_policies(&role.templated_policies),
            hash: hash(&role.hash),
            create_index: role.create_index,
            modify_index: role.modify_index,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::acl::AclTemplatedPolicyVariables;

    fn token() -> AclToken {
        AclToken {
            accessor_id: "4d123dff-f460-73c3-02c4-8dd64d136e01".into(),
            secret_id: "86cddfb9-2760-d947-358d-a2811156bf31".into(),
            description: "web <edge> & co".into(),
            policies: vec![AclLink {
                id: "00000000-0000-0000-0000-000000000001".into(),
                name: "global-management".into(),
            }],
            templated_policies: vec![AclTemplatedPolicy {
                template_name: "builtin/service".into(),
                template_variables: Some(AclTemplatedPolicyVariables { name: "api".into() }),
                ..AclTemplatedPolicy::default()
            }],
            create_time: GoTime::parse_rfc3339("2018-10-22T15:27:04.479026Z").unwrap(),
            hash: Some(vec![0xde, 0xad]),
            create_index: 7,
            modify_index: 9,
            ..AclToken::default()
        }
    }

    #[test]
    fn tokens_print_in_the_go_clients_key_order_with_four_space_indent() {
        let text = indented(&TokenView::from(&token()));
        assert_eq!(
            text,
            r#"{
    "CreateIndex": 7,
    "ModifyIndex": 9,
    "AccessorID": "4d123dff-f460-73c3-02c4-8dd64d136e01",
    "SecretID": "86cddfb9-2760-d947-358d-a2811156bf31",
    "Description": "web \u003cedge\u003e \u0026 co",
    "Policies": [
        {
            "ID": "00000000-0000-0000-0000-000000000001",
            "Name": "global-management"
        }
    ],
    "TemplatedPolicies": [
        {
            "TemplateName": "builtin/service",
            "TemplateVariables": {
                "Name": "api"
            }
        }
    ],
    "Local": false,
    "CreateTime": "2018-10-22T15:27:04.479026Z",
    "Hash": "3q0="
}"#
        );
    }

    #[test]
    fn policies_write_null_datacenters_and_hash() {
        let policy = AclPolicy {
            id: "p".into(),
            name: "n".into(),
            rules: "acl = \"read\"".into(),
            ..AclPolicy::default()
        };
        let value: serde_json::Value =
            serde_json::from_str(&indented(&PolicyView::from(&policy))).unwrap();
        assert_eq!(value["Datacenters"], serde_json::Value::Null);
        assert_eq!(value["Hash"], serde_json::Value::Null);
        assert_eq!(value["Rules"], "acl = \"read\"");
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 8);
    }

    #[test]
    fn expanded_tokens_put_the_token_last() {
        let expanded = AclTokenExpanded {
            token: token(),
            agent_acl_default_policy: "deny".into(),
            ..AclTokenExpanded::default()
        };
        let text = indented(&TokenExpandedView::from(&expanded));
        let first = text.find("\"ExpandedPolicies\"").unwrap();
        let default = text.find("\"AgentACLDefaultPolicy\": \"deny\"").unwrap();
        let accessor = text.find("\"AccessorID\"").unwrap();
        assert!(first < default && default < accessor, "{text}");
    }
}
