//! The `/v1/acl/*` and `/v1/agent/token/*` endpoints for the CLI's `acl` commands.
//!
//! Requests carry this crate's ACL wire types encoded as Consul's server writes them
//! ([`crate::go_json`], empty links and identities left out), so what a client sends
//! is what it would read back. Lookups by name go through the `/name/` endpoints,
//! percent-encoded as one path segment (`builtin/global-read-only` included).

use serde::{Deserialize, Serialize};

use super::{Client, ClientError, QueryOptions, path_segment};
use crate::acl::{AclPolicy, AclPolicyListStub, AclRole, AclToken, AclTokenListStub};
use crate::go_json::{self, Shape};

/// `GET /v1/acl/token/:id?expanded`: the token, the policies and roles it uses, and
/// how the agent that answered would decide what no rule covers. Consul's
/// `ACLTokenExpanded`; a list Go leaves nil arrives as `null` and reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclTokenExpanded {
    /// The token itself.
    pub token: AclToken,
    /// Every policy the token uses directly or through its roles.
    pub expanded_policies: Vec<AclPolicy>,
    /// Every role the token links to.
    pub expanded_roles: Vec<AclRole>,
    /// The answering agent's `acl.default_policy`.
    pub agent_acl_default_policy: String,
    /// The answering agent's `acl.down_policy`.
    pub agent_acl_down_policy: String,
    /// The name of the agent that resolved the token.
    pub resolved_by_agent: String,
}

/// The fields `?expanded` adds to a token. Decoded apart from the token (rather than
/// flattened into one struct) so the token's own decoding is the one every read uses.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ExpandedFields {
    expanded_policies: Option<Vec<AclPolicy>>,
    expanded_roles: Option<Vec<AclRole>>,
    #[serde(rename = "AgentACLDefaultPolicy")]
    agent_acl_default_policy: String,
    #[serde(rename = "AgentACLDownPolicy")]
    agent_acl_down_policy: String,
    resolved_by_agent: String,
}

impl AclTokenExpanded {
    /// Splits an `?expanded` answer into the token and the added fields.
    pub fn from_json(value: serde_json::Value) -> Result<AclTokenExpanded, serde_json::Error> {
        let token = AclToken::deserialize(&value)?;
        let extra = ExpandedFields::deserialize(&value)?;
        Ok(AclTokenExpanded {
            token,
            expanded_policies: extra.expanded_policies.unwrap_or_default(),
            expanded_roles: extra.expanded_roles.unwrap_or_default(),
            agent_acl_default_policy: extra.agent_acl_default_policy,
            agent_acl_down_policy: extra.agent_acl_down_policy,
            resolved_by_agent: extra.resolved_by_agent,
        })
    }
}

/// `PUT /v1/acl/bootstrap`'s optional body.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BootstrapRequest<'a> {
    bootstrap_secret: &'a str,
}

/// `PUT /v1/acl/token/:id/clone`'s body.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CloneRequest<'a> {
    description: &'a str,
}

/// `PUT /v1/agent/token/:type`'s body.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AgentTokenRequest<'a> {
    token: &'a str,
}

impl Client {
    /// `PUT /v1/acl/bootstrap`: the first management token; `secret` chooses its
    /// SecretID (`BootstrapSecret`).
    pub async fn acl_bootstrap(&self, secret: Option<&str>) -> Result<AclToken, ClientError> {
        let path = "/v1/acl/bootstrap";
        match secret {
            Some(secret) => {
                let body = BootstrapRequest {
                    bootstrap_secret: secret,
                };
                self.put_json(path, &[], &body).await
            }
            None => self.put_raw(path, &[], Vec::new()).await,
        }
    }

    /// `PUT /v1/acl/token`: creates a token.
    pub async fn acl_token_create(&self, token: &AclToken) -> Result<AclToken, ClientError> {
        self.put_shaped("/v1/acl/token", token).await
    }

    /// `PUT /v1/acl/token/:accessor`: replaces a token's links and description.
    pub async fn acl_token_update(&self, token: &AclToken) -> Result<AclToken, ClientError> {
        let path = format!("/v1/acl/token/{}", path_segment(&token.accessor_id));
        self.put_shaped(&path, token).await
    }

    /// `GET /v1/acl/token/:accessor`.
    pub async fn acl_token_read(&self, accessor: &str) -> Result<AclToken, ClientError> {
        let path = format!("/v1/acl/token/{}", path_segment(accessor));
        Ok(self.get_json(&path, &QueryOptions::default()).await?.0)
    }

