//! `/v1/kv`: reads (exact, `?recurse`, `?keys`, `?raw`), writes with `?cas` and `?flags`,
//! and deletes. Keys may be any UTF-8, including `/` and an empty key at the root.

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proconsul_acl::{Access, Authorize, Permission};
use proconsul_state::{Command, CommandOutcome, KvCommand, KvOp, Table};

use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::{json, query_json, query_not_found};
use crate::sessions;

/// `GET /v1/kv/` (the root).
pub async fn get_root(ctx: Ctx) -> Result<Response, ApiError> {
    read(ctx, String::new()).await
}

/// `GET /v1/kv/:key`.
pub async fn get(ctx: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    read(ctx, key).await
}

async fn read(ctx: Ctx, key: String) -> Result<Response, ApiError> {
    let pretty = ctx.options.pretty;
    // With `acl.enable_key_list_policy`, listing a prefix takes `key:list` on it.
    let listing = ctx.params.get("keys").is_some() || ctx.params.flag("recurse");
    if listing && ctx.agent.config.acl.enable_key_list_policy {
        ctx.authz.require(Permission::key(Access::List, &key))?;
    }
    if ctx.params.get("keys").is_some() {
        let separator = ctx.params.get("separator").map(str::to_string);
        let (meta, keys) = ctx
            .blocking(&[Table::Kvs], |state| {
                let keys: Vec<String> = state
                    .kv_keys(&key, separator.as_deref())
                    .into_iter()
                    .filter(|key| ctx.authz.keep(ctx.authz.key_read(key)))
                    .collect();
                (state.table_indexes().kvs, keys)
            })
            .await?;
        return Ok(if keys.is_empty() {
            query_not_found(&meta)
        } else {
            query_json(&meta, &keys, pretty)
        });
    }
    if ctx.params.flag("recurse") {
        let (meta, entries) = ctx
            .blocking(&[Table::Kvs], |state| {
                let entries: Vec<_> = state
                    .kv_list(&key)
                    .into_iter()
                    .filter(|entry| ctx.authz.keep(ctx.authz.key_read(&entry.key)))
                    .collect();
                (state.table_indexes().kvs, entries)
            })
            .await?;
        return Ok(if entries.is_empty() {
            query_not_found(&meta)
        } else {
            query_json(&meta, &entries, pretty)
        });
    }
    // One key is refused (403), not hidden, as Consul does.
    ctx.authz.require(Permission::key(Access::Read, &key))?;
    let (meta, entry) = ctx
        .blocking(&[Table::Kvs], |state| {
            let entry = state.kv_get(&key).cloned();
            (state.table_indexes().kvs, entry)
        })
        .await?;
    let Some(entry) = entry else {
        return Ok(query_not_found(&meta));
    };
    if ctx.params.flag("raw") {
        // Served as opaque bytes, never as HTML a browser would render (CVE-2020-25864).
        let mut response = Body::from(entry.value.clone().unwrap_or_default()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        meta.write_headers(headers);
        return Ok(response);
    }
    Ok(query_json(&meta, &[entry], pretty))
}

/// `PUT /v1/kv/` (the root): Consul refuses a write without a key.
pub async fn put_root(_ctx: Ctx) -> ApiError {
    ApiError::bad_request("Missing key name")
}

/// `PUT /v1/kv/:key`: the raw body is the value; answers `true` or `false`.
pub async fn put(ctx: Ctx, Path(key): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let op = match (ctx.params.get("acquire"), ctx.params.get("release")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "Conflicting flags: acquire and release",
            ));
        }
        (Some(session), None) => KvOp::Acquire(session.to_string()),
        (None, Some(session)) => KvOp::Release(session.to_string()),
        (None, None) => KvOp::Set,
    };
    let max = ctx.agent.config.kv_max_value_size;
    if body.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Request body({} bytes) too large, max size: {max} bytes. See https://developer.hashicorp.com/consul/docs/agent/config/config-files#kv_max_value_size.",
                body.len()
            ),
        ));
    }
    let flags = ctx.params.u64("flags", "flags")?.unwrap_or(0);
    let cas = ctx.params.u64("cas", "cas index")?;
    ctx.authz.require(Permission::key(Access::Write, &key))?;
    // Lock delay: after a session holding this key ended, nobody may take it until the
    // delay passes. The leader's clock decides, as in Consul.
    if matches!(op, KvOp::Acquire(_))
        && let Some(until) = ctx
            .agent
            .consensus()?
            .reader()
            .current()
            .lock_delay_until(&key)
        && sessions::now_ms() < until
    {
        return Ok(json(&false, ctx.options.pretty));
    }
    write(
        &ctx,
        KvCommand {
            op,
            key,
            value: body.to_vec(),
            flags,
            cas,
        },
    )
    .await
}

/// `DELETE /v1/kv/` (the root): only a recursive delete of everything makes sense.
pub async fn delete_root(ctx: Ctx) -> Result<Response, ApiError> {
    if !ctx.params.flag("recurse") {
        return Err(ApiError::bad_request("Missing key name"));
    }
    delete(ctx, Path(String::new())).await
}

/// `DELETE /v1/kv/:key` (`?recurse` for a prefix, `?cas` for a conditional delete).
pub async fn delete(ctx: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    let recurse = ctx.params.flag("recurse");
    let cas = ctx.params.u64("cas", "cas index")?;
    if recurse && cas.is_some() {
        return Err(ApiError::bad_request("Conflicting flags: cas and recurse"));
    }
    ctx.authz.require(Permission::key(Access::Write, &key))?;
    write(
        &ctx,
        KvCommand {
            op: if recurse {
                KvOp::DeleteTree
            } else {
                KvOp::Delete
            },
            key,
            value: Vec::new(),
            flags: 0,
            cas,
        },
    )
    .await
}

async fn write(ctx: &Ctx, command: KvCommand) -> Result<Response, ApiError> {
    let _timer = crate::telemetry::Timer::start(&ctx.agent.metrics.kvs_apply);
    let applied = ctx.agent.consensus()?.write(Command::Kv(command)).await?;
    match applied.outcome {
        CommandOutcome::Applied(done) => Ok(json(&done, ctx.options.pretty)),
        CommandOutcome::Done | CommandOutcome::Txn(_) | CommandOutcome::Acl(_) => {
            Ok(json(&true, ctx.options.pretty))
        }
        CommandOutcome::Rejected(reason) => Err(ApiError::internal(reason)),
    }
}
