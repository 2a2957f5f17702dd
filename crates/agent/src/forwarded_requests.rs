//! A server's answers to what client agents forward: an HTTP request runs through this
//! server's own router (every endpoint, ACL check, blocking query and `?filter` as for
//! a request made here), with the client's peer address and [`Origin`] in its
//! extensions; a DNS query goes to this server's DNS handler, answered as if it came
//! over UDP or TCP here. Consensus carries both without knowing either API. With ACLs
//! on, a client's catalog writes are vetted against the token they carry
//! ([`crate::client_write_acl`]) and its tokens resolved against this server's replica.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use futures::future::BoxFuture;
use proconsul_consensus::StateReader;
use proconsul_consensus::agent_acl::TokenLookup;
use proconsul_consensus::agent_rpc::{
    ForwardedDnsQuery, ForwardedHttpRequest, ForwardedHttpResponse, ForwardedRequests,
};
use proconsul_dns::DnsHandler;
use proconsul_state::Command;
use tower::ServiceExt;

use crate::client_write_acl;
use crate::http::origin::Origin;
use crate::token_resolver::TokenResolver;
use crate::token_resolver::now;

/// What a server installs in its consensus to answer client agents.
pub struct ServerForwarding {
    /// The server's whole HTTP API, state applied.
    pub router: Router,
    /// The server's DNS handler (built even with its DNS port off).
    pub dns: Arc<DnsHandler>,
    /// The server's replica, which tokens are resolved and writes vetted against.
    pub reader: StateReader,
    /// With ACLs on, the server's token resolver.
    pub acl: Option<Arc<TokenResolver>>,
}

impl ForwardedRequests for ServerForwarding {
    fn http(&self, request: ForwardedHttpRequest) -> BoxFuture<'static, ForwardedHttpResponse> {
        let router = self.router.clone();
        Box::pin(async move {
            let request = match into_request(request) {
                Ok(request) => request,
                Err(message) => return plain(StatusCode::BAD_REQUEST, message),
            };
            let Ok(response) = router
                .oneshot(request)
                .await
                .map_err(|never: Infallible| never);
            let (parts, body) = response.into_parts();
            let body = match axum::body::to_bytes(body, usize::MAX).await {
                Ok(body) => body.to_vec(),
                Err(error) => {
                    return plain(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
                }
            };
            ForwardedHttpResponse {
                status: parts.status.as_u16(),
                headers: parts
                    .headers
                    .iter()
                    .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
                    .collect(),
                body,
            }
        })
    }

    fn dns(&self, query: ForwardedDnsQuery) -> BoxFuture<'static, Option<Vec<u8>>> {
        let handler = self.dns.clone();
        // A client agent's token, with ACLs on here: answer what it may read. A token
        // that does not resolve reads as anonymous (Consul's clients then get the
        // anonymous token's view too, after the server refuses theirs).
        let authorizer = match (&self.acl, &query.token) {
            (Some(resolver), Some(token)) => {
                let state = self.reader.current();
                let secret = (!token.is_empty()).then_some(token.as_str());
                let resolved = resolver
                    .resolve(&state, secret, now())
                    .or_else(|_| resolver.resolve(&state, None, now()));
                match resolved {
                    Ok((_, authorizer)) => Some(authorizer),
                    Err(error) => {
                        tracing::warn!(%error, "dns: a client agent's DNS token did not resolve");
                        return Box::pin(async move {
                            proconsul_dns::in_process::server_failure(&query.packet)
                        });
                    }
                }
            }
            _ => None,
        };
        Box::pin(async move {
            proconsul_dns::in_process::answer_forwarded(
                &handler,
                &query.packet,
                query.peer,
                query.tcp,
                authorizer,
                query.token,
            )
            .await
        })
    }

    fn vet_write(&self, token: &str, command: &Command) -> Result<(), String> {
        let Some(resolver) = &self.acl else {
            return Ok(());
        };
        let state = self.reader.current();
        let refusal = match resolver.resolve(&state, Some(token), now()) {
            Ok((_, authorizer)) => client_write_acl::vet(&authorizer, &state, command).err(),
            Err(error) => Some(error.to_string()),
        };
        if let Some(refusal) = &refusal {
            tracing::warn!(%refusal, "client agent's catalog write refused by ACLs");
        }
        refusal.map_or(Ok(()), Err)
    }

    fn token_grant(&self, secret: &str) -> TokenLookup {
        TokenResolver::grant(&self.reader.current(), secret, now())
    }
}

/// The forwarded request as axum takes it.
fn into_request(forwarded: ForwardedHttpRequest) -> Result<Request<Body>, String> {
    let method = Method::from_bytes(forwarded.method.as_bytes())
        .map_err(|_| format!("bad method {:?}", forwarded.method))?;
    let mut request = Request::builder()
        .method(method)
        .uri(forwarded.uri.as_str())
        .body(Body::from(forwarded.body))
        .map_err(|error| format!("bad request: {error}"))?;
    let headers = request.headers_mut();
    for (name, value) in &forwarded.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    if let Some(peer) = forwarded.peer {
        request
            .extensions_mut()
            .insert(ConnectInfo::<SocketAddr>(peer));
    }
    if let Some(origin) = Origin::decode(&forwarded.origin) {
        request.extensions_mut().insert(origin);
    }
    Ok(request)
}

fn plain(status: StatusCode, message: String) -> ForwardedHttpResponse {
    ForwardedHttpResponse {
        status: status.as_u16(),
        headers: vec![(
            "content-type".to_string(),
            b"text/plain; charset=utf-8".to_vec(),
        )],
        body: message.into_bytes(),
    }
}
