//! `/v1/acl/token*`: create, read (`?expanded`), `self`, update, clone, delete and list
//! (`?policy`, `?role`, `?authmethod`, `?servicename`), with Consul's texts and codes.
//!
//! Reads need `acl:read` and show secrets only to callers that also have `acl:write`;
//! writes need `acl:write`. A missing token reads as 403 `ACL not found` (Consul's
//! token RPC answers it so; py-consul relies on it not being a 404).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_acl::{Authorize, NodeIdentity, ServiceIdentity, SyntheticPolicy, TemplatedPolicy};
use proconsul_api::acl::{AclPolicy, AclToken};
use proconsul_state::{
    AclOutcome, AclTokenFilter, AclTokenOp, AclTokenWrite, Command, CommandOutcome, State, Table,
};

use crate::http::acl::{
    apply, check_uuid, new_id, now, request_secret, require_read, require_write,
};
use crate::http::acl_decode::decode_strict;
use crate::http::acl_token_answer::{ExpandedInfo, TokenAnswer};
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};
use crate::telemetry::Timer;

const DECODING_FAILED: &str = "Token decoding failed";

/// The token a write answered with.
fn written(outcome: CommandOutcome) -> Result<Arc<AclToken>, ApiError> {
    match outcome {
        CommandOutcome::Acl(AclOutcome::Token(token)) => Ok(token),
        other => Err(ApiError::internal(format!(
            "unexpected outcome of a token write: {other:?}"
        ))),
    }
}

/// Answers a written token.
fn answer(ctx: &Ctx, token: &AclToken) -> Response {
    json(&TokenAnswer::new(token), ctx.options.pretty)
}

/// `PUT /v1/acl/token`: a new token; the AccessorID and SecretID are generated unless
/// given.
pub async fn create(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.token_upsert);
    let mut token: AclToken = decode_strict(&body, DECODING_FAILED)?;
    require_write(&ctx)?;
    if token.accessor_id.is_empty() {
        token.accessor_id = new_id();
    }
    if token.secret_id.is_empty() {
        token.secret_id = new_id();
    }
    let write = AclTokenWrite {
        op: AclTokenOp::Create,
        token,
        now: now(),
    };
    let token = written(apply(&ctx, Command::AclTokenSet(Box::new(write))).await?)?;
    Ok(answer(&ctx, &token))
}

/// `PUT /v1/acl/token/:accessor`: the body's AccessorID, if any, must be the path's.
pub async fn update(
    ctx: Ctx,
    Path(accessor_id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.token_upsert);
    let mut token: AclToken = decode_strict(&body, DECODING_FAILED)?;
    if token.accessor_id.is_empty() {
        token.accessor_id = accessor_id.clone();
    }
    if token.accessor_id != accessor_id {
        return Err(ApiError::bad_request(
            "Token Accessor ID in URL and payload do not match",
        ));
    }
    require_write(&ctx)?;
    let write = AclTokenWrite {
        op: AclTokenOp::Update,
        token,
        now: now(),
    };
    let token = written(apply(&ctx, Command::AclTokenSet(Box::new(write))).await?)?;
    Ok(answer(&ctx, &token))
}

/// `PUT /v1/acl/token/:accessor/clone`: a new token with the source's privileges and
/// the body's `Description` (else the source's).
pub async fn clone(
    ctx: Ctx,
    Path(source): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.token_clone);
    let request: AclToken = decode_strict(&body, DECODING_FAILED)?;
    require_write(&ctx)?;
    check_uuid("token", &source)?;
    let write = AclTokenWrite {
        op: AclTokenOp::Clone {
            source_accessor_id: source,
        },
        token: AclToken {
            accessor_id: new_id(),
            secret_id: new_id(),
            description: request.description,
            ..AclToken::default()
        },
        now: now(),
    };
    let token = written(apply(&ctx, Command::AclTokenSet(Box::new(write))).await?)?;
    Ok(answer(&ctx, &token))
}

/// `DELETE /v1/acl/token/:accessor`: `true`, also for a token that does not exist.
pub async fn delete(ctx: Ctx, Path(accessor_id): Path<String>) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.token_delete);
    require_write(&ctx)?;
    if !proconsul_state::looks_like_uuid(&accessor_id) {
        return Err(ApiError::internal(
            "Accessor ID is missing or an invalid UUID",
        ));
    }
    let state = ctx.agent.consensus()?.reader().current();
    if let Some(target) = state.acl_token(&accessor_id)
        && request_secret(&ctx).as_deref() == Some(target.secret_id.as_str())
    {
        return Err(ApiError::internal(
            "Deletion of the request's authorization token is not permitted",
        ));
    }
    apply(&ctx, Command::AclTokenDelete { accessor_id }).await?;
    Ok(json(&true, ctx.options.pretty))
}

