//! The per-request context: the agent, the parsed query string and options, and the
//! caller's authorizer, extracted once for every handler.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::acl::Authorizer;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::query::{QueryOptions, QueryParams};

/// Everything a handler needs besides its path and body.
pub struct Ctx {
    pub agent: AppState,
    pub params: QueryParams,
    pub options: QueryOptions,
    pub authz: Authorizer,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, agent: &AppState) -> Result<Ctx, ApiError> {
        let params = QueryParams::parse(parts.uri.query())?;
        let options = QueryOptions::parse(&params, &parts.headers, &agent.config)?;
        if params
            .get("filter")
            .is_some_and(|filter| !filter.is_empty())
        {
            return Err(ApiError::bad_request(
                "Failed to create boolean expression evaluator: ?filter is not supported by this version of Proconsul",
            ));
        }
        let authz = Authorizer::resolve(options.token.clone());
        Ok(Ctx {
            agent: agent.clone(),
            params,
            options,
            authz,
        })
    }
}
