//! The per-request context: the agent, the parsed query string and options, and the
//! caller's authorizer, extracted once for every handler.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use proconsul_filter::Filter;
use serde::Serialize;

use crate::acl::{Authorizer, FilteredByAcls, Token};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::origin::Origin;
use crate::http::query::{QueryOptions, QueryParams};
use proconsul_api::AgentService;

/// Paths whose handlers check no permission, so the request's token is not resolved
/// (an unknown one would be refused).
const TOKENLESS_PATHS: [&str; 3] = ["/v1/acl/bootstrap", "/v1/status/", "/v1/agent/version"];

/// Everything a handler needs besides its path and body.
pub struct Ctx {
    pub agent: AppState,
    pub params: QueryParams,
    pub options: QueryOptions,
    pub authz: Authorizer,
    /// `?filter=`: evaluated against each result item as the endpoint returns it.
    pub filter: Option<Filter>,
    /// The client agent that forwarded the request, if one did.
    pub origin: Option<Origin>,
}

impl Ctx {
    /// The node of the agent the request was made to: the forwarding client's, else
    /// this agent's.
    pub fn agent_node(&self) -> &str {
        self.origin
            .as_ref()
            .map_or(self.agent.node.name.as_str(), |origin| origin.node.as_str())
    }

    /// The services of the agent the request was made to (as [`Ctx::agent_node`]).
    pub fn agent_services(&self) -> Vec<AgentService> {
        match &self.origin {
            Some(origin) => origin.services.clone(),
            None => self.agent.local.services().into_values().collect(),
        }
    }

    /// Whether `item` passes the request's `?filter` (always, without one).
    pub fn keep<T: Serialize>(&self, item: &T) -> bool {
        match &self.filter {
            None => true,
            Some(filter) => serde_json::to_value(item).is_ok_and(|value| filter.matches(&value)),
        }
    }
}

/// Whether the request's path is one whose handler checks no permission.
fn tokenless(parts: &Parts) -> bool {
    TOKENLESS_PATHS
        .iter()
        .any(|prefix| parts.uri.path().starts_with(prefix))
}

/// The token the request is authorized with. Endpoints that need no token answer
/// whatever token is sent, as in Consul (bootstrapping is done with any stale token
/// still set).
fn request_token(parts: &Parts, options: &QueryOptions) -> Token {
    if tokenless(parts) {
        Token::default()
    } else {
        options.token.clone()
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, agent: &AppState) -> Result<Ctx, ApiError> {
        let params = QueryParams::parse(parts.uri.query())?;
        let options = QueryOptions::parse(&params, &parts.headers, &agent.config)?;
        let filter = match params
            .get("filter")
            .filter(|filter| !filter.trim().is_empty())
        {
            Some(expression) => Some(
                Filter::parse(expression)
                    .map_err(|error| ApiError::bad_request(error.to_string()))?,
            ),
            None => None,
        };
        let filtered = || {
            parts
                .extensions
                .get::<FilteredByAcls>()
                .cloned()
                .unwrap_or_default()
        };
        let authz = match (&agent.acl_resolver, &agent.client_acl) {
            (None, _) => Authorizer::allow_all(),
            // Nothing is checked there: a client need not ask its servers (which may
            // be unreachable) for `/v1/agent/version`.
            (Some(_), Some(_)) if tokenless(parts) => Authorizer::allow_all(),
            // A client agent asks its servers.
            (Some(_), Some(client_acl)) => {
                let token = request_token(parts, &options);
                Authorizer::resolve_through_servers(client_acl, &token, filtered()).await?
            }
            (Some(resolver), None) => {
                let token = request_token(parts, &options);
                let filtered = filtered();
                let here = agent.consensus()?.reader().with_current(|state| {
                    Authorizer::resolve(resolver, state, &token, filtered.clone())
                });
                match (here, &agent.primary_acl) {
                    // A secondary without token replication: the primary may hold it.
                    (Err(_), Some(primary)) => {
                        Authorizer::resolve_through_servers(primary, &token, filtered).await?
                    }
                    (here, _) => here?,
                }
            }
        };
        Ok(Ctx {
            agent: agent.clone(),
            params,
            options,
            authz,
            filter,
            origin: parts.extensions.get::<Origin>().cloned(),
        })
    }
}