    /// `GET /v1/acl/token/:accessor?expanded`.
    pub async fn acl_token_read_expanded(
        &self,
        accessor: &str,
    ) -> Result<AclTokenExpanded, ClientError> {
        let path = format!("/v1/acl/token/{}", path_segment(accessor));
        let options = QueryOptions::params([("expanded", "")]);
        let (value, _) = self.get_json(&path, &options).await?;
        AclTokenExpanded::from_json(value).map_err(|source| ClientError::Decode { path, source })
    }

    /// `GET /v1/acl/token/self`: the token this client sends.
    pub async fn acl_token_read_self(&self) -> Result<AclToken, ClientError> {
        Ok(self
            .get_json("/v1/acl/token/self", &QueryOptions::default())
            .await?
            .0)
    }

    /// `PUT /v1/acl/token/:accessor/clone`: a new token with the same links.
    pub async fn acl_token_clone(
        &self,
        accessor: &str,
        description: &str,
    ) -> Result<AclToken, ClientError> {
        let path = format!("/v1/acl/token/{}/clone", path_segment(accessor));
        self.put_json(&path, &[], &CloneRequest { description })
            .await
    }

    /// `DELETE /v1/acl/token/:accessor`; Consul answers `true`.
    pub async fn acl_token_delete(&self, accessor: &str) -> Result<bool, ClientError> {
        let path = format!("/v1/acl/token/{}", path_segment(accessor));
        self.delete_json(&path, &[]).await
    }

    /// `GET /v1/acl/tokens`, with `?policy=`, `?role=`, ... in `options.params`.
    pub async fn acl_token_list(
        &self,
        options: &QueryOptions,
    ) -> Result<Vec<AclTokenListStub>, ClientError> {
        let (tokens, _) = self
            .get_json::<Option<Vec<AclTokenListStub>>>("/v1/acl/tokens", options)
            .await?;
        Ok(tokens.unwrap_or_default())
    }

    /// `PUT /v1/acl/policy`: creates a policy.
    pub async fn acl_policy_create(&self, policy: &AclPolicy) -> Result<AclPolicy, ClientError> {
        self.put_shaped("/v1/acl/policy", policy).await
    }

    /// `PUT /v1/acl/policy/:id`: replaces a policy.
    pub async fn acl_policy_update(&self, policy: &AclPolicy) -> Result<AclPolicy, ClientError> {
        let path = format!("/v1/acl/policy/{}", path_segment(&policy.id));
        self.put_shaped(&path, policy).await
    }

    /// `GET /v1/acl/policy/:id`.
    pub async fn acl_policy_read(&self, id: &str) -> Result<AclPolicy, ClientError> {
        let path = format!("/v1/acl/policy/{}", path_segment(id));
        Ok(self.get_json(&path, &QueryOptions::default()).await?.0)
    }

    /// `GET /v1/acl/policy/name/:name`.
    pub async fn acl_policy_read_by_name(&self, name: &str) -> Result<AclPolicy, ClientError> {
        let path = format!("/v1/acl/policy/name/{}", path_segment(name));
        Ok(self.get_json(&path, &QueryOptions::default()).await?.0)
    }

    /// `DELETE /v1/acl/policy/:id`.
    pub async fn acl_policy_delete(&self, id: &str) -> Result<bool, ClientError> {
        let path = format!("/v1/acl/policy/{}", path_segment(id));
        self.delete_json(&path, &[]).await
    }

    /// `GET /v1/acl/policies`.
    pub async fn acl_policy_list(&self) -> Result<Vec<AclPolicyListStub>, ClientError> {
        let (policies, _) = self
            .get_json::<Option<Vec<AclPolicyListStub>>>(
                "/v1/acl/policies",
                &QueryOptions::default(),
            )
            .await?;
        Ok(policies.unwrap_or_default())
    }

    /// `PUT /v1/acl/role`: creates a role.
    pub async fn acl_role_create(&self, role: &AclRole) -> Result<AclRole, ClientError> {
        self.put_shaped("/v1/acl/role", role).await
    }

    /// `PUT /v1/acl/role/:id`: replaces a role.
    pub async fn acl_role_update(&self, role: &AclRole) -> Result<AclRole, ClientError> {
        let path = format!("/v1/acl/role/{}", path_segment(&role.id));
        self.put_shaped(&path, role).await
    }

