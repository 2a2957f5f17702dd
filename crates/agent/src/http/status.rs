//! `/v1/status`: the cheap liveness probes clients use before anything else.

use axum::response::Response;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// `GET /v1/status/leader`: the leader's server RPC address, or `""` with none.
pub async fn leader(ctx: Ctx) -> Result<Response, ApiError> {
    let leader = ctx
        .agent
        .consensus()?
        .leader()
        .map(|leader| leader.rpc_addr)
        .unwrap_or_default();
    Ok(json(&leader, ctx.options.pretty))
}

/// `GET /v1/status/peers`: the voters' server RPC addresses.
pub async fn peers(ctx: Ctx) -> Result<Response, ApiError> {
    Ok(json(&ctx.agent.consensus()?.voters(), ctx.options.pretty))
}
