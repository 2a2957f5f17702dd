//! `/v1/internal/test/faults`: the server RPC fault layer's rules (tests only). Present
//! only when the agent runs with `PROCONSUL_TEST_FAULTS=1`; elsewhere the path is a 404.
//! `PUT` replaces the whole rule set (JSON, [`FaultSet`]), `GET` shows it, `DELETE`
//! heals every fault. Each server applies the rules to what it sends, so a test sets the
//! same rule set on every server.

use std::sync::Arc;

use axum::body::Bytes;
use axum::response::Response;
use proconsul_acl::{Access, Permission};
use proconsul_consensus::fault::{FaultLayer, FaultSet};

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json;
use crate::telemetry::timed_routes::{TimedRoutes, get};

/// The routes, when this server has a fault layer.
pub(crate) fn routes(agent: &super::AppState) -> Option<axum::Router<super::AppState>> {
    agent.consensus().ok().and_then(|c| c.faults()).map(|_| {
        axum::Router::new().timed_route(
            "/v1/internal/test/faults",
            get(show).put(replace).delete(heal),
        )
    })
}

fn layer(ctx: &Ctx) -> Result<Arc<FaultLayer>, ApiError> {
    ctx.agent
        .consensus()?
        .faults()
        .cloned()
        .ok_or_else(|| ApiError::not_found("404 page not found"))
}

/// `GET`: the rules in force.
async fn show(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Read))?;
    let rules = layer(&ctx)?.rules();
    Ok(json(rules.as_ref(), ctx.options.pretty))
}

/// `PUT`: the new rule set, in force at once (held messages are judged again).
async fn replace(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Write))?;
    let rules: FaultSet = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("Request decode failed: {error}")))?;
    let layer = layer(&ctx)?;
    layer
        .set(rules)
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    Ok(json(layer.rules().as_ref(), ctx.options.pretty))
}

/// `DELETE`: no faults any more.
async fn heal(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::operator(Access::Write))?;
    let layer = layer(&ctx)?;
    layer.heal();
    Ok(json(layer.rules().as_ref(), ctx.options.pretty))
}
