//! ACL writes in a secondary datacenter go to the primary, as Consul forwards them:
//! policies, roles, global tokens and bootstrap are the primary's, and reach this
//! datacenter again through replication (`acl_replication.rs`). Local tokens
//! (`"Local": true` on create; an existing local token here for update, clone and
//! delete), auth methods, binding rules, login and logout stay in this datacenter. The
//! request goes whole over the WAN link with the caller's token, like a `?dc=` request,
//! and the primary's answer comes back unchanged.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::datacenter_forward::forward_whole;
use crate::http::error::ApiError;

/// What a write's path says about where it belongs.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    /// The primary's, whatever the body says.
    Primary,
    /// A token create: the body's `Local` decides.
    NewToken,
    /// A write to the token with this AccessorID: here if it is a local token of this
    /// datacenter (or, for an update, if the body says `Local`).
    Token(&'a str),
    /// This datacenter's.
    Here,
}

/// Where a request with `method` on `path` belongs.
fn target<'a>(method: &Method, path: &'a str) -> Target<'a> {
    if *method == Method::GET || *method == Method::HEAD {
        return Target::Here;
    }
    let Some(rest) = path.strip_prefix("/v1/acl/") else {
        return Target::Here;
    };
    if rest == "bootstrap"
        || rest == "policy"
        || rest.starts_with("policy/")
        || rest == "role"
        || rest.starts_with("role/")
    {
        return Target::Primary;
    }
    if rest == "token" {
        return Target::NewToken;
    }
    match rest.strip_prefix("token/") {
        Some(id) => Target::Token(id.strip_suffix("/clone").unwrap_or(id)),
        None => Target::Here,
    }
}

/// Whether a token write's JSON body sets `Local` (field names match without regard to
/// case, as Go decodes them).
fn says_local(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            value.as_object().and_then(|fields| {
                fields
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("local"))
                    .and_then(|(_, local)| local.as_bool())
            })
        })
        .unwrap_or(false)
}

/// The layer's function (installed on a secondary datacenter's servers with ACLs).
pub async fn forward_acl_writes(
    State(agent): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(wan) = agent.wan.as_ref() else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    let primary = agent.config.primary_datacenter().to_string();
    let to_primary = match target(request.method(), &path) {
        Target::Here => false,
        Target::Primary => true,
        Target::Token(id) => {
            let local_here = agent
                .consensus()
                .ok()
                .and_then(|consensus| consensus.reader().current().acl_token(id))
                .is_some_and(|token| token.local);
            if local_here {
                false
            } else if request.method() == Method::PUT && !path.ends_with("/clone") {
                return by_body(&agent, wan, &primary, request, next).await;
            } else {
                true
            }
        }
        Target::NewToken => return by_body(&agent, wan, &primary, request, next).await,
    };
    if to_primary {
        tracing::debug!(%path, %primary, "acl: write sent to the primary datacenter");
        forward_whole(&agent, wan, &primary, request).await
    } else {
        next.run(request).await
    }
}

/// A token write whose body decides: local ones are answered here.
async fn by_body(
    agent: &AppState,
    wan: &crate::membership::wan::Wan,
    primary: &str,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, crate::http::body_limit(&agent.config)).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large")
            .into_response();
    };
    let local = says_local(&body);
    let request = Request::from_parts(parts, Body::from(body));
    if local {
        next.run(request).await
    } else {
        forward_whole(agent, wan, primary, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_of_the_primarys_objects_go_there_and_the_rest_stays() {
        let put = Method::PUT;
        assert_eq!(target(&put, "/v1/acl/policy"), Target::Primary);
        assert_eq!(target(&Method::DELETE, "/v1/acl/policy/x"), Target::Primary);
        assert_eq!(target(&put, "/v1/acl/role/x"), Target::Primary);
        assert_eq!(target(&put, "/v1/acl/bootstrap"), Target::Primary);
        assert_eq!(target(&put, "/v1/acl/token"), Target::NewToken);
        assert_eq!(target(&put, "/v1/acl/token/abc"), Target::Token("abc"));
        assert_eq!(
            target(&put, "/v1/acl/token/abc/clone"),
            Target::Token("abc")
        );
        assert_eq!(target(&Method::GET, "/v1/acl/policy/x"), Target::Here);
        assert_eq!(target(&put, "/v1/acl/auth-method"), Target::Here);
        assert_eq!(target(&put, "/v1/acl/binding-rule"), Target::Here);
        assert_eq!(target(&Method::POST, "/v1/acl/login"), Target::Here);
        assert_eq!(
            target(
                &Method::POST,
                "/v1/acl/templated-policy/preview/builtin/service"
            ),
            Target::Here
        );
        assert_eq!(target(&put, "/v1/kv/a"), Target::Here);
    }

    #[test]
    fn the_local_field_is_read_as_go_reads_it() {
        assert!(says_local(br#"{"Local": true}"#));
        assert!(says_local(br#"{"local": true, "Description": "x"}"#));
        assert!(!says_local(br#"{"Local": false}"#));
        assert!(!says_local(br#"{}"#));
        assert!(!says_local(b"not json"));
    }
}
