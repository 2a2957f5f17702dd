//! `/v1/acl/*` and `PUT /v1/agent/token/*`: the routes, and what every ACL endpoint
//! shares. With ACLs disabled Consul answers each of them 401 `ACL support disabled`,
//! which clients rely on (py-consul's `ACLDisabled`).
//!
//! As in Consul, a refused ACL write is a 500 with the refusal as its plain-text body,
//! unless the text says `Permission denied` or `ACL not found`, which make it a 403
//! (`isForbidden` in Consul's HTTP layer); the endpoints that answer 404 or 400 say so
//! themselves. Every permission check goes through [`require_read`] and
//! [`require_write`], the one place the ACL endpoints ask for `acl:read`/`acl:write`.

use crate::telemetry::timed_routes::{TimedRoutes, any, get, post, put};
use axum::Router;
use axum::http::StatusCode;
use proconsul_acl::{Access, Permission};
use proconsul_api::go_time::GoTime;
use proconsul_state::{Command, CommandOutcome, looks_like_uuid};

use crate::acl::AclRefusal;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::{
    AppState, acl_auth, acl_binding_rule, acl_bootstrap, acl_policy, acl_replica_source, acl_role,
    acl_templated, acl_token, agent_token,
};

/// The ACL routes: the real endpoints with ACLs enabled, else 401 on every one of them.
pub fn routes(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new()
            .timed_route("/v1/agent/token/{*kind}", put(disabled))
            .timed_route("/v1/acl/{*rest}", any(disabled));
    }
    Router::new()
        .timed_route("/v1/acl/bootstrap", put(acl_bootstrap::bootstrap))
        .timed_route("/v1/acl/replication", get(acl_bootstrap::replication))
        .timed_route(
            "/v1/internal/acl/replicate/{kind}",
            get(acl_replica_source::replica_set),
        )
        .timed_route("/v1/acl/tokens", get(acl_token::list))
        .timed_route("/v1/acl/token", put(acl_token::create))
        .timed_route("/v1/acl/token/self", get(acl_token::read_self))
        .timed_route(
            "/v1/acl/token/{id}",
            get(acl_token::read)
                .put(acl_token::update)
                .delete(acl_token::delete),
        )
        .timed_route("/v1/acl/token/{id}/clone", put(acl_token::clone))
        .timed_route("/v1/acl/policies", get(acl_policy::list))
        .timed_route("/v1/acl/policy", put(acl_policy::create))
        .timed_route("/v1/acl/policy/name/{*name}", get(acl_policy::read_by_name))
        .timed_route(
            "/v1/acl/policy/{id}",
            get(acl_policy::read)
                .put(acl_policy::update)
                .delete(acl_policy::delete),
        )
        .timed_route("/v1/acl/roles", get(acl_role::list))
        .timed_route("/v1/acl/role", put(acl_role::create))
        .timed_route("/v1/acl/role/name/{*name}", get(acl_role::read_by_name))
        .timed_route(
            "/v1/acl/role/{id}",
            get(acl_role::read)
                .put(acl_role::update)
                .delete(acl_role::delete),
        )
        .timed_route("/v1/acl/templated-policies", get(acl_templated::list))
        .timed_route(
            "/v1/acl/templated-policy/name/{*name}",
            get(acl_templated::read),
        )
        .timed_route(
            "/v1/acl/templated-policy/preview/{*name}",
            post(acl_templated::preview),
        )
        .timed_route("/v1/acl/auth-methods", get(acl_auth::list_methods))
        .timed_route("/v1/acl/auth-method", put(acl_auth::create_method))
        .timed_route(
            "/v1/acl/auth-method/{name}",
            get(acl_auth::read_method)
                .put(acl_auth::update_method)
                .delete(acl_auth::delete_method),
        )
        .timed_route("/v1/acl/binding-rules", get(acl_binding_rule::list))
        .timed_route("/v1/acl/binding-rule", put(acl_binding_rule::create))
        .timed_route(
            "/v1/acl/binding-rule/{id}",
            get(acl_binding_rule::read)
                .put(acl_binding_rule::update)
                .delete(acl_binding_rule::delete),
        )
        .timed_route("/v1/acl/login", post(acl_auth::login))
        .timed_route("/v1/acl/logout", post(acl_auth::logout))
        .timed_route("/v1/agent/token/{*kind}", put(agent_token::set))
}

/// Every ACL endpoint, with ACLs disabled.
pub async fn disabled() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "ACL support disabled")
}

/// `acl:read`, or Consul's 403 naming the token.
pub fn require_read(ctx: &Ctx) -> Result<(), AclRefusal> {
    ctx.authz.require(Permission::acl(Access::Read))
}

/// `acl:write`, or Consul's 403 naming the token.
pub fn require_write(ctx: &Ctx) -> Result<(), AclRefusal> {
    ctx.authz.require(Permission::acl(Access::Write))
}

/// A refusal as Consul's HTTP layer reports an RPC error: 403 when the text says
/// `Permission denied` or `ACL not found`, else 500.
pub fn refused(reason: String) -> ApiError {
    let status = if reason.contains("Permission denied") || reason.contains("ACL not found") {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    ApiError::new(status, reason)
}

/// Commits an ACL command; a refusal by the state machine becomes [`refused`]'s answer.
pub async fn apply(ctx: &Ctx, command: Command) -> Result<CommandOutcome, ApiError> {
    match ctx.agent.consensus()?.write(command).await?.outcome {
        CommandOutcome::Rejected(reason) => Err(refused(reason)),
        outcome => Ok(outcome),
    }
}

/// The proposer's clock, which token writes carry.
pub fn now() -> GoTime {
    GoTime::from(std::time::SystemTime::now())
}

/// A new random ID for a token, policy, role or binding rule.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Consul looks objects up in UUID indexes, which refuse anything else with a 500
/// (`failed acl token lookup: index error: UUID must be 36 characters`).
pub fn check_uuid(what: &str, id: &str) -> Result<(), ApiError> {
    if looks_like_uuid(id) {
        return Ok(());
    }
    let reason = if id.len() == 36 {
        "UUID could not be decoded"
    } else {
        "UUID must be 36 characters"
    };
    Err(ApiError::internal(format!(
        "failed acl {what} lookup: index error: {reason}"
    )))
}

/// The secret the request acts with: its own token, else the agent's default token.
pub fn request_secret(ctx: &Ctx) -> Option<String> {
    ctx.options
        .token
        .0
        .clone()
        .filter(|secret| !secret.is_empty())
        .or_else(|| ctx.agent.acl_tokens.default_token())
}
