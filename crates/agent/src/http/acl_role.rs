//! `/v1/acl/role{,s}`: create, read by ID or name, update, delete and list
//! (`?policy=<id>`), with Consul's texts: a missing role reads as 404
//! `Requested role does not exist: ACL not found` and deletes as 404
//! `Cannot find role to delete`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_api::acl::AclRole;
use proconsul_state::{
    ACL_ROLE_DELETE_NOT_FOUND, AclOutcome, AclWriteOp, Command, CommandOutcome, State, Table,
};

use crate::http::acl::{apply, check_uuid, new_id, require_read, require_write};
use crate::http::acl_decode::decode_strict;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json};
use crate::telemetry::Timer;

const DECODING_FAILED: &str = "Role decoding failed";
const NOT_FOUND: &str = "Requested role does not exist: ACL not found";
const ID_MISMATCH: &str = "Role ID in URL and payload do not match";

/// `PUT /v1/acl/role`: a new role (Consul compares the body's ID with the empty path
/// ID, so any ID is a mismatch).
pub async fn create(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    let mut role: AclRole = decode_strict(&body, DECODING_FAILED)?;
    if !role.id.is_empty() {
        return Err(ApiError::bad_request(ID_MISMATCH));
    }
    role.id = new_id();
    write(ctx, AclWriteOp::Create, role).await
}

/// `PUT /v1/acl/role/:id`.
pub async fn update(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let mut role: AclRole = decode_strict(&body, DECODING_FAILED)?;
    if role.id.is_empty() {
        role.id = id;
    } else if role.id != id {
        return Err(ApiError::bad_request(ID_MISMATCH));
    }
    write(ctx, AclWriteOp::Update, role).await
}

async fn write(ctx: Ctx, op: AclWriteOp, role: AclRole) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.role_upsert);
    require_write(&ctx)?;
    let command = Command::AclRoleSet {
        op,
        role: Box::new(role),
    };
    match apply(&ctx, command).await? {
        CommandOutcome::Acl(AclOutcome::Role(role)) => Ok(json(&role, ctx.options.pretty)),
        other => Err(ApiError::internal(format!(
            "unexpected outcome of a role write: {other:?}"
        ))),
    }
}

/// `GET /v1/acl/role/:id`.
pub async fn read(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    check_uuid("role", &id)?;
    answer_one(&ctx, |state| state.acl_role(&id)).await
}

/// `GET /v1/acl/role/name/:name`.
pub async fn read_by_name(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    answer_one(&ctx, |state| state.acl_role_by_name(&name)).await
}

/// A role's answer depends on the policies its links name, so both tables wake it.
const ROLE_TABLES: [Table; 2] = [Table::AclRoles, Table::AclPolicies];

fn roles_index(state: &State) -> u64 {
    let indexes = state.table_indexes();
    indexes
        .get(Table::AclRoles)
        .max(indexes.get(Table::AclPolicies))
}

async fn answer_one(
    ctx: &Ctx,
    find: impl Fn(&State) -> Option<AclRole>,
) -> Result<Response, ApiError> {
    let (meta, role) = ctx
        .blocking(&ROLE_TABLES, |state| (roles_index(state), find(state)))
        .await?;
    let role = role.ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    Ok(query_json(&meta, &role, ctx.options.pretty))
}

/// `DELETE /v1/acl/role/:id`: `true`.
pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    let _timer = Timer::start(&ctx.agent.metrics.acl.role_delete);
    require_write(&ctx)?;
    check_uuid("role", &id)?;
    match apply(&ctx, Command::AclRoleDelete { id }).await {
        Ok(_) => Ok(json(&true, ctx.options.pretty)),
        Err(error) if error.message == ACL_ROLE_DELETE_NOT_FOUND => {
            Err(ApiError::not_found(error.message))
        }
        Err(error) => Err(error),
    }
}

/// `GET /v1/acl/roles`: full roles, `[]` when there are none.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let policy = ctx
        .params
        .get("policy")
        .filter(|policy| !policy.is_empty())
        .map(str::to_string);
    let (meta, roles) = ctx
        .blocking(&ROLE_TABLES, |state| {
            (roles_index(state), state.acl_roles(policy.as_deref()))
        })
        .await?;
    Ok(query_json(&meta, &roles, ctx.options.pretty))
}
