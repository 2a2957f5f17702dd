//! `GET /v1/agent/monitor?loglevel=<level>&logjson`: the agent's log as it is written,
//! one line per event, in a response that stays open (chunked) until the client leaves
//! or the agent stops. Needs `agent:read` on this agent's node, as in Consul.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use proconsul_acl::{Access, Permission};

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::monitor::{BUFFER_LINES, LineFormat, LogLevel};

/// `GET /v1/agent/monitor`: `loglevel` (default `INFO`; Consul's names in any case, an
/// unknown one is 400 `Unknown log level: <level>`), and `logjson`, which turns JSON
/// lines on whatever its value (Consul only checks that it is present).
pub async fn monitor(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::agent(Access::Read, &ctx.agent.node.name))?;
    let asked = ctx
        .params
        .get("loglevel")
        .filter(|level| !level.is_empty())
        .unwrap_or("INFO");
    let level = LogLevel::parse(asked)
        .ok_or_else(|| ApiError::bad_request(format!("Unknown log level: {asked}")))?;
    let format = if ctx.params.get("logjson").is_some() {
        LineFormat::Json
    } else {
        LineFormat::Text
    };
    let subscription = ctx.agent.config.log_hub.subscribe(level, format);
    let shutdown = ctx.agent.shutdown.clone();
    // When the agent shuts down, the lines already waiting (its last words) still go
    // out, at most a buffer's worth, then the stream ends. When the client leaves, hyper
    // drops the stream and with it the subscription.
    let lines = futures::stream::unfold(
        (subscription, shutdown, BUFFER_LINES),
        |(mut subscription, shutdown, mut last_words)| async move {
            let line = if shutdown.is_cancelled() {
                last_words = last_words.checked_sub(1)?;
                subscription.try_next()
            } else {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => subscription.try_next(),
                    line = subscription.next() => line,
                }
            }?;
            Some((
                Ok::<_, Infallible>(line),
                (subscription, shutdown, last_words),
            ))
        },
    );
    let mut response = Response::new(Body::from_stream(lines));
    *response.status_mut() = StatusCode::OK;
    // What Go's HTTP server sniffs for Consul's untyped text.
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