    /// `GET /v1/acl/role/:id`.
    pub async fn acl_role_read(&self, id: &str) -> Result<AclRole, ClientError> {
        let path = format!("/v1/acl/role/{}", path_segment(id));
        Ok(self.get_json(&path, &QueryOptions::default()).await?.0)
    }

    /// `GET /v1/acl/role/name/:name`.
    pub async fn acl_role_read_by_name(&self, name: &str) -> Result<AclRole, ClientError> {
        let path = format!("/v1/acl/role/name/{}", path_segment(name));
        Ok(self.get_json(&path, &QueryOptions::default()).await?.0)
    }

    /// `DELETE /v1/acl/role/:id`.
    pub async fn acl_role_delete(&self, id: &str) -> Result<bool, ClientError> {
        let path = format!("/v1/acl/role/{}", path_segment(id));
        self.delete_json(&path, &[]).await
    }

    /// `GET /v1/acl/roles`.
    pub async fn acl_role_list(&self) -> Result<Vec<AclRole>, ClientError> {
        let (roles, _) = self
            .get_json::<Option<Vec<AclRole>>>("/v1/acl/roles", &QueryOptions::default())
            .await?;
        Ok(roles.unwrap_or_default())
    }

    /// `PUT /v1/agent/token/:kind`: sets one of the agent's tokens (`default`, `agent`,
    /// `agent_recovery`, `replication`, `config_file_service_registration`, `dns`).
    pub async fn agent_token_set(&self, kind: &str, token: &str) -> Result<(), ClientError> {
        let path = format!("/v1/agent/token/{}", path_segment(kind));
        self.put_json(&path, &[], &AgentTokenRequest { token })
            .await
    }

    /// `PUT path` with `body` written as Consul's server writes it.
    async fn put_shaped<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let bytes =
            go_json::to_vec(body, Shape::Catalog, false).map_err(|source| ClientError::Encode {
                path: path.to_string(),
                source,
            })?;
        self.put_raw(path, &[], bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expanded_answers_split_into_token_and_extras() {
        let value = serde_json::json!({
            "AccessorID": "a",
            "SecretID": "s",
            "Description": "d",
            "Policies": [{"ID": "p", "Name": "n"}],
            "Local": false,
            "CreateTime": "2026-01-02T03:04:05.5Z",
            "Hash": "AQI=",
            "CreateIndex": 3,
            "ModifyIndex": 4,
            "ExpandedPolicies": [{"ID": "p", "Name": "n", "Rules": "acl = \"read\""}],
            "ExpandedRoles": null,
            "NamespaceDefaultPolicyIDs": null,
            "AgentACLDefaultPolicy": "deny",
            "AgentACLDownPolicy": "extend-cache",
            "ResolvedByAgent": "node-1"
        });
        let expanded = AclTokenExpanded::from_json(value).unwrap();
        assert_eq!(expanded.token.accessor_id, "a");
        assert_eq!(expanded.token.hash, Some(vec![1, 2]));
        assert_eq!(expanded.token.policies[0].name, "n");
        assert_eq!(expanded.expanded_policies[0].rules, "acl = \"read\"");
        assert!(expanded.expanded_roles.is_empty());
        assert_eq!(expanded.agent_acl_default_policy, "deny");
        assert_eq!(expanded.resolved_by_agent, "node-1");
    }

    #[test]
    fn request_bodies_leave_out_what_consul_omits() {
        let token = AclToken {
            description: "web".into(),
            expiration_ttl: String::new(),
            ..AclToken::default()
        };
        let body: serde_json::Value =
            serde_json::from_slice(&go_json::to_vec(&token, Shape::Catalog, false).unwrap())
                .unwrap();
        assert_eq!(body["Description"], "web");
        for absent in ["Policies", "Roles", "ExpirationTTL", "ExpirationTime"] {
            assert!(body.get(absent).is_none(), "{absent}: {body}");
        }
        let body = serde_json::to_value(BootstrapRequest {
            bootstrap_secret: "x",
        })
        .unwrap();
        assert_eq!(body, serde_json::json!({"BootstrapSecret": "x"}));
        let body = serde_json::to_value(AgentTokenRequest { token: "t" }).unwrap();
        assert_eq!(body, serde_json::json!({"Token": "t"}));
    }
}
