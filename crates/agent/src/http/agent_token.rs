//! `PUT /v1/agent/token/:type`: replaces one of the agent's own tokens (`default`,
//! `agent`, `agent_recovery`, `replication`, `config_file_service_registration`, `dns`
//! and Consul's legacy aliases). Needs `agent:write` on this agent; the value is not
//! checked, as in Consul; 200 with an empty body. A new `agent` or `default` token starts
//! a full anti-entropy sync, as in Consul.

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_acl::{Access, Permission};
use serde::Deserialize;

use crate::agent_tokens::AgentTokenKind;
use crate::http::context::Ctx;
use crate::http::decode::decode_body;
use crate::http::error::ApiError;

/// `api.AgentToken`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct AgentTokenRequest {
    token: String,
}

/// `PUT /v1/agent/token/:type`.
pub async fn set(ctx: Ctx, Path(kind): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let agent = &ctx.agent;
    ctx.authz
        .require(Permission::agent(Access::Write, &agent.node.name))?;
    let request: AgentTokenRequest = decode_body(&body)?;
    let kind = AgentTokenKind::from_path(&kind)
        .ok_or_else(|| ApiError::not_found(format!("Token {} is unknown", quoted(&kind))))?;
    agent
        .acl_tokens
        .set(kind, &request.token)
        .map_err(|error| ApiError::internal(error.to_string()))?;
    tracing::info!(token = kind.name(), "Updated agent's ACL token");
    if matches!(kind, AgentTokenKind::Agent | AgentTokenKind::Default) {
        agent.sync_now.notify_one();
    }
    Ok(Response::default())
}

/// Go's `%q`.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}
