//! Requests for another datacenter (`?dc=<other>`) on a server: the whole request goes,
//! as opaque data over server RPC (the same `/agent/http` call client agents use), to an
//! alive server of that datacenter, which runs it through its own router (ACL checks,
//! blocking queries, writes through its leader) and whose answer comes back as it is.
//! Unknown datacenters answer Consul's 500 `No path to datacenter`, known ones without
//! an alive server `Remote DC has no server currently reachable`. The agent's own
//! endpoints and the datacenter listings are always answered here.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use proconsul_consensus::agent_rpc::ForwardedHttpRequest;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::forward::{call_timeout, end_to_end, into_response};
use crate::http::origin::Origin;
use crate::http::query::QueryParams;
use crate::membership::wan::datacenters::RouteError;
use crate::server_link::{LinkError, ServerLink};

/// Paths answered by this agent whatever `?dc` says (the web UI's included).
fn answered_here(path: &str) -> bool {
    !path.starts_with("/v1/")
        || path.starts_with("/v1/agent/")
        || path == "/v1/catalog/datacenters"
        || path == "/v1/coordinate/datacenters"
}

/// The other datacenter a request names, if any.
fn remote_datacenter(agent: &AppState, request: &Request) -> Option<String> {
    let query = request.uri().query()?;
    if !query.contains("dc=") || answered_here(request.uri().path()) {
        return None;
    }
    let params = QueryParams::parse(Some(query)).ok()?;
    let dc = params.get("dc").filter(|dc| !dc.is_empty())?;
    (dc != agent.config.datacenter).then(|| dc.to_string())
}

/// The layer's function: forwards requests for other datacenters, passes the rest on.
pub async fn forward_to_datacenter(
    State(agent): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(wan) = agent.wan.as_ref() else {
        return next.run(request).await;
    };
    let Some(datacenter) = remote_datacenter(&agent, &request) else {
        return next.run(request).await;
    };
    forward_whole(&agent, wan, &datacenter, request).await
}

/// Sends `request` whole to a server of `datacenter` and answers what it answered (or
/// Consul's error when none can be reached).
pub async fn forward_whole(
    agent: &AppState,
    wan: &crate::membership::wan::Wan,
    datacenter: &str,
    request: Request,
) -> Response {
    let link = match wan.datacenters.route(datacenter) {
        Ok(link) => link,
        Err(error) => {
            tracing::debug!(%datacenter, %error, "wan: request not forwarded");
            return ApiError::internal(error.to_string()).into_response();
        }
    };
    let (parts, body) = request.into_parts();
    let limit = if parts.uri.path() == "/v1/snapshot" {
        crate::http::snapshot_body_limit()
    } else {
        crate::http::body_limit(&agent.config)
    };
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
                .into_response();
        }
    };
    let Ok(params) = QueryParams::parse(parts.uri.query()) else {
        return Response::new(Body::empty());
    };
    let origin = parts
        .extensions
        .get::<Origin>()
        .cloned()
        .unwrap_or_else(|| Origin {
            node: agent.node.name.clone(),
            services: if Origin::needs_services(parts.uri.path()) {
                agent.local.services().into_values().collect()
            } else {
                Vec::new()
            },
        });
    let forwarded = ForwardedHttpRequest {
        method: parts.method.to_string(),
        uri: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), ToString::to_string),
        headers: end_to_end(&parts.headers).collect(),
        body: body.to_vec(),
        peer: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer),
        origin: origin.encode(),
    };
    let repeatable = parts.method == Method::GET || parts.method == Method::HEAD;
    let timeout = call_timeout(&params, &agent.config);
    send(&link, datacenter, &forwarded, timeout, repeatable).await
}

/// A catalog write whose body names another datacenter (Consul routes by the body's
/// `Datacenter` when there is no `?dc`): sent to `path?dc=<datacenter>` there with the
/// request's token. `None` without a WAN pool.
pub async fn forward_by_body(
    ctx: &crate::http::context::Ctx,
    path: &str,
    datacenter: &str,
    body: &[u8],
) -> Option<Response> {
    let uri = format!("{path}?dc={datacenter}");
    call_datacenter(ctx, datacenter, "PUT", &uri, &[], body).await
}

/// One request made on behalf of `ctx`'s caller (its token, its origin) to a server of
/// `datacenter`: `method uri` with `headers` besides the token, and `body`; the answer
/// as that server gave it, or Consul's error when none can be reached. `None` without a
/// WAN pool. Only reads are retried on another server.
pub async fn call_datacenter(
    ctx: &crate::http::context::Ctx,
    datacenter: &str,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Response> {
    let wan = ctx.agent.wan.as_ref()?;
    let link = match wan.datacenters.route(datacenter) {
        Ok(link) => link,
        Err(error) => return Some(ApiError::internal(error.to_string()).into_response()),
    };
    let forwarded = ForwardedHttpRequest {
        method: method.to_string(),
        uri: uri.to_string(),
        headers: ctx
            .options
            .token
            .0
            .iter()
            .map(|token| ("x-consul-token".to_string(), token.as_bytes().to_vec()))
            .chain(
                headers
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec())),
            )
            .collect(),
        body: body.to_vec(),
        peer: None,
        origin: ctx
            .origin
            .clone()
            .unwrap_or_else(|| Origin {
                node: ctx.agent.node.name.clone(),
                services: Vec::new(),
            })
            .encode(),
    };
    let timeout = call_timeout(&QueryParams::default(), &ctx.agent.config);
    let repeatable = method == "GET" || method == "HEAD";
    Some(send(&link, datacenter, &forwarded, timeout, repeatable).await)
}

/// The largest answer [`answer_of_datacenter`] reads back.
const REMOTE_ANSWER_LIMIT: usize = 16 << 20;

/// [`call_datacenter`] for a handler that combines answers from several datacenters:
/// the body of a 200 answer; any other answer is an error naming the datacenter and
/// carrying its text. `None` without a WAN pool.
pub async fn answer_of_datacenter(
    ctx: &crate::http::context::Ctx,
    datacenter: &str,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Result<axum::body::Bytes, ApiError>> {
    let answer = call_datacenter(ctx, datacenter, method, uri, headers, body).await?;
    let status = answer.status();
    let body = axum::body::to_bytes(answer.into_body(), REMOTE_ANSWER_LIMIT)
        .await
        .unwrap_or_default();
    if status != StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        return Some(Err(ApiError::internal(format!(
            "{datacenter}: {}",
            text.trim()
        ))));
    }
    Some(Ok(body))
}

/// One forwarded call and its answer, or Consul's error text.
async fn send(
    link: &ServerLink,
    datacenter: &str,
    forwarded: &ForwardedHttpRequest,
    timeout: std::time::Duration,
    repeatable: bool,
) -> Response {
    match link.http(forwarded, timeout, repeatable).await {
        Ok(answer) => into_response(answer),
        Err(error) => {
            tracing::warn!(%datacenter, %error, "wan: forwarding to another datacenter failed");
            let text = match error {
                LinkError::NoServers => RouteError::Unreachable.to_string(),
                LinkError::Rpc(error) if error.nothing_done() => {
                    RouteError::Unreachable.to_string()
                }
                other => other.to_string(),
            };
            ApiError::internal(text).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agents_own_endpoints_and_the_listings_stay_here() {
        assert!(answered_here("/v1/agent/members"));
        assert!(answered_here("/v1/catalog/datacenters"));
        assert!(answered_here("/v1/coordinate/datacenters"));
        assert!(answered_here("/ui/dc2/services"));
        assert!(!answered_here("/v1/kv/a"));
        assert!(!answered_here("/v1/catalog/nodes"));
    }
}
