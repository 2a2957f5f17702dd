//! Client agents: every request the agent does not serve itself (catalog, health, KV,
//! sessions, transactions, events, queries, operator, status, ACL, snapshots, ...) goes
//! to a server as opaque data over server RPC, and the server's answer comes back as it
//! is: status, headers (`X-Consul-Index`, `X-Consul-KnownLeader`, ...) and body. The
//! server runs it through its own router, so every endpoint, ACL check, blocking query
//! and `?filter` behaves as on the server itself.
//!
//! Reads whose server failed mid-request are tried on the next server; writes are tried
//! again only when they surely did not reach a server. The caller's token travels with
//! the request (else the agent's default token), so the server authorizes it.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use proconsul_api::duration::parse_duration;
use proconsul_consensus::agent_rpc::{ForwardedHttpRequest, ForwardedHttpResponse};

use crate::config::AgentConfig;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::origin::Origin;
use crate::http::query::{QueryParams, token_of};

/// How long a request that is not a blocking query may take at the server (Consul's
/// `limits.rpc_client_timeout`); a blocking query gets its wait on top.
const RPC_CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Headers that belong to one hop, not to the request or answer they carry.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
];

/// The fallback of a client agent's router.
pub async fn forward(
    State(agent): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Response {
    let Some(link) = agent.catalog.client() else {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    };
    let params = match QueryParams::parse(uri.query()) {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    let origin = Origin {
        node: agent.node.name.clone(),
        services: if Origin::needs_services(uri.path()) {
            agent.local.services().into_values().collect()
        } else {
            Vec::new()
        },
    };
    let request = ForwardedHttpRequest {
        method: method.to_string(),
        uri: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), ToString::to_string),
        headers: end_to_end(&headers)
            .chain(default_token(&agent, &params, &headers))
            .collect(),
        body: body.to_vec(),
        peer: extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer),
        origin: origin.encode(),
    };
    let repeatable = method == Method::GET || method == Method::HEAD;
    let timeout = call_timeout(&params, &agent.config);
    match link.http(&request, timeout, repeatable).await {
        Ok(answer) => into_response(answer),
        Err(error) => ApiError::internal(error.to_string()).into_response(),
    }
}

/// How long the server may take: a blocking query's wait (as the server will clamp it,
/// with its jitter of up to a sixteenth) plus [`RPC_CLIENT_TIMEOUT`].
pub(crate) fn call_timeout(params: &QueryParams, config: &AgentConfig) -> Duration {
    if params.get("index").is_none() {
        return RPC_CLIENT_TIMEOUT;
    }
    let wait = params
        .get("wait")
        .filter(|text| !text.is_empty())
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or(config.default_query_time)
        .min(config.max_query_time);
    wait + wait / 16 + RPC_CLIENT_TIMEOUT
}

/// A request that names no token is made with this agent's `acl.tokens.default`, as a
/// Consul client agent makes its RPCs: the server then authorizes it as that token
/// (without, the server would use its own default token or the anonymous one).
fn default_token(
    agent: &AppState,
    params: &QueryParams,
    headers: &HeaderMap,
) -> Option<(String, Vec<u8>)> {
    agent.acl_resolver.as_ref()?;
    if token_of(params, headers).0.is_some() {
        return None;
    }
    let token = agent.acl_tokens.default_token()?;
    Some(("x-consul-token".to_string(), token.into_bytes()))
}

/// The headers worth carrying: all but the hop-by-hop ones.
pub(crate) fn end_to_end(headers: &HeaderMap) -> impl Iterator<Item = (String, Vec<u8>)> + '_ {
    headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
}

/// A server's answer as this agent's own.
pub(crate) fn into_response(answer: ForwardedHttpResponse) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(&value),
        ) {
            headers.append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_query_gets_its_wait_and_the_jitter_on_top() {
        let config = AgentConfig::default();
        let params = |query: &str| QueryParams::parse(Some(query)).unwrap();
        assert_eq!(call_timeout(&params(""), &config), RPC_CLIENT_TIMEOUT);
        assert_eq!(
            call_timeout(&params("index=5&wait=16s"), &config),
            Duration::from_secs(17) + RPC_CLIENT_TIMEOUT
        );
        // No wait: the default query time; too long a wait: the maximum.
        assert_eq!(
            call_timeout(&params("index=5"), &config),
            Duration::from_secs(300 + 300 / 16) + Duration::from_millis(750) + RPC_CLIENT_TIMEOUT
        );
        assert_eq!(
            call_timeout(&params("index=5&wait=1h"), &config),
            Duration::from_secs(600 + 600 / 16) + Duration::from_millis(500) + RPC_CLIENT_TIMEOUT
        );
    }

    #[test]
    fn hop_by_hop_headers_stay_behind() {
        let mut headers = HeaderMap::new();
        headers.insert("x-consul-token", HeaderValue::from_static("s"));
        headers.insert("connection", HeaderValue::from_static("keep-alive"));
        headers.insert("host", HeaderValue::from_static("a"));
        let kept: Vec<(String, Vec<u8>)> = end_to_end(&headers).collect();
        assert_eq!(kept, vec![("x-consul-token".to_string(), b"s".to_vec())]);
    }

    #[test]
    fn an_answer_keeps_its_status_headers_and_body() {
        let response = into_response(ForwardedHttpResponse {
            status: 404,
            headers: vec![
                ("x-consul-index".to_string(), b"7".to_vec()),
                ("content-length".to_string(), b"99".to_vec()),
            ],
            body: b"gone".to_vec(),
        });
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["x-consul-index"], "7");
        assert!(response.headers().get("content-length").is_none());
    }
}
