//! `GET /v1/internal/acl/replicate/:kind` (`policies`, `roles`, `tokens`): what a
//! secondary datacenter's leader replicates from this (primary) datacenter, as stored
//! (links by ID), postcard-encoded for `acl_replication.rs`. A blocking query on the
//! kind's table; policies and roles need `acl:read`, tokens `acl:write` (they carry
//! their secrets), as Consul asks of its replication token. Not one of Consul's
//! endpoints: only Proconsul servers call it.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use proconsul_state::AclReplicatedKind;

use crate::http::acl::{require_read, require_write};
use crate::http::context::Ctx;
use crate::http::error::ApiError;

/// The handler.
pub async fn replica_set(ctx: Ctx, Path(kind): Path<String>) -> Result<Response, ApiError> {
    let kind = AclReplicatedKind::parse(&kind)
        .ok_or_else(|| ApiError::not_found(format!("unknown replicated kind {kind:?}")))?;
    match kind {
        AclReplicatedKind::Tokens => require_write(&ctx)?,
        AclReplicatedKind::Policies | AclReplicatedKind::Roles => require_read(&ctx)?,
    }
    let table = kind.table();
    let (meta, set) = ctx
        .blocking(&[table], |state| {
            (
                state.table_indexes().get(table),
                state.acl_replica_set(kind),
            )
        })
        .await?;
    let encoded = postcard::to_allocvec(&set)
        .map_err(|error| ApiError::internal(format!("cannot encode the ACL objects: {error}")))?;
    let mut response = Response::new(Body::from(encoded));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    meta.write_headers(response.headers_mut());
    Ok(response)
}
