//! `/v1/snapshot`: saving the whole state to a snapshot archive and restoring one.
//!
//! A restore is checked here (so that a bad file is refused with its reason and
//! nothing is proposed) and again when applied; it goes through Raft as one command,
//! so every server replaces its state at the same index.

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use proconsul_acl::Permission;
use proconsul_state::{BackupError, Command, CommandOutcome, State, Table};

use crate::http::context::Ctx;
use crate::http::error::ApiError;

/// The largest backup file accepted by `PUT /v1/snapshot`.
pub const MAX_BACKUP: usize = proconsul_state::MAX_BACKUP_SIZE;

/// `GET /v1/snapshot`: the snapshot archive (Consul's gzipped tar), with `X-Consul-Index`.
pub async fn save(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::snapshot())?;
    let (meta, backup) = ctx
        .blocking(&Table::ALL, |state| {
            (state.last_applied(), state.to_archive())
        })
        .await?;
    let mut response = backup.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    meta.write_headers(response.headers_mut());
    Ok(response)
}

/// `PUT /v1/snapshot`: replaces the state with the archive's (or a bare backup file's).
/// The log carries the backup itself, checked before it is proposed.
pub async fn restore(ctx: Ctx, body: Bytes) -> Result<Response, ApiError> {
    ctx.authz.require(Permission::snapshot())?;
    let refused =
        |error: BackupError| ApiError::bad_request(format!("Snapshot restore failed: {error}"));
    let backup = State::backup_in(&body, MAX_BACKUP).map_err(refused)?;
    let (meta, _) = State::from_backup(&backup).map_err(refused)?;
    tracing::info!(
        index = meta.index,
        bytes = backup.len(),
        "restoring a snapshot"
    );
    let applied = ctx
        .agent
        .consensus()?
        .write(Command::Restore(backup.into_owned()))
        .await?;
    match applied.outcome {
        CommandOutcome::Rejected(reason) => Err(ApiError::internal(format!(
            "Snapshot restore failed: {reason}"
        ))),
        _ => Ok(().into_response()),
    }
}
