//! `/v1/acl/polic{y,ies}`: create, read by ID or name, update, delete and list.
//!
//! A policy's `Rules` (HCL or JSON text) are checked with the ACL engine before the
//! write is proposed, and refused with Consul's rule-error text; they are stored as
//! sent. A missing policy reads as 404 `Requested policy does not exist: ACL not found`
//! and deletes as 404 `Cannot find policy to delete`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_api::acl::AclPolicy;
use proconsul_state::{
    ACL_POLICY_DELETE_NOT_FOUND, AclOutcome, AclWriteOp, Command, CommandOutcome, Table,
};

use crate::http::acl::{apply, check_uuid, new_id, refused, require_read, require_write};
use crate::http::acl_decode::decode_strict;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};
use crate::telemetry::Timer;

const DECODING_FAILED: &str = "Policy decoding failed";
const NOT_FOUND: &str = "Requested policy does not exist: ACL not found";

/// `PUT /v1/acl/policy`: a new policy (its ID is chosen here).
pub async fn create(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let mut policy: AclPolicy = decode_strict(&body, DECODING_FAILED)?;
    if !policy.id.is_empty() {
        return Err(ApiError::bad_request(
            "Cannot specify the ID when creating a new policy",
        ));
    }
    policy.id = new_id();
    write(ctx, AclWriteOp::Create, policy).await
}

/// `PUT /v1/acl/policy/:id`: the body's ID, if any, must be the path's.
pub async fn update(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let mut policy: AclPolicy = decode_strict(&body, DECODING_FAILED)?;
    if policy.id.is_empty() {
        policy.id = id;
    } else if policy.id != id {
        return Err(ApiError::bad_request(
            "Policy ID in URL and payload do not match",
        ));
    }
    write(ctx, AclWriteOp::Update, policy).await
}

async fn write(ctx: Ctx, op: AclWriteOp, policy: AclPolicy) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.policy_upsert);
    require_write(&ctx)?;
    proconsul_acl::parse_rules(&policy.rules).map_err(|error| refused(error.to_string()))?;
    let command = Command::AclPolicySet {
        op,
        policy: Box::new(policy),
    };
    match apply(&ctx, command).await? {
        CommandOutcome::Acl(AclOutcome::Policy(policy)) => Ok(json(&policy, ctx.options.pretty)),
        other => Err(ApiError::internal(format!(
            "unexpected outcome of a policy write: {other:?}"
        ))),
    }
}

/// `GET /v1/acl/policy/:id`.
pub async fn read(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    check_uuid("policy", &id)?;
    answer_one(&ctx, |state| state.acl_policy(&id).cloned()).await
}

/// `GET /v1/acl/policy/name/:name` (built-in names contain `/`).
pub async fn read_by_name(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    answer_one(&ctx, |state| state.acl_policy_by_name(&name).cloned()).await
}

async fn answer_one(
    ctx: &Ctx,
    find: impl Fn(&proconsul_state::State) -> Option<Arc<AclPolicy>>,
) -> Result<Response, ApiError> {
    let (meta, policy) = ctx
        .blocking(&[Table::AclPolicies], |state| {
            (state.table_indexes().get(Table::AclPolicies), find(state))
        })
        .await?;
    let policy = policy.ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    Ok(query_json(&meta, &policy, ctx.options.pretty))
}

/// `DELETE /v1/acl/policy/:id`: `true`.
pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.policy_delete);
    require_write(&ctx)?;
    check_uuid("policy", &id)?;
    match apply(&ctx, Command::AclPolicyDelete { id }).await {
        Ok(_) => Ok(json(&true, ctx.options.pretty)),
        Err(error) if error.message == ACL_POLICY_DELETE_NOT_FOUND => {
            Err(ApiError::not_found(error.message))
        }
        Err(error) => Err(error),
    }
}

/// `GET /v1/acl/policies`: list entries (no rules), `[]` when there are none.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let (meta, stubs) = ctx
        .blocking(&[Table::AclPolicies], |state| {
            let stubs: Vec<_> = state.acl_policies().map(|policy| policy.stub()).collect();
            (state.table_indexes().get(Table::AclPolicies), stubs)
        })
        .await?;
    Ok(query_json(&meta, &stubs, ctx.options.pretty))
}
