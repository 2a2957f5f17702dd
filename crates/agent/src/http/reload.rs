//! `PUT /v1/agent/reload`: see [`crate::reload`].

use axum::response::Response;
use proconsul_acl::{Access, Permission};

use crate::http::context::Ctx;
use crate::http::error::ApiError;

/// `PUT /v1/agent/reload` (`agent:write`).
pub async fn reload(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::agent(Access::Write, &ctx.agent.node.name))?;
    crate::reload::reload(&ctx.agent)
        .await
        .map_err(ApiError::internal)?;
    Ok(Response::default())
}