/// `GET /v1/acl/token/:accessor` (`?expanded` adds what the token grants).
pub async fn read(ctx: Ctx, Path(accessor_id): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    check_uuid("token", &accessor_id)?;
    let at = now();
    let (meta, token) = ctx
        .blocking(&[Table::AclTokens], |state| {
            let token = state
                .acl_token(&accessor_id)
                .filter(|token| !token.is_expired(at));
            (state.table_indexes().get(Table::AclTokens), token)
        })
        .await?;
    let token =
        token.ok_or_else(|| ApiError::new(axum::http::StatusCode::FORBIDDEN, "ACL not found"))?;
    let show_secret = ctx.authz.acl_write();
    if ctx.params.get("expanded").is_some() {
        let state = ctx.agent.consensus()?.reader().current();
        let info = expanded_info(&ctx, &state, &token);
        let answer = TokenAnswer::new(&token)
            .secret_shown(show_secret)
            .expanded(&info);
        return Ok(query_json(&meta, &answer, ctx.options.pretty));
    }
    let answer = TokenAnswer::new(&token).secret_shown(show_secret);
    Ok(query_json(&meta, &answer, ctx.options.pretty))
}

/// `GET /v1/acl/token/self`: the request's own token, which any valid secret may read.
pub async fn read_self(ctx: Ctx) -> Result<Response, ApiError> {
    let Some(secret) = request_secret(&ctx) else {
        return Err(ApiError::not_found("Supplied token does not exist"));
    };
    let at = now();
    let (meta, token) = ctx
        .blocking(&[Table::AclTokens], |state| {
            let token = state
                .acl_token_by_secret(&secret)
                .filter(|token| !token.is_expired(at));
            (state.table_indexes().get(Table::AclTokens), token)
        })
        .await?;
    let token =
        token.ok_or_else(|| ApiError::new(axum::http::StatusCode::FORBIDDEN, "ACL not found"))?;
    Ok(query_json(
        &meta,
        &TokenAnswer::new(&token),
        ctx.options.pretty,
    ))
}

/// `GET /v1/acl/tokens`: every unexpired token passing the filter (at most one), as
/// list entries.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let param = |name: &str| {
        ctx.params
            .get(name)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
    };
    let filter = AclTokenFilter {
        policy: param("policy"),
        role: param("role"),
        auth_method: param("authmethod"),
        service_name: param("servicename"),
        now: Some(now()),
    };
    let filters = [
        &filter.policy,
        &filter.role,
        &filter.auth_method,
        &filter.service_name,
    ];
    if filters.iter().filter(|filter| filter.is_some()).count() > 1 {
        return Err(ApiError::internal(
            "can only filter by one of policy, role, serviceName, or methodName at a time",
        ));
    }
    let (meta, tokens) = ctx
        .blocking(&[Table::AclTokens], |state| {
            (
                state.table_indexes().get(Table::AclTokens),
                state.acl_tokens(&filter),
            )
        })
        .await?;
    let mut stubs: Vec<_> = tokens.iter().map(AclToken::stub).collect();
    if !ctx.authz.acl_write() {
        for stub in &mut stubs {
            stub.secret_id = crate::http::acl_token_answer::REDACTED.to_string();
        }
    }
    Ok(query_json(&meta, &stubs, ctx.options.pretty))
}

/// `ExpandedTokenInfo`: the token's policies and roles, and the synthetic policies of
/// its identities and templated policies (those of its roles included).
fn expanded_info(ctx: &Ctx, state: &State, token: &AclToken) -> ExpandedInfo {
    let privileges = state.acl_token_privileges(token);
    let mut policies: Vec<AclPolicy> = privileges
        .policies
        .iter()
        .map(|policy| (**policy).clone())
        .collect();
    let synthetic = privileges
        .service_identities
        .iter()
        .map(|identity| {
            ServiceIdentity {
                service_name: identity.service_name.clone(),
                datacenters: identity.datacenters.clone(),
            }
            .synthetic_policy()
        })
        .chain(privileges.node_identities.iter().map(|identity| {
            NodeIdentity {
                node_name: identity.node_name.clone(),
                datacenter: identity.datacenter.clone(),
            }
            .synthetic_policy()
        }))
        .chain(
            privileges
                .templated_policies
                .iter()
                .filter_map(|templated| {
                    TemplatedPolicy {
                        template_name: templated.template_name.clone(),
                        name: templated
                            .template_variables
                            .as_ref()
                            .map(|variables| variables.name.clone()),
                        datacenters: templated.datacenters.clone(),
                    }
                    .synthetic_policy()
                    .ok()
                }),
        );
    policies.extend(synthetic.map(|policy| synthetic_as_policy(&policy)));
    let roles = token
        .roles
        .iter()
        .filter_map(|link| state.acl_role(&link.id))
        .collect();
    let config = &ctx.agent.config.acl;
    ExpandedInfo {
        policies,
        roles,
        default_policy: match config.default_policy {
            proconsul_acl::DefaultPolicy::Allow => "allow",
            proconsul_acl::DefaultPolicy::Deny => "deny",
        },
        down_policy: config.down_policy.as_str(),
        resolved_by: ctx.agent.node.name.clone(),
    }
}

/// A synthetic policy in `ACLPolicy`'s shape (the templated-policy preview's answer too).
pub fn synthetic_as_policy(policy: &SyntheticPolicy) -> AclPolicy {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for field in [&policy.name, &policy.description, &policy.rules] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    AclPolicy {
        id: policy.id.clone(),
        name: policy.name.clone(),
        description: policy.description.clone(),
        rules: policy.rules.clone(),
        datacenters: policy.datacenters.clone(),
        hash: Some(hasher.finalize().to_vec()),
        create_index: 0,
        modify_index: 0,
    }
}
