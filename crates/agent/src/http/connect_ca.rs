//! `/v1/connect/ca/roots` and `/v1/agent/connect/ca/roots`: the agent's Connect CA root
//! (see [`crate::connect_ca`]). It never changes while the agent runs, so a blocking
//! query at its index waits out its whole wait time.

use axum::response::Response;

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::query_json;

/// `GET /v1/connect/ca/roots` and `GET /v1/agent/connect/ca/roots`.
pub async fn roots(ctx: Ctx) -> Result<Response, ApiError> {
    let Some(roots) = ctx.agent.connect_ca.as_ref() else {
        return Err(ApiError::bad_request(
            "Connect must be enabled in order to use this endpoint",
        ));
    };
    let index = roots
        .roots
        .iter()
        .map(|root| root.modify_index)
        .max()
        .unwrap_or(1);
    if ctx.options.min_index >= index {
        tokio::select! {
            _ = tokio::time::sleep(ctx.options.wait) => {}
            _ = ctx.agent.shutdown.cancelled() => {}
        }
    }
    Ok(query_json(&ctx.meta(index), roots, ctx.options.pretty))
}
