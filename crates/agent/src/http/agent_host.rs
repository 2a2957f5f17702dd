//! `GET /v1/agent/host`: facts about the machine the agent runs on, in Consul's shape
//! ([`crate::host_info`]). Requires `operator:read`, as in Consul.

use axum::response::Response;
use proconsul_acl::{Access, Permission};

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// `GET /v1/agent/host` (operator:read).
pub async fn host(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let info = tokio::task::spawn_blocking(crate::host_info::collect)
        .await
        .map_err(|error| ApiError::internal(error.to_string()))?;
    Ok(json(&info, ctx.options.pretty))
}
