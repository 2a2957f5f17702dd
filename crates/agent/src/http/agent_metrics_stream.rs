//! `GET /v1/agent/metrics/stream`: the in-memory sink's intervals as they finish, each
//! one's `MetricsSummary` (the shape of `/v1/agent/metrics`) indented by four spaces
//! and followed by a newline, sent as soon as it is ready, in a response that stays
//! open (chunked) until the client leaves or the agent stops. The first comes when the
//! current interval ends (up to 10 s). Needs `agent:read` on this agent's node, as in
//! Consul. `consul debug` reads it into `metrics.json`; the Go client's
//! `Agent().MetricsStream` decodes it as a stream of `MetricsInfo` objects.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use proconsul_acl::{Access, Permission};

use crate::http::context::Ctx;
use crate::http::error::ApiError;

/// `GET /v1/agent/metrics/stream`.
pub async fn stream(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::agent(Access::Read, &ctx.agent.node.name))?;
    let subscription = ctx.agent.metrics_stream.subscribe();
    let shutdown = ctx.agent.shutdown.clone();
    // When the client leaves, hyper drops the stream and with it the subscription.
    let summaries = futures::stream::unfold(
        (subscription, shutdown),
        |(mut subscription, shutdown)| async move {
            let summary = tokio::select! {
                biased;
                () = shutdown.cancelled() => None,
                summary = subscription.next() => summary,
            }?;
            Some((Ok::<_, Infallible>(summary), (subscription, shutdown)))
        },
    );
    let mut response = Response::new(Body::from_stream(summaries));
    *response.status_mut() = StatusCode::OK;
    // What Go's HTTP server sniffs for Consul's untyped, at first empty, answer.
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
