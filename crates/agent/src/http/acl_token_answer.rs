//! The JSON a token is answered with: Consul's `structs.ACLToken`, with the leading
//! `"ID"` that bootstrap adds (`aclBootstrapResponse`), or the trailing
//! `ExpandedTokenInfo` of `?expanded`, and the secret shown as `<hidden>` to a caller
//! that may read ACLs but not write them.
//!
//! One struct serves all three so that the token's fields keep Consul's order and its
//! `omitempty` rules: it is named `AclToken` for the Go-style encoder, which applies
//! the token's rules to the fields they share.

use proconsul_api::acl::{
    AclLink, AclNodeIdentity, AclPolicy, AclRole, AclServiceIdentity, AclTemplatedPolicy, AclToken,
};
use proconsul_api::go_time::GoTime;
use serde::{Serialize, Serializer};

/// What a caller without `acl:write` sees instead of a secret.
pub const REDACTED: &str = "<hidden>";

/// `ExpandedTokenInfo`: everything the token grants, resolved.
#[derive(Debug, Clone, Default)]
pub struct ExpandedInfo {
    pub policies: Vec<AclPolicy>,
    pub roles: Vec<AclRole>,
    pub default_policy: &'static str,
    pub down_policy: &'static str,
    pub resolved_by: String,
}

/// A token as answered.
#[derive(Serialize)]
#[serde(rename = "AclToken", rename_all = "PascalCase")]
pub struct TokenAnswer<'a> {
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "AccessorID")]
    accessor_id: &'a str,
    #[serde(rename = "SecretID")]
    secret_id: &'a str,
    description: &'a str,
    policies: &'a [AclLink],
    roles: &'a [AclLink],
    service_identities: &'a [AclServiceIdentity],
    node_identities: &'a [AclNodeIdentity],
    templated_policies: &'a [AclTemplatedPolicy],
    local: bool,
    auth_method: &'a str,
    expiration_time: Option<GoTime>,
    #[serde(rename = "ExpirationTTL")]
    expiration_ttl: &'a str,
    create_time: GoTime,
    #[serde(serialize_with = "base64_hash")]
    hash: &'a Option<Vec<u8>>,
    create_index: u64,
    modify_index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expanded_policies: Option<&'a [AclPolicy]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expanded_roles: Option<&'a [AclRole]>,
    /// Enterprise namespaces' defaults: always nil (`null`) in CE.
    #[serde(
        rename = "NamespaceDefaultPolicyIDs",
        skip_serializing_if = "Option::is_none"
    )]
    namespace_default_policy_ids: Option<Option<Vec<String>>>,
    #[serde(
        rename = "NamespaceDefaultRoleIDs",
        skip_serializing_if = "Option::is_none"
    )]
    namespace_default_role_ids: Option<Option<Vec<String>>>,
    #[serde(
        rename = "AgentACLDefaultPolicy",
        skip_serializing_if = "Option::is_none"
    )]
    agent_acl_default_policy: Option<&'a str>,
    #[serde(rename = "AgentACLDownPolicy", skip_serializing_if = "Option::is_none")]
    agent_acl_down_policy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved_by_agent: Option<&'a str>,
}

impl<'a> TokenAnswer<'a> {
    /// The token as stored (links carrying their names).
    pub fn new(token: &'a AclToken) -> TokenAnswer<'a> {
        TokenAnswer {
            id: None,
            accessor_id: &token.accessor_id,
            secret_id: &token.secret_id,
            description: &token.description,
            policies: &token.policies,
            roles: &token.roles,
            service_identities: &token.service_identities,
            node_identities: &token.node_identities,
            templated_policies: &token.templated_policies,
            local: token.local,
            auth_method: &token.auth_method,
            expiration_time: token.expiration_time,
            expiration_ttl: &token.expiration_ttl,
            create_time: token.create_time,
            hash: &token.hash,
            create_index: token.create_index,
            modify_index: token.modify_index,
            expanded_policies: None,
            expanded_roles: None,
            namespace_default_policy_ids: None,
            namespace_default_role_ids: None,
            agent_acl_default_policy: None,
            agent_acl_down_policy: None,
            resolved_by_agent: None,
        }
    }

    /// Bootstrap's answer: `"ID"` (the secret) first.
    pub fn with_id(mut self) -> TokenAnswer<'a> {
        self.id = Some(self.secret_id);
        self
    }

    /// The secret hidden unless `show` (the caller has `acl:write`).
    pub fn secret_shown(mut self, show: bool) -> TokenAnswer<'a> {
        if !show {
            self.secret_id = REDACTED;
        }
        self
    }

    /// `?expanded`: the token followed by what it grants.
    pub fn expanded(mut self, info: &'a ExpandedInfo) -> TokenAnswer<'a> {
        self.expanded_policies = Some(&info.policies);
        self.expanded_roles = Some(&info.roles);
        self.namespace_default_policy_ids = Some(None);
        self.namespace_default_role_ids = Some(None);
        self.agent_acl_default_policy = Some(info.default_policy);
        self.agent_acl_down_policy = Some(info.down_policy);
        self.resolved_by_agent = Some(&info.resolved_by);
        self
    }
}

/// `[]byte` as Go writes it: base64, `null` when nil.
fn base64_hash<S: Serializer>(hash: &&Option<Vec<u8>>, serializer: S) -> Result<S::Ok, S::Error> {
    use base64::Engine;
    match hash {
        Some(bytes) => {
            serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::go_json::{self, Shape};

    fn encode(answer: &TokenAnswer<'_>) -> String {
        String::from_utf8(go_json::to_vec(answer, Shape::Catalog, false).unwrap()).unwrap()
    }

    #[test]
    fn same_bytes_as_the_stored_token() {
        let token = AclToken {
            accessor_id: "a".into(),
            secret_id: "s".into(),
            description: "d".into(),
            node_identities: vec![AclNodeIdentity {
                node_name: "n".into(),
                datacenter: "dc1".into(),
            }],
            hash: Some(vec![1, 2]),
            create_index: 3,
            modify_index: 4,
            ..AclToken::default()
        };
        let plain =
            String::from_utf8(go_json::to_vec(&token, Shape::Catalog, false).unwrap()).unwrap();
        assert_eq!(encode(&TokenAnswer::new(&token)), plain);
        let bootstrap = encode(&TokenAnswer::new(&token).with_id());
        assert_eq!(bootstrap, format!("{{\"ID\":\"s\",{}", &plain[1..]));
        assert!(
            encode(&TokenAnswer::new(&token).secret_shown(false))
                .contains(r#""SecretID":"<hidden>""#)
        );
        let info = ExpandedInfo {
            default_policy: "deny",
            down_policy: "extend-cache",
            resolved_by: "node-1".into(),
            ..ExpandedInfo::default()
        };
        let expanded = encode(&TokenAnswer::new(&token).expanded(&info));
        assert_eq!(
            expanded,
            format!(
                "{},\"ExpandedPolicies\":[],\"ExpandedRoles\":[],\"NamespaceDefaultPolicyIDs\":null,\"NamespaceDefaultRoleIDs\":null,\"AgentACLDefaultPolicy\":\"deny\",\"AgentACLDownPolicy\":\"extend-cache\",\"ResolvedByAgent\":\"node-1\"}}",
                &plain[..plain.len() - 1]
            )
        );
    }
}
